import ArgumentParser
import AWS
import AWSTemplates
import Foundation

struct AWSDestroyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "destroy",
        abstract: "Delete stacks and wait until they are gone.",
        discussion: """
        With --purge, the stack's S3 buckets are emptied first (every object version and delete \
        marker) and its ECR repositories' images deleted, so the stack can be deleted and nothing \
        is left that keeps costing.
        """
    )

    @Argument(help: "Stack kinds to delete.") var kinds: [String] = []
    @Flag(help: "Delete every stack the stack file has settings for.") var all = false
    @Flag(help: "Empty the stacks' buckets (all versions) and ECR repositories first.") var purge = false
    @Flag(help: "Confirm the deletion.") var yes = false
    @OptionGroup var aws: AWSOptions

    func run() throws {
        let aws = aws, names = kinds, all = all, purge = purge, yes = yes
        try AsyncCLI.run {
            let settings = try aws.settings()
            let selected = try AWSOptions.kinds(names, all: all, settings: settings, defaultAll: false)
            guard yes else {
                throw AWSCommandError.confirmationNeeded(what: "the stacks " + selected.map { settings.stackName(for: $0) }.joined(separator: ", ")
                                                        + (purge ? " and every object and image in their buckets and repositories" : ""))
            }
            try await aws.withClient { client in
                let cfn = CloudFormationClient(client: client)
                // Later kinds may use earlier ones (a service pulls from the registry): delete in reverse.
                for kind in selected.reversed() {
                    let name = settings.stackName(for: kind)
                    guard let stack = try await cfn.describeStack(name) else {
                        Out.line("\(kind): stack \(name) does not exist; nothing to delete")
                        continue
                    }
                    if purge {
                        let resources = try await cfn.describeStackResources(stackName: stack.stackID)
                        let s3 = S3Client(client: client), ecr = ECRClient(client: client)
                        for r in resources where r.resourceType == "AWS::S3::Bucket" {
                            guard let bucket = r.physicalResourceID, !bucket.isEmpty else { continue }
                            let n = try await s3.emptyBucket(bucket)
                            Out.line("\(kind): emptied bucket \(bucket) (\(n) object versions deleted)")
                        }
                        for r in resources where r.resourceType == "AWS::ECR::Repository" {
                            guard let repository = r.physicalResourceID, !repository.isEmpty else { continue }
                            let n = try await ecr.emptyRepository(repository)
                            Out.line("\(kind): emptied repository \(repository) (\(n) images deleted)")
                        }
                    }
                    Out.line("\(kind): deleting stack \(name)")
                    let marker = try await cfn.latestEventID(stackName: stack.stackID)
                    try await Self.deleteStack(stack.stackID, cfn: cfn)
                    try await cfn.waitForStack(stackName: stack.stackID, afterEventID: marker, pollInterval: Poll.interval, onEvent: { Out.event($0) })
                    Out.line("\(kind): deleted")
                }
            }
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
