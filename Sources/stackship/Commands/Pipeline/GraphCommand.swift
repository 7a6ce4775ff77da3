import ArgumentParser
import Foundation
import Pipelines

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw the plan's job graph as Graphviz DOT, a Mermaid flowchart or a self-contained HTML page.",
        discussion: """
        Examples:
          stackship graph --format dot | dot -Tsvg > plan.svg
          stackship graph --format html --output plan.html
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case dot, mermaid, html
    }

    @Option(name: .long, help: "dot, mermaid or html.")
    var format: Format = .dot

    @Option(name: [.short, .long], help: ArgumentHelp("Write it to this file (atomically) instead of standard output.", valueName: "file"))
    var output: String?

    @OptionGroup var planOptions: PlanOptions

    func run() throws {
        try CLI.run {
            let plan = try planOptions.plan()
            let text: String
            switch format {
            case .dot: text = PlanRenderer.dot(plan)
            case .mermaid: text = PlanRenderer.mermaid(plan)
            case .html: text = PlanRenderer.html(plan)
            }
            if let output {
                try writeAtomically(text, to: output)
                FileHandle.standardError.write(Data("wrote \(CLI.absolute(output))\n".utf8))
            } else {
                print(text, terminator: "")
            }
        }
    }
}
