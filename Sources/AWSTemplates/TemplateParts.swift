import Foundation
import Stack

/// Resources several stack kinds share, written one way.
enum TemplateParts {
    /// `[{Key, Value}]` tags, sorted by key.
    static func tags(_ settings: AWSSettings, _ kind: StackKind, name: String? = nil) -> TemplateValue {
        var all = settings.resourceTags(for: kind)
        if let name { all.append((key: "Name", value: name)); all.sort { $0.key < $1.key } }
        return .array(all.map { ["Key": .string($0.key), "Value": .string($0.value)] })
    }

    static func logGroup(name: String, retentionDays: Int, tags: TemplateValue) -> CloudFormationTemplate.Resource {
        // Explicitly deleted with the stack: the retention already bounds how long logs live.
        .init("AWS::Logs::LogGroup", properties: ["LogGroupName": .string(name), "RetentionInDays": .int(retentionDays), "Tags": tags],
              deletionPolicy: "Delete", updateReplacePolicy: "Delete")
    }

    /// A private, encrypted bucket owned by its account, with optional expiry and versioning.
    static func privateBucket(
        nameSub: String, expireAfterDays: Int?, versioning: Bool, tags: TemplateValue,
        extra: [String: TemplateValue] = [:], dependsOn: [String] = []
    ) -> CloudFormationTemplate.Resource {
        var properties: [String: TemplateValue] = [
            "BucketName": .sub(nameSub),
            "BucketEncryption": ["ServerSideEncryptionConfiguration": [["ServerSideEncryptionByDefault": ["SSEAlgorithm": "AES256"], "BucketKeyEnabled": true]]],
            "PublicAccessBlockConfiguration": ["BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true],
            "OwnershipControls": ["Rules": [["ObjectOwnership": "BucketOwnerEnforced"]]],
            "Tags": tags,
        ]
        if versioning { properties["VersioningConfiguration"] = ["Status": "Enabled"] }
        if let days = expireAfterDays {
            var rule: [String: TemplateValue] = [
                "Id": "expire-objects", "Status": "Enabled", "ExpirationInDays": .int(days),
                "AbortIncompleteMultipartUpload": ["DaysAfterInitiation": .int(min(days, 7))],
            ]
            if versioning { rule["NoncurrentVersionExpiration"] = ["NoncurrentDays": .int(days)] }
            properties["LifecycleConfiguration"] = ["Rules": [.object(rule)]]
        }
        for (key, value) in extra { properties[key] = value }
        return .init("AWS::S3::Bucket", properties: properties, dependsOn: dependsOn)
    }

    /// A bucket policy that denies every request not made over TLS.
    static func denyInsecureTransport(bucketLogicalID: String) -> CloudFormationTemplate.Resource {
        let bucketArn = TemplateValue.getAtt(bucketLogicalID, "Arn")
        return .init("AWS::S3::BucketPolicy", properties: [
            "Bucket": .ref(bucketLogicalID),
            "PolicyDocument": IAMStatement.document([
                IAMStatement(
                    sid: "DenyInsecureTransport", effect: "Deny", actions: ["s3:*"],
                    resources: [bucketArn, .sub("${\(bucketLogicalID).Arn}/*")], principal: "*",
                    condition: ["Bool": ["aws:SecureTransport": "false"]])
            ]),
        ])
    }

    /// A role for `service` with one inline policy.
    static func role(
        name: String, service: String, policyName: String, statements: [IAMStatement], managedPolicies: [TemplateValue] = [],
        tags: TemplateValue, description: String
    ) -> CloudFormationTemplate.Resource {
        var properties: [String: TemplateValue] = [
            "RoleName": .string(name),
            "Description": .string(description),
            "AssumeRolePolicyDocument": IAMStatement.serviceTrust(service),
            "Tags": tags,
        ]
        if !statements.isEmpty {
            properties["Policies"] = [["PolicyName": .string(policyName), "PolicyDocument": IAMStatement.document(statements)]]
        }
        if !managedPolicies.isEmpty { properties["ManagedPolicyArns"] = .array(managedPolicies) }
        return .init("AWS::IAM::Role", properties: properties)
    }

    /// `value` as compact JSON text with sorted keys (for properties CloudFormation takes as a JSON string).
    static func compactJSON(_ value: TemplateValue) -> String {
        switch value {
        case .string(let s): return TemplateRendering.quoted(s)
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .array(let items): return "[" + items.map(compactJSON).joined(separator: ",") + "]"
        case .object(let members):
            let keys = members.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            return "{" + keys.map { TemplateRendering.quoted($0) + ":" + compactJSON(members[$0]!) }.joined(separator: ",") + "}"
        }
    }
}

extension TemplateParts {
    /// `text` as a literal inside an `Fn::Sub` string: `${` becomes `${!`.
    static func subEscaped(_ text: String) -> String { text.replacingOccurrences(of: "${", with: "${!") }
}
