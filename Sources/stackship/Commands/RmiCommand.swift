import ArgumentParser
import Foundation
import OCI
import Stack

struct RmiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rmi",
        abstract: "Remove images from the store.",
        discussion: """
        A reference removes that name; a digest removes every name of that image. Content no \
        longer used by any image is then deleted, unless --no-prune.

        Examples:
          stackship rmi hello:1.0
          stackship rmi sha256:4f2a...
        """
    )

    @Argument(help: "The images to remove.")
    var references: [String]

    @Flag(name: .customLong("no-prune"), help: "Keep the content; only remove the names.")
    var noPrune = false

    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try CLI.run {
            let store = try storeOptions.open(create: false)
            for reference in references {
                let entry = try store.resolve(reference)
                if let parsed = entry.matchedReference {
                    try store.untag(parsed)
                    print("Untagged: \(parsed.familiar)")
                } else {
                    let n = try store.removeEntries(digest: entry.descriptor.digest)
                    print("Deleted: \(entry.descriptor.digest) (\(n) name\(n == 1 ? "" : "s"))")
                }
            }
            if !noPrune {
                let report = try StepCache.collectGarbage(in: store).report
                if !report.removedBlobs.isEmpty { print("Reclaimed \(Format.bytes(report.reclaimedBytes)) in \(report.removedBlobs.count) blobs") }
            }
        }
    }
}
