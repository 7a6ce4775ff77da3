import Foundation
import OCI

extension PackageCache {
    /// Mark and sweep: keeps every root, everything reachable from a kept package through its
    /// metadata's dependencies, and every object younger than `minAge`; deletes the rest.
    ///
    /// Safe while other processes push, provided `minAge` exceeds the longest push: an object
    /// whose index entry is not written yet is in flight and is kept by its age; so are objects
    /// written after the collection started (checked again just before each delete), and young
    /// index entries count as roots, so a fresh package keeps its dependencies. Deletion order
    /// is index entries first, then signatures, metadata, artifacts, so a reader never sees an
    /// index entry whose artifact is gone (a fetch racing the deletion of its own package fails
    /// cleanly with "not found" instead).
    ///
    /// - Parameters:
    ///   - startedAt: the collection's start by the backend's clock; nil reads that clock by
    ///     writing and deleting a marker object (or, in a dry run, uses this machine's clock).
    public func gc(roots: Set<PackageHash>, minAge: Duration, dryRun: Bool, startedAt: Date? = nil) async throws -> GCReport {
        let start: Date
        if let startedAt { start = startedAt } else { start = dryRun ? Date() : try await backendNow() }
        let cutoff = start.addingTimeInterval(-minAge.seconds)
        func young(_ o: CacheObject) -> Bool { o.modified > cutoff || o.modified >= start }

        let indexListing = try await backend.list(prefix: CacheLayout.indexPrefix)
        let artifactListing = try await backend.list(prefix: CacheLayout.artifactsPrefix)
        let (index, _) = try await readIndex(listing: indexListing)
        var entries: [PackageHash: IndexEntry] = [:]
        for e in index.entries { entries[e.hash] = e }

        // Mark: roots, young index entries, and their dependency closure.
        var pending = Array(roots)
        for o in indexListing where young(o) { if let h = CacheLayout.hash(ofKey: o.key) { pending.append(h) } }
        var kept = Set<PackageHash>()
        while let h = pending.popLast() {
            guard kept.insert(h).inserted else { continue }
            pending.append(contentsOf: entries[h]?.metadata.dependencies ?? [])
        }
        var keepKeys = Set<String>()
        for h in kept {
            guard let e = entries[h] else {
                // A root with no readable entry: keep whatever it has (perhaps a push in flight).
                for o in artifactListing + indexListing where CacheLayout.hash(ofKey: o.key) == h { keepKeys.insert(o.key) }
                continue
            }
            keepKeys.formUnion([CacheLayout.indexKey(h), CacheLayout.artifactKey(e.metadata),
                                CacheLayout.metadataKey(h, e.metadataDigest), CacheLayout.signatureKey(h, e.metadataDigest)])
        }

        // Sweep: index entries, then signatures, metadata, artifacts.
        func phase(_ key: String) -> Int {
            if key.hasPrefix(CacheLayout.indexPrefix) { return 0 }
            if key.hasSuffix(".sig") { return 1 }
            if key.hasSuffix(".json") { return 2 }
            return 3
        }
        let candidates = (indexListing + artifactListing)
            .filter { CacheLayout.hash(ofKey: $0.key) != nil && !keepKeys.contains($0.key) && !young($0) }
            .sorted { (phase($0.key), $0.key) < (phase($1.key), $1.key) }
        var deleted: [CacheObject] = []
        for object in candidates {
            if !dryRun {
                // Rewritten since it was listed (a push of the same content): keep it.
                guard let now = try await backend.head(object.key), now.modified == object.modified, !young(now) else { continue }
                try await backend.delete(object.key)
            }
            deleted.append(object)
        }
        let deletedPackages = deleted.filter { phase($0.key) == 0 }.compactMap { CacheLayout.hash(ofKey: $0.key) }
        if !dryRun && !deleted.isEmpty {
            try? await compactIndex()
        }
        let keptPackages = Set(entries.keys).subtracting(deletedPackages).count
        return GCReport(deleted: deleted, deletedPackages: deletedPackages, keptPackages: keptPackages, dryRun: dryRun)
    }

    /// The backend's clock: the modification time of a marker object written now.
    func backendNow() async throws -> Date {
        let key = "gc-clock/\(UUID().uuidString)"
        try await backend.put(key, data: Data())
        let o = try await backend.head(key)
        try? await backend.delete(key)
        return o?.modified ?? Date()
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: TimeInterval {
        let (s, atto) = components
        return TimeInterval(s) + TimeInterval(atto) / 1e18
    }

    /// Parses a duration such as `30s`, `15m`, `12h`, `7d`, `2w` (or `0`); throws
    /// `BuildCacheError.invalidDuration`.
    public static func parseAge(_ text: String) throws -> Duration {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t == "0" { return .zero }
        guard let unit = t.last, let value = Int64(t.dropLast()), value >= 0 else { throw BuildCacheError.invalidDuration(text) }
        let factor: Int64
        switch unit {
        case "s": factor = 1
        case "m": factor = 60
        case "h": factor = 3600
        case "d": factor = 86400
        case "w": factor = 7 * 86400
        default: throw BuildCacheError.invalidDuration(text)
        }
        guard value <= Int64.max / factor else { throw BuildCacheError.invalidDuration(text) }
        return .seconds(value * factor)
    }
}
