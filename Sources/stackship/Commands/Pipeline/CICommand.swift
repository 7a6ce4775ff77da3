import ArgumentParser
import Foundation
import Pipelines
import Stack

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

    @Flag(name: .customLong("allow-placeholders"), help: ArgumentHelp(
        "Fill settings the stack file does not give (cache, registry, role, region) with example values, listed at the top of every file: for documentation only, the files will not run as they are."))
    var allowPlaceholders = false

    @OptionGroup var planOptions: PlanOptions

    func validate() throws {
        guard CIBackend(rawValue: backend) != nil else {
            throw ValidationError("unknown CI backend '\(backend)'; use github, gitlab or codebuild")
        }
    }

    func run() throws {
        try CLI.run {
            let file = try StackFile.load(path: planOptions.stack)
            var input = try planOptions.input(file)
            // An ECR registry names its region: that is the region, not a guess.
            if input.settings.awsRegion == nil, let host = input.settings.registry?.split(separator: "/").first, let ecr = ECRHost(String(host)) {
                input.settings.awsRegion = ecr.region
            }
            let backend = CIBackend(rawValue: backend)!, options = planOptions.options(omitPublishWithoutRegistry: false)
            var askedAWS = false
            var awsFailure: String?
            var emitted: EmittedPipeline?
            // Each setting the plan misses: from the stack's registry stack when its aws:
            // section has one, else a marked placeholder when asked, else the error.
            while emitted == nil {
                do {
                    emitted = try backend.emit(try Plan.make(from: input, options: options))
                } catch let error as PipelineError {
                    guard case let .missingSetting(key, _, _) = error else { throw error }
                    if Self.fromAWS.contains(key), let aws = file.aws, aws.registry != nil, !askedAWS {
                        askedAWS = true
                        let outcome = CISettingsFromAWS.fill(&input.settings, from: aws)
                        for line in outcome.filled { print("note: \(line)") }
                        awsFailure = outcome.failure
                        continue
                    }
                    guard allowPlaceholders, input.settings.fillPlaceholder(key) else {
                        throw Self.located(error, in: file, aws: awsFailure)
                    }
                }
            }
            let written = try PipelineWriter.write(emitted!, to: URL(fileURLWithPath: CLI.absolute(output)))
            for path in written { print("wrote \(path)") }
            for note in emitted!.notes { print("note: \(note)") }
            if !input.settings.placeholders.isEmpty {
                FileHandle.standardError.write(Data("warning: placeholders stand in for \(input.settings.placeholders.map { $0.split(separator: " ").first.map(String.init) ?? $0 }.joined(separator: ", ")); the files say so at their top and will not run until they are replaced\n".utf8))
            }
        }
    }

    /// The settings a deployed registry stack can give.
    static let fromAWS: Set<String> = ["ci.registry", "ci.aws_role_arn", "ci.aws_region"]

    /// A missing setting at the place in the stack file it belongs (the `ci:` key, or the top
    /// of the file when there is none), with why the `aws:` section could not give it.
    static func located(_ error: PipelineError, in file: StackFile, aws failure: String?) -> Error {
        guard case let .missingSetting(key, _, _) = error else { return error }
        var text = error.description
        if file.ciLocation == nil { text += " (the file has no `ci:` section yet: add one at the top level)" }
        if let failure, fromAWS.contains(key) { text += "; the stack's aws.registry could give it, but \(failure)" }
        text += "; or pass --allow-placeholders for an example that will not run"
        let place = file.ciLocation.map { "\($0): " } ?? "\(file.path): "
        return ValidationError(place + text)
    }
}
