import ArgumentParser
import Foundation
import Pipelines

/// `--stack`, `--since` and the cache and store options every pipeline command plans with.
struct PlanOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The stack file (passed on unchanged to every job's command).", valueName: "file"))
    var stack: String = "stack.yaml"

    @Option(name: .long, help: ArgumentHelp(
        "Leave out packages whose input hash is the same as at this git ref (and whose dependencies are not rebuilt).",
        discussion: "The hash covers the package's recipe, sources, dependencies' hashes and builder, so a package counts as changed exactly when building it at REF would give another hash.",
        valueName: "ref"))
    var since: String?

    @OptionGroup var cacheOptions: CacheLocationOptions
    @OptionGroup var storeOptions: StoreOptions

    /// The plan input from the stack file; notes (warnings) go to stderr.
    func input() throws -> PlanInput {
        let notes = StackPlanInput.Notes()
        let input = try StackPlanInput(stackPath: stack, cacheOptions: cacheOptions, storeOptions: storeOptions, since: since)
            .make(notes: notes)
        for line in notes.lines { FileHandle.standardError.write(Data("warning: \(line)\n".utf8)) }
        return input
    }

    /// The plan: with --since, unchanged packages are pruned.
    func plan() throws -> Plan {
        try Plan.make(from: try input(), options: Plan.Options(pruneUnchanged: since != nil))
    }
}

/// Writes `text` to `path` atomically (temporary file beside it, fsync, rename).
func writeAtomically(_ text: String, to path: String) throws {
    let absolute = CLI.absolute(path)
    let folder = (absolute as NSString).deletingLastPathComponent
    let name = (absolute as NSString).lastPathComponent
    try PipelineWriter.write(EmittedPipeline(backend: "file", files: [name: text]), to: URL(fileURLWithPath: folder))
}
