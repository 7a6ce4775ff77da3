import ArgumentParser
import BuildCache
import Foundation

struct CacheGCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Delete cached packages nothing keeps, with everything only they used.",
        discussion: """
        Keeps each --keep-hash / --keep-file package and all its dependencies, and anything \
        younger than --min-age; deletes the rest from the push cache. Safe while others push, as \
        long as --min-age is longer than the longest push.

        Examples:
          stackship cache gc --keep-file roots.txt --dry-run
          stackship cache gc --min-age 30d --keep-hash 3f…e1
        """
    )

    @Option(name: .customLong("min-age"), help: ArgumentHelp("Keep anything younger than this (s, m, h, d, w).", valueName: "age"))
    var minAge: String = "7d"

    @Flag(name: .long, help: "Show what would be deleted without deleting it.")
    var dryRun = false

    @Option(name: .customLong("keep-hash"), help: ArgumentHelp("A package to keep, with its dependencies (repeatable).", valueName: "hash"))
    var keepHashes: [String] = []

    @Option(name: .customLong("keep-file"), help: ArgumentHelp("A file of package hashes to keep, one per line (# comments allowed; repeatable).", valueName: "file"))
    var keepFiles: [String] = []

    @OptionGroup var cacheOptions: CacheLocationOptions

    func run() throws {
        let me = self
        try AsyncCLI.run {
            let age = try Duration.parseAge(me.minAge)
            var roots = Set<PackageHash>()
            for h in me.keepHashes { roots.insert(try PackageHash(h)) }
            for file in me.keepFiles {
                let path = CLI.absolute(file)
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ValidationError("cannot read --keep-file \(path); give a readable file of package hashes, one per line")
                }
                for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let t = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                    if t.isEmpty { continue }
                    do { roots.insert(try PackageHash(t)) } catch {
                        throw ValidationError("\(path):\(n + 1): \(CLI.describe(error))")
                    }
                }
            }
            let cache = try me.cacheOptions.pushTarget(create: false)
            let report = try await cache.gc(roots: roots, minAge: age, dryRun: me.dryRun)
            for o in report.deleted { print("\(me.dryRun ? "would delete" : "deleted") \(o.key) (\(Format.bytes(o.size)))") }
            let verb = me.dryRun ? "Would reclaim" : "Reclaimed"
            print("\(verb) \(Format.bytes(report.bytes)) in \(report.deleted.count) object\(report.deleted.count == 1 ? "" : "s")"
                  + " (\(report.deletedPackages.count) package\(report.deletedPackages.count == 1 ? "" : "s")); \(report.keptPackages) kept")
        }
    }
}
