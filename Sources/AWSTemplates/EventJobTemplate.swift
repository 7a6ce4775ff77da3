import Foundation
import Stack

/// The `event-job` template: uploads to an S3 bucket invoke a container-image Lambda function.
///
/// The bucket's notification needs the invoke permission to exist, and the permission names the
/// bucket. To avoid the cycle, the bucket's name is fixed in advance (`Fn::Sub` of project,
/// account and region), the permission and the role refer to that name rather than to the bucket
/// resource, and the bucket `DependsOn` the permission (the pattern AWS documents for S3
/// notifications).
enum EventJobTemplate {
    static func make(_ settings: AWSSettings, _ job: EventJobSettings) -> CloudFormationTemplate {
        let kind = StackKind.eventJob
        let names = ResourceNames(project: settings.project, kind: kind)
        let tags = TemplateParts.tags(settings, kind)
        let functionName = names.name(maxLength: 64)
        let bucketSub = names.bucketNameSub("uploads")
        let logGroupName = "/aws/lambda/\(functionName)"
        var resources: [String: CloudFormationTemplate.Resource] = [:]

        var rules: [TemplateValue] = []
        if let prefix = job.prefix { rules.append(["Name": "prefix", "Value": .string(prefix)]) }
        if let suffix = job.suffix { rules.append(["Name": "suffix", "Value": .string(suffix)]) }
        var notification: [String: TemplateValue] = ["Event": "s3:ObjectCreated:*", "Function": .getAtt("Function", "Arn")]
        if !rules.isEmpty { notification["Filter"] = ["S3Key": ["Rules": .array(rules)]] }
        resources["Bucket"] = TemplateParts.privateBucket(
            nameSub: bucketSub, expireAfterDays: job.expireAfterDays, versioning: false, tags: tags,
            extra: ["NotificationConfiguration": ["LambdaConfigurations": [.object(notification)]]],
            dependsOn: ["InvokePermission"])
        resources["BucketPolicy"] = TemplateParts.denyInsecureTransport(bucketLogicalID: "Bucket")

        resources["InvokePermission"] = .init("AWS::Lambda::Permission", properties: [
            "Action": "lambda:InvokeFunction",
            "FunctionName": .ref("Function"),
            "Principal": "s3.amazonaws.com",
            "SourceAccount": .accountId,
            "SourceArn": ARN.bucketSub(bucketSub),
        ])
        resources["LogGroup"] = TemplateParts.logGroup(name: logGroupName, retentionDays: job.logRetentionDays, tags: tags)
        resources["ExecutionRole"] = TemplateParts.role(
            name: names.name("function", maxLength: 64), service: "lambda.amazonaws.com", policyName: "job",
            statements: executionStatements(job, bucketSub: bucketSub),
            tags: tags,
            description: "Runs \(functionName): writes its logs and reads the uploads that trigger it"
                + (job.outputPrefix == nil ? "" : "; writes its results under one prefix"))

        var function: [String: TemplateValue] = [
            "FunctionName": .string(functionName),
            "Description": .string("Runs on every upload to the \(settings.project) event-job bucket"),
            "PackageType": "Image",
            "Code": ["ImageUri": .string(job.image)],
            "Role": .getAtt("ExecutionRole", "Arn"),
            "MemorySize": .int(job.memory),
            "Timeout": .int(job.timeoutSeconds),
            "Architectures": [.string(job.architecture)],
            "LoggingConfig": ["LogGroup": .ref("LogGroup"), "LogFormat": "Text"],
            "Tags": tags,
        ]
        var variables = job.environment.mapValues { TemplateValue.string($0) }
        if let output = job.outputPrefix {
            variables["OUTPUT_BUCKET"] = .sub(bucketSub)
            variables["OUTPUT_PREFIX"] = .string(output)
        }
        if !variables.isEmpty {
            function["Environment"] = ["Variables": .object(variables)]
        }
        resources["Function"] = .init("AWS::Lambda::Function", properties: function)

        return CloudFormationTemplate(
            description: "Stackship \(settings.project): uploads to an S3 bucket run a container-image Lambda function",
            resources: resources,
            outputs: [
                "BucketName": .init(.ref("Bucket"), description: "Upload here to run the job"),
                "FunctionArn": .init(.getAtt("Function", "Arn"), description: "The job's Lambda function"),
            ])
    }

    /// What a multipart upload needs beyond `s3:PutObject` (which covers CreateMultipartUpload,
    /// UploadPart and CompleteMultipartUpload): aborting one, and listing its parts (ListParts),
    /// as the AWS SDKs' transfer managers do. All of them are object-level, so they can be
    /// limited to the prefix.
    static let writeActions = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]

    /// The function role's statements: its own log group, reading the uploads that trigger it,
    /// and, with an output prefix, writing under that prefix of the same bucket only.
    static func executionStatements(_ job: EventJobSettings, bucketSub: String) -> [IAMStatement] {
        let objects = (job.prefix.map { TemplateParts.subEscaped($0) } ?? "") + "*"
        var statements = [
            IAMStatement(sid: "OwnLogGroup", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [.getAtt("LogGroup", "Arn")]),
            IAMStatement(sid: "ReadUploads", actions: ["s3:GetObject"], resources: [ARN.bucketSub(bucketSub, objects: objects)]),
        ]
        if let output = job.outputPrefix {
            statements.append(IAMStatement(sid: "WriteResults", actions: writeActions,
                                           resources: [ARN.bucketSub(bucketSub, objects: TemplateParts.subEscaped(output) + "*")]))
        }
        return statements
    }
}
