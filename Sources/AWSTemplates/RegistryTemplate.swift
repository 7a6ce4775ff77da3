import Foundation
import Stack

/// The `registry` template: an ECR repository (private, or ECR Public with `public: true`),
/// GitHub's OIDC provider (or the account's existing one) and a push role only the given GitHub
/// repository's workflows can assume.
enum RegistryTemplate {
    /// The actions a push (and the pull of its base layers) needs on a repository.
    static let pushActions = [
        "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:GetDownloadUrlForLayer",
        "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
    ]
    /// The actions a push to an ECR Public repository needs on it (the AWS documentation's push
    /// policy for ECR Public). There are no pull actions: ECR Public images are pulled anonymously.
    static let publicPushActions = [
        "ecr-public:BatchCheckLayerAvailability", "ecr-public:CompleteLayerUpload", "ecr-public:InitiateLayerUpload",
        "ecr-public:PutImage", "ecr-public:UploadLayerPart",
    ]
    /// What `docker login public.ecr.aws` (here `stackship login ecr --registry public.ecr.aws`) needs:
    /// both take no resource, so IAM only accepts them on "*".
    static let publicLoginActions = ["ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"]
    static let oidcHost = "token.actions.githubusercontent.com"

    static func make(_ settings: AWSSettings, _ registry: RegistrySettings) -> CloudFormationTemplate {
        let names = ResourceNames(project: settings.project, kind: .registry)
        let tags = TemplateParts.tags(settings, .registry)
        let repositoryName = registry.repositoryName(project: settings.project)
        var resources: [String: CloudFormationTemplate.Resource] = [:]

        if registry.isPublic {
            // Its own logical ID: CloudFormation does not change a resource's type in place, so a
            // private registry stack turned public gets a new resource (the private repository
            // is retained, as on any removal).
            resources[publicRepositoryID] = publicRepository(settings, repositoryName: repositoryName, tags: tags)
        } else {
            let lifecycle: TemplateValue = ["rules": [
                [
                    "rulePriority": 1, "description": .string("Expire untagged images after \(registry.untaggedExpiryDays) days"),
                    "selection": ["tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": .int(registry.untaggedExpiryDays)],
                    "action": ["type": "expire"],
                ],
                [
                    "rulePriority": 2, "description": .string("Keep the newest \(registry.keepImages) images"),
                    "selection": ["tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": .int(registry.keepImages)],
                    "action": ["type": "expire"],
                ],
            ]]
            var repository: [String: TemplateValue] = [
                "RepositoryName": .string(repositoryName),
                "ImageScanningConfiguration": ["ScanOnPush": .bool(registry.scanOnPush)],
                "LifecyclePolicy": ["LifecyclePolicyText": .string(TemplateParts.compactJSON(lifecycle))],
                "EncryptionConfiguration": ["EncryptionType": "AES256"],
                "Tags": tags,
            ]
            if registry.immutableTags { repository["ImageTagMutability"] = "IMMUTABLE" }
            // Images outlive the stack: deleting or replacing it must not delete what was pushed.
            resources["Repository"] = .init("AWS::ECR::Repository", properties: repository, deletionPolicy: "Retain", updateReplacePolicy: "Retain")
        }

        let provider: TemplateValue
        if let arn = registry.oidcProviderArn {
            provider = .string(arn)
        } else {
            resources["GitHubOIDCProvider"] = .init("AWS::IAM::OIDCProvider", properties: [
                "Url": .string("https://\(oidcHost)"),
                "ClientIdList": ["sts.amazonaws.com"],
                "ThumbprintList": .strings(registry.oidcThumbprints.map { $0.lowercased() }),
                "Tags": tags,
            ])
            provider = .ref("GitHubOIDCProvider")
        }

        resources["PushRole"] = .init("AWS::IAM::Role", properties: [
            "RoleName": .string(names.name("github-push", maxLength: 64)),
            "Description": .string("Assumed by GitHub Actions in \(registry.githubRepository) to push to \(registry.isPublic ? "ECR Public " : "")\(repositoryName)"),
            "MaxSessionDuration": 3600,
            "AssumeRolePolicyDocument": IAMStatement.document([
                IAMStatement(
                    sid: "GitHubActionsOfOneRepository", actions: ["sts:AssumeRoleWithWebIdentity"],
                    principal: ["Federated": provider],
                    condition: [
                        "StringEquals": ["\(oidcHost):aud": "sts.amazonaws.com"],
                        "StringLike": ["\(oidcHost):sub": .string("repo:\(registry.githubRepository):*")],
                    ])
            ]),
            "Policies": [[
                "PolicyName": "push",
                "PolicyDocument": IAMStatement.document(pushPolicy(registry)),
            ]],
            "Tags": tags,
        ])

        var outputs: [String: CloudFormationTemplate.Output] = [
            "PushRoleArn": .init(.getAtt("PushRole", "Arn"), description: "role-to-assume for aws-actions/configure-aws-credentials"),
        ]
        if registry.isPublic {
            // CloudFormation gives a public repository no URI: it is public.ecr.aws/ALIAS/NAME, and
            // the registry's alias is not a resource of this stack.
            outputs["RepositoryArn"] = .init(.getAtt(publicRepositoryID, "Arn"), description: "The ECR Public repository")
            outputs["RepositoryName"] = .init(.ref(publicRepositoryID), description: "Push to public.ecr.aws/ALIAS/\(repositoryName) (ALIAS: aws ecr-public describe-registries --region us-east-1)")
        } else {
            outputs["RepositoryUri"] = .init(.getAtt("Repository", "RepositoryUri"), description: "Push images here")
        }
        outputs["OIDCProviderArn"] = .init(provider, description: "The GitHub OIDC provider the push role trusts")
        var template = CloudFormationTemplate(
            description: "Stackship \(settings.project): \(registry.isPublic ? "ECR Public" : "ECR") repository \(repositoryName) and a push role for GitHub Actions in \(registry.githubRepository)",
            resources: resources, outputs: outputs)
        if registry.isPublic {
            // ECR Public exists only in us-east-1; deployed elsewhere (by hand, say), CloudFormation
            // refuses the template at once with this text instead of failing the resource.
            template.rules = ["EcrPublicOnlyInUsEast1": ["Assertions": [[
                "Assert": .equals(.region, .string(RegistrySettings.publicRegion)),
                "AssertDescription": .string(publicRegionMessage),
            ]]]]
        }
        return template
    }

    /// The logical ID of the ECR Public repository.
    static let publicRepositoryID = "PublicRepository"

    /// Why a public registry stack must be in us-east-1, and how.
    static let publicRegionMessage = "ECR Public exists only in us-east-1: deploy the registry stack with public: true in us-east-1 (--region us-east-1)"

    /// The push role's policy: logging in on "*" (the login actions take no resource), pushing on
    /// the stack's repository only.
    static func pushPolicy(_ registry: RegistrySettings) -> [IAMStatement] {
        if registry.isPublic {
            return [
                IAMStatement(sid: "EcrPublicLogin", actions: publicLoginActions, resources: ["*"]),
                IAMStatement(sid: "PushToOneRepository", actions: publicPushActions, resources: [.getAtt(publicRepositoryID, "Arn")]),
            ]
        }
        return [
            // GetAuthorizationToken is account-wide: IAM only accepts Resource "*" for it.
            IAMStatement(sid: "EcrLogin", actions: ["ecr:GetAuthorizationToken"], resources: ["*"]),
            IAMStatement(sid: "PushToOneRepository", actions: pushActions, resources: [.getAtt("Repository", "Arn")]),
        ]
    }

    /// An ECR Public repository. Like the private one it is retained: images outlive the stack.
    static func publicRepository(_ settings: AWSSettings, repositoryName: String, tags: TemplateValue) -> CloudFormationTemplate.Resource {
        .init("AWS::ECR::PublicRepository", properties: [
            "RepositoryName": .string(repositoryName),
            "RepositoryCatalogData": ["RepositoryDescription": .string("Images of \(settings.project), pushed by Stackship")],
            "Tags": tags,
        ], deletionPolicy: "Retain", updateReplacePolicy: "Retain")
    }
}
