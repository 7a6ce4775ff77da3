import AWS
import AWSTemplates
import Foundation
import Pipelines
import Stack

/// The CI settings a stack's `aws:` section already knows, for `ci generate` when `ci:` does
/// not give them: the registry (the registry stack's repository, without its last path
/// component, so `push IMAGE` lands in it when the image has the repository's name), the push
/// role's ARN and the region, read from the deployed registry stack. Nothing is guessed: when
/// the stack cannot be read, the settings stay missing and the reason is kept for the error.
enum CISettingsFromAWS {
    /// What was filled (for notes), and why nothing could be when the lookup failed.
    struct Outcome {
        var filled: [String] = []
        var failure: String?
    }

    static func fill(_ settings: inout PlanInput.Settings, from aws: AWSSettings) -> Outcome {
        var outcome = Outcome()
        guard let registry = aws.registry, settings.registry == nil || settings.awsRoleARN == nil || settings.awsRegion == nil else { return outcome }
        let stackName = aws.stackName(for: .registry)
        let box = LookupBox()
        do {
            try AsyncCLI.runThrowing {
                box.found = try await AWSClient(profile: nil, region: nil, endpoint: nil).withShutdown { client in
                    try await lookup(client, stackName: stackName, repository: registry.repositoryName(project: aws.project))
                }
            }
        } catch {
            outcome.failure = "reading the registry stack \(stackName) failed: \(error)"
            return outcome
        }
        guard let found = box.found else {
            outcome.failure = "the registry stack \(stackName) is not deployed ('stackship aws deploy registry' creates it)"
            return outcome
        }
        if settings.registry == nil {
            settings.registry = found.registry
            outcome.filled.append("ci.registry = \(found.registry) (from stack \(stackName))")
        }
        if settings.awsRoleARN == nil, let role = found.roleARN {
            settings.awsRoleARN = role
            outcome.filled.append("ci.aws_role_arn = \(role) (from stack \(stackName))")
        }
        if settings.awsRegion == nil {
            settings.awsRegion = found.region
            outcome.filled.append("ci.aws_region = \(found.region) (the region stack \(stackName) is in)")
        }
        return outcome
    }

    struct Found: Sendable {
        var registry: String
        var roleARN: String?
        var region: String
    }

    final class LookupBox: @unchecked Sendable {
        var found: Found?
    }

    /// The stack's outputs (RepositoryUri, PushRoleArn); where an endpoint gives none, the same
    /// from its resources: the repository's URI from ECR, the role's ARN from its name and the
    /// account STS names.
    static func lookup(_ client: AWSClient, stackName: String, repository: String) async throws -> Found? {
        let cfn = CloudFormationClient(client: client)
        guard let stack = try await cfn.describeStack(stackName), stack.status.hasSuffix("_COMPLETE"), !stack.status.hasPrefix("DELETE") else { return nil }
        var uri = stack.outputs["RepositoryUri"]
        var role = stack.outputs["PushRoleArn"]
        if uri == nil || role == nil {
            let resources = try await cfn.describeStackResources(stackName: stack.stackID.isEmpty ? stackName : stack.stackID)
            if uri == nil {
                uri = try await ECRClient(client: client).repository(named: repository)?.repositoryUri
            }
            if role == nil, let name = resources.first(where: { $0.resourceType == "AWS::IAM::Role" && $0.logicalResourceID == "PushRole" })?.physicalResourceID {
                let account = try await STSClient(client: client).getCallerIdentity().account
                role = "arn:aws:iam::\(account):role/\(name)"
            }
        }
        guard let uri, !uri.isEmpty else { return nil }
        // The registry the plan pushes `IMAGE:TAG` under: the URI without the repository's last component.
        let registry = uri.split(separator: "/").dropLast().joined(separator: "/")
        return Found(registry: registry, roleARN: role, region: client.region)
    }
}
