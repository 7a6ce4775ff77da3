import ArgumentParser
import Foundation
import OCI
import Runtime
import Stack

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Delete blobs no image in the store uses, and leftovers of interrupted writes, loads, pulls and unpacks.",
        discussion: """
        Waits for builds running against the same store, so it never deletes what they write. \
        Layers the Dockerfile build cache records are kept unless --build-cache is given.

        Examples:
          stackship gc
          stackship gc --dry-run
          stackship gc --build-cache          # also the Dockerfile build cache
        """
    )

    @Flag(name: .long, help: "Show what would be deleted without deleting it.")
    var dryRun = false

    @Flag(name: .customLong("build-cache"), help: "Also empty the Dockerfile build cache (docker builder prune): its step records, the layers only they keep, and the unpacked layers under runtime/build.")
    var buildCache = false

    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try CLI.run {
            let store = try storeOptions.open(create: false)
            let collected = try StepCache.collectGarbage(in: store, dryRun: dryRun, emptyingBuildCache: buildCache)
            var report = collected.report
            let records = collected.removedRecords
            if buildCache { print("\(dryRun ? "would delete" : "deleted") \(records) build cache record\(records == 1 ? "" : "s")") }
            // Root file systems an interrupted `run` or build step was unpacking (those still
            // being unpacked are locked): `run`'s in the host's state, a Dockerfile build's beside
            // the store (and `run`'s of the previous layout, which kept them there too).
            let engine = ContainerEngine(stores: [store], monitorExecutable: RuntimeOptions.selfExecutable)
            for roots in [engine.rootsDirectory, store.root + "/runtime/roots"] {
                report.removedTemporaryFiles += ImageUnpacker.removeAbandoned(in: roots, dryRun: dryRun)
            }
            // Containers of the previous layout (state under the store) are not deleted behind
            // the user's back: they are listed and removed as any other, from this store's folder.
            let old = try engine.list().filter { engine.isPreviousLayout($0.id) }
            if !old.isEmpty {
                FileHandle.standardError.write(Data(("note: \(old.count) container\(old.count == 1 ? "" : "s") of the previous layout remain\(old.count == 1 ? "s" : "") under \(store.root)/runtime/containers "
                    + "(\(old.map(\.name).joined(separator: ", "))); `stackship ps -a` lists them and `stackship rm` removes them from this folder\n").utf8))
            }
            for d in report.removedBlobs { print("\(dryRun ? "would delete" : "deleted") \(d)") }
            let verb = dryRun ? "Would reclaim" : "Reclaimed"
            print("\(verb) \(Format.bytes(report.reclaimedBytes)) in \(report.removedBlobs.count) blob\(report.removedBlobs.count == 1 ? "" : "s")"
                  + (report.removedTemporaryFiles > 0 ? ", \(report.removedTemporaryFiles) temporary file\(report.removedTemporaryFiles == 1 ? "" : "s")" : ""))
        }
    }
}
