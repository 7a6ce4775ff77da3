import ArgumentParser
import BuildCache
import Foundation
import OCI

struct CacheLsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the packages in the binary caches.",
        discussion: """
        Reads each cache's index (a package held by several caches is listed from the first). \
        Signatures are not checked here; `stackship cache verify` does that.

        Examples:
          stackship cache ls
          stackship cache ls --cache /srv/cache --json
        """
    )

    @Flag(name: .long, help: "Print JSON (one array of packages) instead of a table.")
    var json = false

    @OptionGroup var cacheOptions: CacheLocationOptions

    struct Row: Codable {
        var hash: String
        var name: String
        var version: String
        var platform: String
        var dependencies: [String]
        var size: Int64
        var artifactDigest: String
        var compression: String
        var created: String
        var keyID: String?
        var cache: String
    }

    func run() throws {
        let json = json, cacheOptions = cacheOptions
        try AsyncCLI.run {
            let caches = try cacheOptions.readCaches()
            let listing = try await BinaryCache(caches: caches).index()
            let rows = listing.map { item in
                let m = item.entry.metadata
                return Row(hash: m.hash.value, name: m.name, version: m.version, platform: m.platform,
                           dependencies: m.dependencies.map(\.value), size: m.size, artifactDigest: m.artifactDigest.description,
                           compression: m.compression.rawValue, created: m.created, keyID: item.entry.keyID, cache: item.cache)
            }
            if json {
                print(String(decoding: try CanonicalJSON.pretty(rows), as: UTF8.self))
                return
            }
            var table = [["HASH", "NAME", "VERSION", "PLATFORM", "SIZE", "SIGNED BY", "CREATED"] + (caches.count > 1 ? ["CACHE"] : [])]
            for r in rows {
                table.append([String(r.hash.prefix(12)), r.name, r.version, r.platform, Format.bytes(r.size), r.keyID ?? "unsigned", r.created]
                             + (caches.count > 1 ? [r.cache] : []))
            }
            let widths = (0..<table[0].count).map { c in table.map { $0[c].count }.max() ?? 0 }
            for line in table {
                print(line.enumerated().map { $0.offset == line.count - 1 ? $0.element : $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                    .joined(separator: "  "))
            }
        }
    }
}
