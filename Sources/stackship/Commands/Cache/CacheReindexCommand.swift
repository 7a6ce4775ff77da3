import ArgumentParser
import BuildCache
import Foundation

struct CacheReindexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reindex",
        abstract: "Rewrite the push cache's compacted index after packages were added.",
        discussion: """
        Readers then get every index entry from one object instead of one request per package. \
        Entries pushed meanwhile are still found (a reader falls back to them one by one), so \
        this is safe while others push. A cache folder that does not exist yet is created.

        Examples:
          stackship cache reindex
          STACKSHIP_CACHE=/srv/cache stackship cache reindex
        """
    )

    @OptionGroup var cacheOptions: CacheLocationOptions

    func run() throws {
        let cacheOptions = cacheOptions
        try AsyncCLI.run {
            let cache = try cacheOptions.pushTarget(create: true)
            let count = try await cache.compactIndex()
            print("indexed \(count) package\(count == 1 ? "" : "s") in \(cache.location)")
        }
    }
}
