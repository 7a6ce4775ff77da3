import Foundation
import Stack

/// The `registry` template: an ECR repository, GitHub's OIDC provider (or the account's
/// existing one) and a push role only the given GitHub repository's workflows can assume.
enum RegistryTemplate {
    /// The actions a push (and the pull of its base layers) needs on a repository.
    static let pushActions = [
        "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:GetDownloadUrlForLayer",
        "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
    ]
    static let oidcHost = "token.actions.githubusercontent.com"

    static func make(_ settings: AWSSettings, _ registry: RegistrySettings) -> CloudFormationTemplate {
        let names = ResourceNames(project: settings.project, kind: .registry)
        let tags = TemplateParts.tags(settings, .registry)
        let repositoryName = registry.repositoryName(project: settings.project)
        var resources: [String: CloudFormationTemplate.Resource] = [:]

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
            "Description": .string("Assumed by GitHub Actions in \(registry.githubRepository) to push to \(repositoryName)"),
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
                "PolicyDocument": IAMStatement.document([
                    // GetAuthorizationToken is account-wide: IAM only accepts Resource "*" for it.
                    IAMStatement(sid: "EcrLogin", actions: ["ecr:GetAuthorizationToken"], resources: ["*"]),
                    IAMStatement(sid: "PushToOneRepository", actions: pushActions, resources: [.getAtt("Repository", "Arn")]),
                ]),
            ]],
            "Tags": tags,
        ])

        var outputs: [String: CloudFormationTemplate.Output] = [
            "RepositoryUri": .init(.getAtt("Repository", "RepositoryUri"), description: "Push images here"),
            "PushRoleArn": .init(.getAtt("PushRole", "Arn"), description: "role-to-assume for aws-actions/configure-aws-credentials"),
        ]
        outputs["OIDCProviderArn"] = .init(provider, description: "The GitHub OIDC provider the push role trusts")
        return CloudFormationTemplate(
            description: "Stackship \(settings.project): ECR repository \(repositoryName) and a push role for GitHub Actions in \(registry.githubRepository)",
            resources: resources, outputs: outputs)
    }
}
