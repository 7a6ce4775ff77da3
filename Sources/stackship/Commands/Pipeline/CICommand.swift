import ArgumentParser
import Foundation
import Pipelines

struct CICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ci",
        abstract: "Generate CI pipelines from the stack's plan.",
        subcommands: [CIGenerateCommand.self]
    )
}

struct CIGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write the plan as GitHub Actions workflows, a GitLab CI pipeline or AWS CodeBuild buildspecs.",
        discussion: """
        Settings (cache URL, signing-key secret name, registry, role ARN, region, runner \
        images, …) come from the stack file's top-level `ci:` section. Files are written \
        atomically; other files in the folder are left alone. The notes printed say where the \
        emitter had to split the plan to fit the backend, and why.

        Test and publish jobs first re-assemble their image with `stackship build` from the \
        binary cache (STACKSHIP_CACHE): CI jobs do not share the local store, and assembly is \
        reproducible, so the image has the digest the image job built.

        Examples:
          stackship ci generate github
          stackship ci generate gitlab --output .
          stackship ci generate codebuild --output ci/
        """
    )

    @Argument(help: ArgumentHelp("github, gitlab or codebuild.", valueName: "backend"))
    var backend: String

    @Option(name: [.short, .long], help: ArgumentHelp("The folder to write into (the repository root).", valueName: "dir"))
    var output: String = "."

    @OptionGroup var planOptions: PlanOptions

    func validate() throws {
        guard CIBackend(rawValue: backend) != nil else {
            throw ValidationError("unknown CI backend '\(backend)'; use github, gitlab or codebuild")
        }
    }

    func run() throws {
        try CLI.run {
            let plan = try planOptions.plan()
            let emitted = try CIBackend(rawValue: backend)!.emit(plan)
            let written = try PipelineWriter.write(emitted, to: URL(fileURLWithPath: CLI.absolute(output)))
            for path in written { print("wrote \(path)") }
            for note in emitted.notes { print("note: \(note)") }
        }
    }
}
