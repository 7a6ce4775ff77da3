import Foundation
import Stack

/// The `ci-build` and `release-build` templates: a CodeBuild project with batch builds, its
/// roles, artifacts bucket and log group; the CI one also has a branch-filtered webhook.
enum CodeBuildTemplate {
    static func make(_ settings: AWSSettings, _ build: CodeBuildSettings, kind: StackKind) -> CloudFormationTemplate {
        let names = ResourceNames(project: settings.project, kind: kind)
        let tags = TemplateParts.tags(settings, kind)
        let projectName = names.name(maxLength: 150)
        let logGroupName = "/stackship/\(settings.project)/\(kind.rawValue)"
        let retention = build.logRetentionDays ?? (kind == .ciBuild ? 14 : 90)
        let isCI = kind == .ciBuild

        var resources: [String: CloudFormationTemplate.Resource] = [:]
        resources["LogGroup"] = TemplateParts.logGroup(name: logGroupName, retentionDays: retention, tags: tags)
        resources["ArtifactsBucket"] = TemplateParts.privateBucket(
            nameSub: names.bucketNameSub(kind == .ciBuild ? "ci-artifacts" : "release-artifacts"),
            expireAfterDays: build.artifacts.expireAfterDays, versioning: build.artifacts.versioning, tags: tags)
        resources["ArtifactsBucketPolicy"] = TemplateParts.denyInsecureTransport(bucketLogicalID: "ArtifactsBucket")

        // The build's own role: its log group, its bucket, the named repositories and secrets.
        var statements = [
            IAMStatement(sid: "OwnLogGroup", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [.getAtt("LogGroup", "Arn")]),
            IAMStatement(sid: "OwnArtifactObjects", actions: ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], resources: [.sub("${ArtifactsBucket.Arn}/*")]),
            IAMStatement(sid: "OwnArtifactBucket", actions: ["s3:GetBucketAcl", "s3:GetBucketLocation"], resources: [.getAtt("ArtifactsBucket", "Arn")]),
        ]
        // A build image from ECR is pulled with the service role's credentials, so the role may
        // read (only) that repository; CodeBuild's curated and public images need nothing.
        let buildImageRepository = Self.ecrRepositoryARN(ofImage: build.environment.image)
        if !build.ecrRepositories.isEmpty || buildImageRepository != nil {
            statements.append(IAMStatement(sid: "EcrLogin", actions: ["ecr:GetAuthorizationToken"], resources: ["*"]))
        }
        if !build.ecrRepositories.isEmpty {
            statements.append(IAMStatement(
                sid: "EcrRepositories",
                actions: RegistryTemplate.pushActions,
                resources: build.ecrRepositories.sorted().map(ARN.ecrRepository)))
        }
        if let buildImageRepository {
            statements.append(IAMStatement(
                sid: "BuildImage", actions: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                resources: [.string(buildImageRepository)]))
        }
        // The stack's binary cache (ci.cache): the jobs fetch, push and collect its packages.
        if let cache = settings.binaryCacheURL.flatMap(Self.s3BucketAndPrefix) {
            statements.append(IAMStatement(
                sid: "BinaryCacheObjects", actions: ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                resources: [.sub("arn:${AWS::Partition}:s3:::\(cache.bucket)/\(cache.prefix)*")]))
            statements.append(IAMStatement(
                sid: "BinaryCacheListing", actions: ["s3:ListBucket"],
                resources: [.sub("arn:${AWS::Partition}:s3:::\(cache.bucket)")],
                condition: ["StringLike": ["s3:prefix": .string("\(cache.prefix)*")]]))
        }
        if !build.allSecrets.isEmpty {
            statements.append(IAMStatement(sid: "NamedSecrets", actions: ["secretsmanager:GetSecretValue"], resources: build.allSecrets.map(ARN.secret)))
        }
        resources["ServiceRole"] = TemplateParts.role(
            name: names.name("build", maxLength: 64), service: "codebuild.amazonaws.com", policyName: "build",
            statements: statements, tags: tags, description: "Runs the \(projectName) CodeBuild project's builds")
        // The batch role only starts, stops and retries builds of this one project.
        resources["BatchServiceRole"] = TemplateParts.role(
            name: names.name("batch", maxLength: 64), service: "codebuild.amazonaws.com", policyName: "batch",
            statements: [IAMStatement(sid: "OwnProjectBuilds", actions: ["codebuild:RetryBuild", "codebuild:StartBuild", "codebuild:StopBuild"], resources: [ARN.codeBuildProject(projectName)])],
            tags: tags, description: "Runs the \(projectName) CodeBuild project's batch builds")

        var source: [String: TemplateValue] = [
            "Type": .string(build.source.type), "Location": .string(build.source.location),
            "BuildSpec": .string(build.source.buildspec), "GitCloneDepth": 1,
        ]
        if isCI { source["ReportBuildStatus"] = true }
        let env = build.environment
        var variables: [TemplateValue] = env.variables.sorted { $0.key < $1.key }.map {
            ["Name": .string($0.key), "Type": "PLAINTEXT", "Value": .string($0.value)]
        }
        variables += env.secretVariables.sorted { $0.key < $1.key }.map {
            ["Name": .string($0.key), "Type": "SECRETS_MANAGER", "Value": .string($0.value)]
        }
        var environment: [String: TemplateValue] = [
            "Type": .string(env.type), "ComputeType": .string(env.computeType), "Image": .string(env.image),
            "PrivilegedMode": .bool(env.privilegedMode),
            "ImagePullCredentialsType": buildImageRepository == nil ? "CODEBUILD" : "SERVICE_ROLE",
        ]
        if !variables.isEmpty { environment["EnvironmentVariables"] = .array(variables) }

        var project: [String: TemplateValue] = [
            "Name": .string(projectName),
            "Description": .string(isCI ? "CI builds of \(settings.project) (pushes and pull requests)" : "Release builds of \(settings.project)"),
            "ServiceRole": .getAtt("ServiceRole", "Arn"),
            "Source": .object(source),
            "Environment": .object(environment),
            "Artifacts": ["Type": "S3", "Location": .ref("ArtifactsBucket"), "Name": .string(kind.rawValue), "NamespaceType": "BUILD_ID", "Packaging": "ZIP"],
            "LogsConfig": ["CloudWatchLogs": ["Status": "ENABLED", "GroupName": .ref("LogGroup")]],
            "TimeoutInMinutes": .int(build.timeoutMinutes),
            "BuildBatchConfig": [
                "ServiceRole": .getAtt("BatchServiceRole", "Arn"),
                "CombineArtifacts": false,
                "TimeoutInMins": .int(build.batch.timeoutMinutes ?? build.timeoutMinutes),
                "Restrictions": [
                    "MaximumBuildsAllowed": .int(build.batch.maxBuilds),
                    "ComputeTypesAllowed": .strings(build.batch.computeTypes.isEmpty ? [env.computeType] : build.batch.computeTypes.sorted()),
                ],
            ],
            "Tags": tags,
        ]
        if let version = build.source.version { project["SourceVersion"] = .string(version) }
        if isCI {
            let branches = build.branches.map(Self.regexEscaped).sorted()
            let headRef = branches.count == 1 ? "^refs/heads/\(branches[0])$" : "^refs/heads/(\(branches.joined(separator: "|")))$"
            project["Triggers"] = [
                "Webhook": true,
                "BuildType": "BUILD_BATCH",
                "FilterGroups": [[
                    ["Type": "EVENT", "Pattern": .string(build.webhookEvents.joined(separator: ","))],
                    ["Type": "HEAD_REF", "Pattern": .string(headRef)],
                ]],
            ]
        }
        resources["Project"] = .init("AWS::CodeBuild::Project", properties: project)

        return CloudFormationTemplate(
            description: isCI
                ? "Stackship \(settings.project): CI CodeBuild project with batch builds and a webhook on \(build.branches.joined(separator: ", "))"
                : "Stackship \(settings.project): release CodeBuild project with batch builds",
            resources: resources,
            outputs: [
                "ProjectName": .init(.ref("Project"), description: "The CodeBuild project"),
                "ArtifactsBucketName": .init(.ref("ArtifactsBucket"), description: "Where builds put their artifacts"),
                "LogGroupName": .init(.ref("LogGroup"), description: "The builds' CloudWatch log group"),
            ])
    }

    /// The repository ARN of an image in a private ECR registry, nil for any other image.
    static func ecrRepositoryARN(ofImage image: String) -> String? {
        let pattern = #"^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([a-z0-9._/-]+?)([:@].*)?$"#
        guard let match = image.range(of: pattern, options: .regularExpression), match == image.startIndex..<image.endIndex,
              let regex = try? NSRegularExpression(pattern: pattern),
              let m = regex.firstMatch(in: image, range: NSRange(image.startIndex..., in: image))
        else { return nil }
        func group(_ n: Int) -> String { Range(m.range(at: n), in: image).map { String(image[$0]) } ?? "" }
        let partition = group(3).isEmpty ? "aws" : "aws-cn"
        return "arn:\(partition):ecr:\(group(2)):\(group(1)):repository/\(group(4))"
    }

    /// A branch name as a literal inside a regular expression.
    static func regexEscaped(_ text: String) -> String {
        var out = ""
        for c in text {
            if "\\^$.|?*+()[]{}".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// `s3://BUCKET/PREFIX` as its bucket and its prefix ("" or ending in "/").
    static func s3BucketAndPrefix(_ url: String) -> (bucket: String, prefix: String)? {
        guard url.hasPrefix("s3://") else { return nil }
        let rest = url.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        // A name S3 would refuse, or a prefix Fn::Sub would read as a reference, grants nothing
        // (the cache itself refuses such a URL when it is used).
        guard !bucket.isEmpty, bucket.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-" }) else { return nil }
        var prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" })
        guard !prefix.contains("$"), !prefix.contains("*") else { return nil }
        if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
        return (bucket, prefix)
    }
}
