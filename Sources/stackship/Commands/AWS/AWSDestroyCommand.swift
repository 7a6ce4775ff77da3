import ArgumentParser
import AWS
import AWSTemplates
import Foundation
import Stack

struct AWSDestroyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "destroy",
        abstract: "Delete stacks and wait until they are gone.",
        discussion: """
        With --purge, the stack's S3 buckets are emptied first (every object version and delete \
        marker), and its ECR repositories, which a stack retains, are emptied and deleted after \
        it, so nothing is left that keeps costing and a later deploy starts clean. A repository \
        an earlier destroy left behind is deleted by --purge too, when its tags say it is this \
        project's.
        """
    )

    @Argument(help: "Stack kinds to delete.") var kinds: [String] = []
    @Flag(help: "Delete every stack the stack file has settings for.") var all = false
    @Flag(help: "Empty the stacks' buckets (all versions) first, and delete their ECR repositories with their images.") var purge = false
    @Flag(help: "Confirm the deletion.") var yes = false
    @OptionGroup var aws: AWSOptions

    func run() throws {
        let aws = aws, names = kinds, all = all, purge = purge, yes = yes
        try AsyncCLI.run {
            let settings = try aws.settings()
            let selected = try AWSOptions.kinds(names, all: all, settings: settings, defaultAll: false)
            guard yes else {
                throw AWSCommandError.confirmationNeeded(what: "the stacks " + selected.map { settings.stackName(for: $0) }.joined(separator: ", ")
                                                        + (purge ? ", every object and image in their buckets and repositories, and the repositories" : ""))
            }
            try await aws.withClient { client in
                let cfn = CloudFormationClient(client: client)
                // Later kinds may use earlier ones (a service pulls from the registry): delete in reverse.
                for kind in selected.reversed() {
                    try await Self.destroy(kind, settings: settings, purge: purge, client: client, cfn: cfn)
                }
            }
        }
    }

    static func destroy(_ kind: StackKind, settings: AWSSettings, purge: Bool, client: AWSClient, cfn: CloudFormationClient) async throws {
        let name = settings.stackName(for: kind)
        guard let stack = try await cfn.describeStack(name) else {
            Out.line("\(kind): stack \(name) does not exist; nothing to delete")
            if purge, kind == .registry, let registry = settings.registry {
                try await deleteLeftRepository(.of(registry, project: settings.project), project: settings.project, client: client, kind: kind)
            }
            return
        }
        // ECR repositories are retained when their stack goes (DeletionPolicy: Retain keeps
        // images safe from a stack replacement); --purge deletes them too, once emptied.
        var retained: [StackRepository] = []
        // A stack whose creation never started (REVIEW_IN_PROGRESS: moto refuses the first
        // change set at once) has no resources to empty; asking for them fails on moto.
        if stack.status != "REVIEW_IN_PROGRESS" {
            let resources = try await cfn.describeStackResources(stackName: stack.stackID)
            let repositories = StackRepository.among(resources)
            if purge {
                let s3 = S3Client(client: client)
                for r in resources where r.resourceType == "AWS::S3::Bucket" {
                    guard let bucket = r.physicalResourceID, !bucket.isEmpty else { continue }
                    let n = try await s3.emptyBucket(bucket)
                    Out.line("\(kind): emptied bucket \(bucket) (\(n) object versions deleted)")
                }
                for repository in repositories {
                    if let n = try await repository.empty(client) { Out.line("\(kind): emptied \(repository.label) (\(n) images deleted)") }
                }
                retained = repositories
            } else {
                for repository in repositories {
                    Out.line("\(kind): \(repository.label) stays, with its images (DeletionPolicy: Retain); 'stackship aws destroy \(kind) --purge --yes' deletes it, and until then 'aws deploy \(kind)' cannot create it again")
                }
            }
        }
        Out.line("\(kind): deleting stack \(name)")
        let marker = try await cfn.latestEventID(stackName: stack.stackID)
        try await Self.deleteStack(stack.stackID, cfn: cfn)
        try await cfn.waitForStack(stackName: stack.stackID, afterEventID: marker, pollInterval: Poll.interval, onEvent: { Out.event($0) })
        Out.line("\(kind): deleted")
        for repository in retained where try await repository.delete(client) {
            Out.line("\(kind): deleted \(repository.label) (a stack keeps its repositories; --purge deletes them)")
        }
    }

    /// With the stack gone, the repository an earlier stack retained (an earlier `destroy`
    /// without --purge): deleted only when its tags say it is this project's registry
    /// repository, so a repository made by hand under the same name is never touched.
    static func deleteLeftRepository(_ repository: StackRepository, project: String, client: AWSClient, kind: StackKind) async throws {
        guard let tags = try await repository.existingTags(client) else { return }
        guard tags["stackship:project"] == project, tags["stackship:stack-kind"] == kind.rawValue else {
            Out.line("\(kind): \(repository.label) exists but is not tagged as \(project)'s \(kind) repository (stackship:project, stackship:stack-kind); left alone")
            return
        }
        if let n = try await repository.empty(client) { Out.line("\(kind): emptied \(repository.label) left by an earlier stack (\(n) images deleted)") }
        if try await repository.delete(client) {
            Out.line("\(kind): deleted \(repository.label) left by an earlier stack (a stack keeps its repositories; --purge deletes them)")
        }
    }

    /// DeleteStack, retried a few times when the endpoint refuses at once with
    /// DependencyViolation. AWS itself deletes asynchronously in dependency order and reports
    /// such failures as events; moto deletes synchronously in template order and refuses a VPC
    /// whose subnets it has not deleted yet, then succeeds on the next call.
    static func deleteStack(_ stackID: String, cfn: CloudFormationClient) async throws {
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await cfn.deleteStack(stackID)
                return
            } catch let error as AWSError where error.serviceCode == "DependencyViolation" && attempt < 4 {
                try await Task.sleep(for: .milliseconds(500 * attempt))
            }
        }
    }
}
