import ArgumentParser
import AWS
import Foundation

struct AWSStartBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start-build",
        abstract: "Start a CodeBuild batch build and follow it until it ends.",
        discussion: """
        Examples:
          stackship aws start-build --project hello-ci-build --source-version main
          stackship aws start-build --project hello-ci-build --buildspec buildspec-batch-2.yml   # the second part of a split plan
        """
    )

    @Option(help: "The CodeBuild project (the ci-build or release-build stack's ProjectName output).") var project: String
    @Option(name: .customLong("source-version"), help: "The commit, branch or pull request to build (default: the project's).") var sourceVersion: String?
    @Option(help: ArgumentHelp("The batch buildspec to run instead of the project's: a path in the source (ci generate codebuild writes buildspec-batch-N.yml when a plan is split).", valueName: "path")) var buildspec: String?
    @OptionGroup var aws: AWSOptions

    func run() throws {
        let aws = aws, project = project, sourceVersion = sourceVersion, buildspec = buildspec
        try AsyncCLI.run {
            try await aws.withClient { client in
                let codeBuild = CodeBuildClient(client: client)
                var batch = try await codeBuild.startBuildBatch(project: project, sourceVersion: sourceVersion, buildspec: buildspec)
                Out.line("started build batch \(batch.id)")
                var last = ""
                while true {
                    let groups = (batch.buildGroups ?? []).map { "\($0.identifier ?? "?")=\($0.currentBuildSummary?.buildStatus ?? "PENDING")" }
                    let line = "\(batch.buildBatchStatus ?? "UNKNOWN") \(batch.currentPhase ?? "")" + (groups.isEmpty ? "" : " [\(groups.joined(separator: ", "))]")
                    if line != last { Out.line("  \(line)"); last = line }
                    if batch.isFinished { break }
                    try await Task.sleep(for: Poll.interval)
                    guard let next = try await codeBuild.batchGetBuildBatches(ids: [batch.id]).first else {
                        throw AWSError.unexpectedResponse(operation: "CodeBuild.BatchGetBuildBatches", detail: "build batch \(batch.id) is not known")
                    }
                    batch = next
                }
                guard batch.buildBatchStatus == "SUCCEEDED" else {
                    throw AWSCommandError.buildFailed(id: batch.id, status: batch.buildBatchStatus ?? "UNKNOWN")
                }
                Out.line("build batch \(batch.id) SUCCEEDED")
            }
        }
    }
}
