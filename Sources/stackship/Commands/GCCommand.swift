import ArgumentParser
import Foundation
import OCI
import Runtime

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Delete blobs no image in the store uses, and leftovers of interrupted writes, loads, pulls and unpacks.",
        discussion: """
        Waits for builds running against the same store, so it never deletes what they write.

        Examples:
          stackship gc
          stackship gc --dry-run
        """
    )

    @Flag(name: .long, help: "Show what would be deleted without deleting it.")
    var dryRun = false

    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try CLI.run {
            let store = try storeOptions.open(create: false)
            var report = try store.gc(dryRun: dryRun)
            // Root file systems an interrupted `run` was unpacking (those still being unpacked are locked).
            report.removedTemporaryFiles += ImageUnpacker.removeAbandoned(in: store.root + "/runtime/roots", dryRun: dryRun)
            for d in report.removedBlobs { print("\(dryRun ? "would delete" : "deleted") \(d)") }
            let verb = dryRun ? "Would reclaim" : "Reclaimed"
            print("\(verb) \(Format.bytes(report.reclaimedBytes)) in \(report.removedBlobs.count) blob\(report.removedBlobs.count == 1 ? "" : "s")"
                  + (report.removedTemporaryFiles > 0 ? ", \(report.removedTemporaryFiles) temporary file\(report.removedTemporaryFiles == 1 ? "" : "s")" : ""))
        }
    }
}
