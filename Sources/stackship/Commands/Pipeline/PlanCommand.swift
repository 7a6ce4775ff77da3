import ArgumentParser
import Foundation
import OCI
import Pipelines

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show the jobs that build, test and publish the stack: packages the cache lacks, images, tests, pushes.",
        discussion: """
        A package is built when the binary cache (--cache, STACKSHIP_CACHE) lacks its input \
        hash, or when one of its dependencies is rebuilt; with --since REF, also only when its \
        hash differs from the one at REF. Every job is a stackship command; `stackship ci \
        generate` writes the same jobs as a CI pipeline and `stackship pipeline run` runs them here.

        Examples:
          stackship plan
          stackship plan --since origin/main --format json
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(name: .long, help: "text or json.")
    var format: Format = .text

    @OptionGroup var planOptions: PlanOptions

    func run() throws {
        try CLI.run {
            let plan = try planOptions.plan()
            switch format {
            case .text: print(PlanRenderer.text(plan), terminator: "")
            case .json: print(String(decoding: try CanonicalJSON.pretty(plan), as: UTF8.self))
            }
        }
    }
}
