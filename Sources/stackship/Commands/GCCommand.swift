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
            // Root file systems an interrupted `run` was unpacking (those still being unpacked are locked).
            report.removedTemporaryFiles += ImageUnpacker.removeAbandoned(in: store.root + "/runtime/roots", dryRun: dryRun)
            for d in report.removedBlobs { print("\(dryRun ? "would delete" : "deleted") \(d)") }
            let verb = dryRun ? "Would reclaim" : "Reclaimed"
            print("\(verb) \(Format.bytes(report.reclaimedBytes)) in \(report.removedBlobs.count) blob\(report.removedBlobs.count == 1 ? "" : "s")"
                  + (report.removedTemporaryFiles > 0 ? ", \(report.removedTemporaryFiles) temporary file\(report.removedTemporaryFiles == 1 ? "" : "s")" : ""))
        }
    }
}
