import ArgumentParser
import AWS
import AWSTemplates
import Foundation
import Stack

struct AWSDeployCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Create or update stacks through change sets, streaming their events, then print their outputs.",
        discussion: """
        A template that changes nothing is reported as 'no changes'. IAM resources are named, so \
        CAPABILITY_NAMED_IAM is granted.

        The service stack runs an image pinned by digest: aws.service.image, or --image REF, \
        resolved here (stackship aws deploy service --image ACCOUNT.dkr.ecr.REGION.amazonaws.com/hello:latest).
        """
    )

    @Argument(help: "Stack kinds to deploy (default: every kind with settings), in the order given.") var kinds: [String] = []
    @OptionGroup var aws: AWSOptions
    @OptionGroup var image: ServiceImageOptions

    func run() throws {
        let aws = aws, names = kinds, image = image
        try AsyncCLI.run {
            try await aws.withStacks(names, image: image) { settings, selected, cfn in
                for kind in selected { try await Self.deploy(kind, settings: settings, cfn: cfn) }
            }
        }
    }

    static func deploy(_ kind: StackKind, settings: AWSSettings, cfn: CloudFormationClient) async throws {
        let name = settings.stackName(for: kind)
        let body = try settings.template(for: kind).jsonString()
        guard body.utf8.count <= 51_200 else {
            throw AWSError.invalidArgument("the \(kind) template is \(body.utf8.count) bytes, over CloudFormation's 51,200-byte limit for inline templates; reduce the settings (e.g. fewer variables) or deploy the rendered template from S3 with the AWS CLI.")
        }
        let existing = try await cfn.describeStack(name)
        if let existing, existing.status == "ROLLBACK_COMPLETE" || existing.status == "ROLLBACK_FAILED" {
            throw AWSCommandError.stackInBadState(stack: name, status: existing.status)
        }
        let creating = existing == nil || existing?.status == "REVIEW_IN_PROGRESS"
        if creating, kind == .registry, let registry = settings.registry {
            try await checkRepositoryIsFree(.of(registry, project: settings.project), project: settings.project, client: cfn.client)
        }
        Out.line("\(kind): \(creating ? "creating" : "updating") stack \(name)")
        let marker = creating ? nil : try await cfn.latestEventID(stackName: name)
        let changeSetName = "stackship-\(Int(Date().timeIntervalSince1970))-\(UUID().uuidString.prefix(8).lowercased())"
        do {
            _ = try await cfn.createChangeSet(stackName: name, changeSetName: changeSetName, templateBody: body,
                                                    type: creating ? .create : .update, capabilities: ["CAPABILITY_NAMED_IAM"],
                                                    description: "stackship aws deploy \(kind)")
        } catch let error where CloudFormationClient.isNoChangesError(error) {
            Out.line("\(kind): no changes")
            if let existing { Out.outputs(existing.outputs) }
            return
        }
        let changeSet = try await cfn.waitForChangeSet(stackName: name, changeSetName: changeSetName, pollInterval: min(Poll.interval, .seconds(2)))
        if changeSet.hasNoChanges {
            try? await cfn.deleteChangeSet(stackName: name, changeSetName: changeSetName)
            Out.line("\(kind): no changes")
            if let existing { Out.outputs(existing.outputs) }
            return
        }
        for change in changeSet.changes {
            Out.line("  change: \(change.action) \(change.logicalResourceID) (\(change.resourceType))\(change.replacement.map { $0 == "True" ? " [replacement]" : "" } ?? "")")
        }
        try await cfn.executeChangeSet(stackName: name, changeSetName: changeSetName)
        let stack = try await cfn.waitForStack(stackName: name, afterEventID: marker,
                                               pollInterval: Poll.interval, onEvent: { Out.event($0) })
        Out.line("\(kind): \(stack?.status ?? "done")")
        Out.outputs(stack?.outputs ?? [:])
    }

    /// A new registry stack creates its repository: one that exists already (retained by an
    /// earlier stack, or made by hand) would fail the stack half-way and leave it stuck in
    /// review, so it is refused up front, naming the way out.
    ///
    /// Best effort: when the endpoint cannot say (moto has no ECR Public), CloudFormation's own
    /// answer stands.
    static func checkRepositoryIsFree(_ repository: StackRepository, project: String, client: AWSClient) async throws {
        guard let tags = try? await repository.existingTags(client) else { return }
        throw AWSCommandError.repositoryExists(name: repository.name, project: project, ours: tags["stackship:project"] == project)
    }
}
