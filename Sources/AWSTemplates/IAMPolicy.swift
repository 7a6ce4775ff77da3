import Foundation
import Stack

/// One IAM policy statement, built as data so tests can read policies back.
public struct IAMStatement: Sendable, Hashable {
    /// `Allow` or `Deny`.
    public var effect: String
    /// The actions, `service:Action`.
    public var actions: [String]
    /// The resources (ARNs, often `Fn::Sub` / `Fn::GetAtt` values); empty for trust policies.
    public var resources: [TemplateValue]
    /// The principal, for trust and resource policies.
    public var principal: TemplateValue?
    /// The condition block.
    public var condition: TemplateValue?
    /// A statement ID.
    public var sid: String?

    /// An `Allow` statement unless `effect` says otherwise.
    public init(
        sid: String? = nil, effect: String = "Allow", actions: [String], resources: [TemplateValue] = [],
        principal: TemplateValue? = nil, condition: TemplateValue? = nil
    ) {
        self.sid = sid
        self.effect = effect
        self.actions = actions
        self.resources = resources
        self.principal = principal
        self.condition = condition
    }

    /// The statement as template data; one action or resource is written as a list all the same.
    public var templateValue: TemplateValue {
        var object: [String: TemplateValue] = ["Effect": .string(effect), "Action": .strings(actions)]
        if !resources.isEmpty { object["Resource"] = .array(resources) }
        if let principal { object["Principal"] = principal }
        if let condition { object["Condition"] = condition }
        if let sid { object["Sid"] = .string(sid) }
        return .object(object)
    }

    /// A policy document holding `statements`.
    public static func document(_ statements: [IAMStatement]) -> TemplateValue {
        ["Version": "2012-10-17", "Statement": .array(statements.map(\.templateValue))]
    }

    /// A trust policy letting `service` (e.g. `codebuild.amazonaws.com`) assume a role. Services that
    /// pass `aws:SourceAccount` when they assume a role (CodeBuild, ECS tasks) are limited to this
    /// account, against the confused-deputy problem; Lambda does not pass it, so it gets none.
    public static func serviceTrust(_ service: String) -> TemplateValue {
        let limited = service != "lambda.amazonaws.com"
        return document([
            IAMStatement(
                actions: ["sts:AssumeRole"], principal: ["Service": .string(service)],
                condition: limited ? ["StringEquals": ["aws:SourceAccount": .accountId]] : nil)
        ])
    }
}

/// ARNs the builders refer to by name (resources outside the stack, or inside it where a
/// reference would make a dependency cycle).
enum ARN {
    static func secret(_ nameOrArn: String) -> TemplateValue {
        // Secrets Manager appends "-" and 6 random characters to a secret's name in its ARN.
        if nameOrArn.hasPrefix("arn:") { return .string(nameOrArn.hasSuffix("-??????") ? nameOrArn : "\(nameOrArn)-??????") }
        return .sub("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:\(nameOrArn)-??????")
    }

    static func ecrRepository(_ name: String) -> TemplateValue {
        .sub("arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/\(name)")
    }

    static func codeBuildProject(_ name: String) -> TemplateValue {
        .sub("arn:${AWS::Partition}:codebuild:${AWS::Region}:${AWS::AccountId}:project/\(name)")
    }

    static func bucketSub(_ nameSub: String, objects: String? = nil) -> TemplateValue {
        .sub("arn:${AWS::Partition}:s3:::\(nameSub)" + (objects.map { "/\($0)" } ?? ""))
    }
}
