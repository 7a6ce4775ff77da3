import ArgumentParser
import BuildCache
import Foundation
import Pipelines
import Stack

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

    /// The plan input from the stack file (Stack's `StackPlanning`); notes (warnings) go to stderr.
    func input() throws -> PlanInput { try input(StackFile.load(path: stack)) }

    /// The plan input from `file`, loaded from ``stack``.
    func input(_ file: StackFile) throws -> PlanInput {
        let planning = StackPlanning(stack: file, stackPath: stack, store: try storeOptions.open(beside: file.directory, create: true))
        let cache = try readCache()
        let since = since
        let box = PlanBox()
        do {
            try AsyncCLI.runThrowing { box.result = try await planning.planInput(cache: cache, since: since) }
        } catch let error as PlanningError {
            throw ValidationError("--since \(since ?? ""): \(error)")
        }
        guard let result = box.result else { throw ExitCode.failure }
        for line in result.notes { FileHandle.standardError.write(Data("warning: --since \(line)\n".utf8)) }
        return result.input
    }

    /// The read caches. With no cache named and no default cache folder yet, none (every
    /// package counts as missing); a cache named with --cache or STACKSHIP_CACHE must exist.
    func readCache() throws -> BinaryCache? {
        let explicit = !cacheOptions.caches.isEmpty || !(ProcessInfo.processInfo.environment["STACKSHIP_CACHE"] ?? "").isEmpty
        if !explicit && !FileManager.default.fileExists(atPath: cacheOptions.locations()[0]) { return nil }
        return BinaryCache(caches: try cacheOptions.readCaches())
    }

    /// The plan to run or show here: with --since, unchanged packages are pruned; without
    /// `ci.registry`, publish jobs are left out, saying so.
    func plan() throws -> Plan {
        let input = try input()
        if input.settings.registry == nil, input.images.contains(where: { !$0.publishTags.isEmpty }) {
            FileHandle.standardError.write(Data("note: no publish jobs: `ci.registry` is not set in the stack file (set it, or `ci: publish: []` to say so)\n".utf8))
        }
        return try Plan.make(from: input, options: options(omitPublishWithoutRegistry: true))
    }

    func options(omitPublishWithoutRegistry: Bool) -> Plan.Options {
        Plan.Options(pruneUnchanged: since != nil, omitPublishWithoutRegistry: omitPublishWithoutRegistry)
    }
}

/// Carries the plan input out of the async bridge.
final class PlanBox: @unchecked Sendable {
    var result: StackPlanning.Result?
}

/// Writes `text` to `path` atomically (temporary file beside it, fsync, rename).
func writeAtomically(_ text: String, to path: String) throws {
    let absolute = CLI.absolute(path)
    let folder = (absolute as NSString).deletingLastPathComponent
    let name = (absolute as NSString).lastPathComponent
    try PipelineWriter.write(EmittedPipeline(backend: "file", files: [name: text]), to: URL(fileURLWithPath: folder))
}
