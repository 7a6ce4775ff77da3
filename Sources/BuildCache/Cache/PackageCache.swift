#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI

/// One binary cache on one backend: push, index, verify, garbage-collect (see `CacheLayout`).
///
/// A push writes the artifact, then the metadata and its signature, then the index entry, each
/// whole; so a reader that sees an index entry finds everything it names, and a push that dies
/// midway leaves only objects no index entry names, which `gc` removes once they are older than
/// its minimum age. No locks are taken: concurrent pushers of different packages touch
/// different objects, and concurrent pushers of the same package each write complete,
/// content-named sets of which the index entry picks one.
public struct PackageCache: Sendable {
    /// Where the objects live.
    public let backend: any CacheBackend

    /// A cache on `backend`.
    public init(_ backend: any CacheBackend) { self.backend = backend }

    /// The backend's location, for messages.
    public var location: String { backend.location }

    // MARK: Index

    /// The index entry of `hash`, or nil if the package is not cached here.
    public func entry(_ hash: PackageHash) async throws -> IndexEntry? {
        let key = CacheLayout.indexKey(hash)
        guard let data = try await backend.getData(key) else { return nil }
        return try decodeEntry(data, key: key)
    }

    /// True if the cache has an index entry for `hash`.
    public func contains(_ hash: PackageHash) async throws -> Bool {
        try await backend.head(CacheLayout.indexKey(hash)) != nil
    }

    /// Every index entry: listed under `index/`, read from the compacted snapshot where the
    /// snapshot has the same object (same size and time), else fetched one by one.
    public func index() async throws -> CacheIndex {
        try await readIndex(listing: try await backend.list(prefix: CacheLayout.indexPrefix)).index
    }

    /// Writes the compacted snapshot of the index (an optimisation for readers: one object to
    /// read instead of one per package); returns how many entries it holds.
    @discardableResult
    public func compactIndex() async throws -> Int {
        let listing = try await backend.list(prefix: CacheLayout.indexPrefix)
        let (_, records) = try await readIndex(listing: listing)
        try await backend.put(CacheLayout.snapshotKey, data: try CanonicalJSON.encode(IndexSnapshot(entries: records)))
        return records.count
    }

    /// Reads the entries of `listing`, using the snapshot where it is current.
    func readIndex(listing: [CacheObject]) async throws -> (index: CacheIndex, records: [IndexSnapshot.Record]) {
        var snapshot: [String: IndexSnapshot.Record] = [:]
        if let data = try? await backend.getData(CacheLayout.snapshotKey, limit: 1 << 30),
           let decoded = try? JSONDecoder().decode(IndexSnapshot.self, from: data) {
            for r in decoded.entries { snapshot[r.key] = r }
        }
        var records: [IndexSnapshot.Record] = []
        var missing: [CacheObject] = []
        for object in listing where CacheLayout.hash(ofKey: object.key) != nil {
            if let r = snapshot[object.key], r.size == object.size, r.modifiedMilliseconds == IndexSnapshot.milliseconds(object.modified) {
                records.append(r)
            } else {
                missing.append(object)
            }
        }
        var unreadable: [String: String] = [:]
        let fetched = try await concurrentMap(missing, limit: 8) { object -> Result<IndexSnapshot.Record?, Error> in
            do {
                guard let data = try await backend.getData(object.key) else { return .success(nil) } // deleted meanwhile
                let entry = try decodeEntry(data, key: object.key)
                return .success(IndexSnapshot.Record(key: object.key, size: object.size, modified: object.modified, entry: entry))
            } catch {
                return .failure(error)
            }
        }
        for (object, result) in zip(missing, fetched) {
            switch result {
            case .success(let r?): records.append(r)
            case .success(nil): continue
            case .failure(let e): unreadable[object.key] = "\(e)"
            }
        }
        records.sort { $0.key < $1.key }
        let entries = records.map(\.entry).sorted {
            ($0.metadata.name, $0.metadata.version, $0.hash.value) < ($1.metadata.name, $1.metadata.version, $1.hash.value)
        }
        return (CacheIndex(entries: entries, unreadable: unreadable), records)
    }

    func decodeEntry(_ data: Data, key: String) throws -> IndexEntry {
        let entry: IndexEntry
        do { entry = try JSONDecoder().decode(IndexEntry.self, from: data) } catch {
            throw BuildCacheError.malformed(what: "index entry \(key) in \(location)", detail: Self.decodingDetail(error))
        }
        guard key == CacheLayout.indexKey(entry.hash) else {
            throw BuildCacheError.malformed(what: "index entry \(key) in \(location)", detail: "it describes package \(entry.hash)")
        }
        return entry
    }

    static func decodingDetail(_ error: Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, _): return "missing key '\(key.stringValue)'"
        case let DecodingError.dataCorrupted(context): return context.underlyingError.map { "\($0)" } ?? context.debugDescription
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
            return "\(context.debugDescription) at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "\(error)"
        }
    }

    // MARK: Push

    /// Pushes the artifact file at `artifact` as package `info`, signed by `signer` (nil: unsigned).
    ///
    /// If the package is already cached nothing is written (`pushed` false) unless `replace`.
    /// Order: artifact, metadata, signature, then the index entry (create-only unless `replace`,
    /// so of two racing first pushes one wins and the other reports the winner's entry).
    public func push(artifact: String, info: PackageInfo, signer: SigningKey?, replace: Bool = false, created: Date = Date()) async throws -> PushResult {
        if !replace, let existing = try await entry(info.hash) {
            return PushResult(entry: existing, pushed: false, cache: location)
        }
        let file = try ArtifactBuilder.describe(artifact)
        let metadata = PackageMetadata(info: info, artifactDigest: file.digest, size: file.size, compression: file.compression, created: created)
        let metadataBytes = try metadata.canonicalBytes()
        let metadataDigest = Digest.compute(metadataBytes)
        let signature = try signer?.sign(metadataBytes)
        let entry = IndexEntry(metadata: metadata, metadataDigest: metadataDigest, keyID: signature?.keyID)

        try await backend.put(CacheLayout.artifactKey(metadata), fromFile: artifact)
        try await backend.put(CacheLayout.metadataKey(info.hash, metadataDigest), data: metadataBytes)
        if let signature {
            try await backend.put(CacheLayout.signatureKey(info.hash, metadataDigest), data: try CanonicalJSON.encode(signature))
        }
        let entryBytes = try CanonicalJSON.encode(entry)
        if replace {
            try await backend.put(CacheLayout.indexKey(info.hash), data: entryBytes)
        } else if try await !backend.putIfAbsent(CacheLayout.indexKey(info.hash), data: entryBytes) {
            // Another pusher won; our objects are unreferenced and gc removes them.
            if let winner = try await self.entry(info.hash) {
                return PushResult(entry: winner, pushed: false, cache: location)
            }
            // The winner's entry vanished meanwhile (gc): ours is complete, so it takes the place.
            try await backend.put(CacheLayout.indexKey(info.hash), data: entryBytes)
        }
        return PushResult(entry: entry, pushed: true, cache: location)
    }

    // MARK: Verify

    /// Downloads `hash`'s artifact into a new file at `path` and verifies it: the metadata's
    /// signature against `trust` (before anything else is believed), then the artifact's size and
    /// digest against the signed metadata. On any failure the file at `path` is removed.
    public func download(_ hash: PackageHash, to path: String, trust: TrustPolicy) async throws -> VerifiedPackage {
        guard let entry = try await entry(hash) else { throw BuildCacheError.notCached(hash, caches: [location]) }
        let (metadata, keyID) = try await verifiedMetadata(entry, trust: trust)
        do {
            try await backend.get(CacheLayout.artifactKey(metadata), toFile: path)
            let file = try ArtifactBuilder.describe(path)
            guard file.size == metadata.size else {
                throw BuildCacheError.artifactSizeMismatch(hash, expected: metadata.size, actual: file.size, cache: location)
            }
            guard file.digest == metadata.artifactDigest else {
                throw BuildCacheError.artifactDigestMismatch(hash, expected: metadata.artifactDigest, actual: file.digest, cache: location)
            }
        } catch {
            unlink(path)
            if case BuildCacheError.objectNotFound = error {
                throw BuildCacheError.metadataMismatch(hash, reason: "its artifact \(CacheLayout.artifactKey(metadata)) is missing", cache: location)
            }
            throw error
        }
        return VerifiedPackage(metadata: metadata, keyID: keyID, cache: location)
    }

    /// Verifies `hash` (signature and artifact digest) without keeping the artifact.
    public func verify(_ hash: PackageHash, trust: TrustPolicy) async throws -> VerifiedPackage {
        let temp = TemporaryFile()
        defer { temp.remove() }
        return try await download(hash, to: temp.path, trust: trust)
    }

    /// Verifies every package of the index; returns each package's outcome, sorted by hash.
    public func verifyAll(trust: TrustPolicy) async throws -> [(hash: PackageHash, result: Result<VerifiedPackage, Error>)] {
        let listing = try await backend.list(prefix: CacheLayout.indexPrefix)
        let hashes = listing.compactMap { CacheLayout.hash(ofKey: $0.key) }.sorted()
        let results = try await concurrentMap(hashes, limit: 4) { hash -> Result<VerifiedPackage, Error> in
            do { return .success(try await verify(hash, trust: trust)) } catch { return .failure(error) }
        }
        return Array(zip(hashes, results)).map { (hash: $0.0, result: $0.1) }
    }

    /// Reads the metadata an index entry names and checks its signature, then its consistency.
    func verifiedMetadata(_ entry: IndexEntry, trust: TrustPolicy) async throws -> (PackageMetadata, String?) {
        let hash = entry.hash
        let metadataKey = CacheLayout.metadataKey(hash, entry.metadataDigest)
        guard let bytes = try await backend.getData(metadataKey) else {
            throw BuildCacheError.metadataMismatch(hash, reason: "its metadata object \(metadataKey) is missing", cache: location)
        }
        var keyID: String?
        if let sigData = try await backend.getData(CacheLayout.signatureKey(hash, entry.metadataDigest)) {
            let signature: PackageSignature
            do { signature = try JSONDecoder().decode(PackageSignature.self, from: sigData) } catch {
                throw BuildCacheError.badSignature(hash, keyID: "unreadable", cache: location)
            }
            guard let key = trust.trustedKeys[signature.keyID] else {
                throw BuildCacheError.untrustedSigner(hash, keyID: signature.keyID, cache: location)
            }
            guard key.isValid(signature, for: bytes) else {
                throw BuildCacheError.badSignature(hash, keyID: signature.keyID, cache: location)
            }
            keyID = signature.keyID
        } else if !trust.allowUnsigned {
            throw BuildCacheError.unsigned(hash, cache: location)
        }
        let metadata: PackageMetadata
        do { metadata = try JSONDecoder().decode(PackageMetadata.self, from: bytes) } catch {
            throw BuildCacheError.malformed(what: "metadata of package \(hash) in \(location)", detail: Self.decodingDetail(error))
        }
        guard metadata.hash == hash else {
            throw BuildCacheError.metadataMismatch(hash, reason: "the metadata describes package \(metadata.hash)", cache: location)
        }
        guard Digest.compute(bytes) == entry.metadataDigest else {
            throw BuildCacheError.metadataMismatch(hash, reason: "the metadata object does not match the digest its index entry names", cache: location)
        }
        return (metadata, keyID)
    }
}

/// The compacted index: every entry with the size and time of the object it was read from, so
/// a reader can tell which entries changed since.
struct IndexSnapshot: Codable, Sendable {
    struct Record: Codable, Sendable {
        var key: String
        var size: Int64
        var modifiedMilliseconds: Int64
        var entry: IndexEntry

        init(key: String, size: Int64, modified: Date, entry: IndexEntry) {
            self.key = key
            self.size = size
            self.modifiedMilliseconds = IndexSnapshot.milliseconds(modified)
            self.entry = entry
        }
    }

    var schemaVersion = 1
    var entries: [Record]

    init(entries: [Record]) { self.entries = entries }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
}

/// Maps `items` with at most `limit` concurrent calls, keeping the order.
func concurrentMap<T: Sendable, R: Sendable>(_ items: [T], limit: Int, _ transform: @escaping @Sendable (T) async throws -> R) async throws -> [R] {
    try await withThrowingTaskGroup(of: (Int, R).self) { group in
        var results = [R?](repeating: nil, count: items.count)
        var next = 0
        while next < min(limit, items.count) {
            let i = next, item = items[i]
            group.addTask { (i, try await transform(item)) }
            next += 1
        }
        while let (i, r) = try await group.next() {
            results[i] = r
            if next < items.count {
                let j = next, item = items[j]
                group.addTask { (j, try await transform(item)) }
                next += 1
            }
        }
        return results.map { $0! }
    }
}
