import ArgumentParser
import AWS
import AWSTemplates
import Foundation

struct AWSStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each stack's status, outputs and resources; fails when a stack is missing or failed."
    )

    @Argument(help: "Stack kinds (default: every kind with settings).") var kinds: [String] = []
    @OptionGroup var aws: AWSOptions

    func run() throws {
        let aws = aws, names = kinds
        try AsyncCLI.run {
            let problems = try await aws.withStacks(names) { settings, selected, cfn in
                var problems: [String] = []
                for kind in selected {
                    let name = settings.stackName(for: kind)
                    guard let stack = try await cfn.describeStack(name) else {
                        Out.line("\(kind): stack \(name) MISSING")
                        problems.append("\(name) is missing")
                        continue
                    }
                    Out.line("\(kind): stack \(name) \(stack.status)\(stack.statusReason.map { " (\($0))" } ?? "")")
                    Out.outputs(stack.outputs)
                    // A stack still in review was never created: no resources (moto fails the call).
                    if stack.status == "REVIEW_IN_PROGRESS" {
                        problems.append("\(name) is \(stack.status) (never created; 'stackship aws destroy \(kind) --yes' removes it)")
                        continue
                    }
                    let resources = try await cfn.describeStackResources(stackName: stack.stackID.isEmpty ? name : stack.stackID)
                    if !resources.isEmpty { Out.line("  resources:") }
                    for r in resources {
                        if r.logicalResourceID.isEmpty {
                            // moto lists resource types it does not model without their names.
                            Out.line("    (unnamed resource) \(r.resourceStatus)")
                        } else {
                            Out.line("    \(r.logicalResourceID) \(r.resourceType) \(r.resourceStatus) \(r.physicalResourceID ?? "")")
                        }
                    }
                    let outcome = CloudFormationClient.outcome(ofStatus: stack.status)
                    if outcome == .failed || stack.status.hasSuffix("_FAILED") {
                        let events = (try? await cfn.describeStackEvents(stackName: name).events) ?? []
                        for e in events.prefix(50) where e.resourceStatus.hasSuffix("_FAILED") { Out.event(e) }
                        problems.append("\(name) is \(stack.status)")
                    }
                }
                return problems
            }
            if !problems.isEmpty { throw AWSCommandError.stacksNotHealthy(problems) }
        }
    }
}
