#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support

/// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`) used as a
/// content store. It is the embedded default store, and any OCI tool (skopeo, umoci) reads it.
///
/// Concurrency between processes: `index.json` is rewritten atomically under an exclusive
/// lock on `.index.lock`, so concurrent taggers never lose each other's entries; writers hold
/// a shared lock on `.gc.lock` for their whole session (`withWriteSession`) and `gc` takes it
/// exclusively, so a collection never deletes blobs a build is about to reference.
public final class OCILayoutStore: ContentStore {
    /// The layout's root directory.
    public let root: String
    public var location: String { root }

    /// One named reference in `index.json`.
    public struct Entry: Sendable, Hashable {
        /// The reference name as stored (`hello:latest`), nil for an untagged entry.
        public var name: String?
        /// The manifest or index it points to.
        public var descriptor: Descriptor
        /// The reference `resolve` matched by name; nil when it matched a digest or an ID.
        public var matchedReference: ImageReference?

        public init(name: String?, descriptor: Descriptor, matchedReference: ImageReference? = nil) {
            self.name = name
            self.descriptor = descriptor
            self.matchedReference = matchedReference
        }
    }

    /// Opens the layout at `root`, creating it if `create` (the default) and it is absent.
    public init(root: String, create: Bool = true) throws {
        self.root = FileIO.standardize(root)
        let layoutFile = self.root + "/oci-layout"
        if !FileIO.exists(layoutFile) {
            guard create else {
                throw OCIError.notAnImageLayout(path: self.root, reason: "no oci-layout file; build an image first or pass the right --store")
            }
            try FileIO.makeDirectories(self.root + "/blobs/sha256")
            try AtomicFileWriter.write(Data(Self.layoutFileContents.utf8), to: layoutFile)
            if !FileIO.exists(indexPath) {
                try AtomicFileWriter.write(try CanonicalJSON.encode(Index(mediaType: MediaType.ociIndex, manifests: [])), to: indexPath)
            }
        } else {
            let data = try FileIO.readFile(layoutFile)
            struct Layout: Decodable { var imageLayoutVersion: String }
            // What this store (and most tools) write is taken as it is, without a decoder.
            let layout = data.elementsEqual(Self.layoutFileContents.utf8) ? Layout(imageLayoutVersion: "1.0.0")
                : try CanonicalJSON.decode(Layout.self, from: data, what: "\(layoutFile)")
            guard layout.imageLayoutVersion.hasPrefix("1.") else {
                throw OCIError.notAnImageLayout(path: self.root, reason: "unsupported imageLayoutVersion \(layout.imageLayoutVersion)")
            }
            try FileIO.makeDirectories(self.root + "/blobs/sha256")
        }
    }

    var indexPath: String { root + "/index.json" }
    static let layoutFileContents = #"{"imageLayoutVersion":"1.0.0"}"#

    /// The path of a blob.
    public func path(of digest: Digest) -> String {
        "\(root)/blobs/\(digest.algorithm.rawValue)/\(digest.encoded)"
    }

    // MARK: Blobs

    public func contains(_ digest: Digest) -> Bool { FileIO.exists(path(of: digest)) }

    /// The size on disk of a blob, or nil if absent.
    public func size(of digest: Digest) -> Int64? {
        var st = stat()
        return stat(path(of: digest), &st) == 0 ? Int64(st.st_size) : nil
    }

    public func read(_ descriptor: Descriptor) throws -> Data {
        let p = path(of: descriptor.digest)
        guard FileIO.exists(p) else { throw OCIError.blobNotFound(descriptor.digest, store: root) }
        let data = try FileIO.readFile(p)
        guard Int64(data.count) == descriptor.size else {
            throw OCIError.sizeMismatch(digest: descriptor.digest, expected: descriptor.size, actual: Int64(data.count), source: root)
        }
        try descriptor.digest.verify(data, source: "the store at \(root)")
        return data
    }

    /// Reads a blob known only by digest (size taken from disk), verifying its digest.
    public func read(digest: Digest) throws -> Data {
        guard let size = size(of: digest) else { throw OCIError.blobNotFound(digest, store: root) }
        return try read(Descriptor(mediaType: "application/octet-stream", digest: digest, size: size))
    }

    public func open(_ descriptor: Descriptor) throws -> ByteSource {
        let p = path(of: descriptor.digest)
        guard FileIO.exists(p) else { throw OCIError.blobNotFound(descriptor.digest, store: root) }
        return try VerifyingSource(FileSource(path: p), expected: descriptor, sourceName: "the store at \(root)")
    }

    @discardableResult
    public func write(_ data: Data, mediaType: String) throws -> Descriptor {
        let digest = Digest.compute(data)
        let p = path(of: digest)
        if !FileIO.exists(p) {
            let writer = try AtomicFileWriter(destination: p)
            try writer.write(contentsOf: data)
            try writer.commit()
        }
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count))
    }

    public func ingest() throws -> BlobWriter {
        try BlobWriter(stagingDirectory: root + "/blobs/sha256") { [root] digest in
            "\(root)/blobs/\(digest.algorithm.rawValue)/\(digest.encoded)"
        }
    }

    /// Stores a JSON-encodable document canonically and returns its descriptor.
    @discardableResult
    public func writeJSON<T: Encodable>(_ value: T, mediaType: String) throws -> Descriptor {
        try write(try CanonicalJSON.encode(value), mediaType: mediaType)
    }

    // MARK: Index and references

    /// Reads `index.json`.
    public func index() throws -> Index {
        guard FileIO.exists(indexPath) else { return Index(manifests: []) }
        return try CanonicalJSON.decode(Index.self, from: try FileIO.readFile(indexPath), what: "\(indexPath)")
    }

    /// All entries of `index.json`, in file order.
    public func entries() throws -> [Entry] {
        try index().manifests.map { Entry(name: $0.annotations?[AnnotationKey.refName], descriptor: $0) }
    }

    /// Points `name` at `descriptor` (replacing what it pointed at). `name` is stored in its
    /// familiar form (`hello:latest`), so skopeo's `oci:STORE:hello:latest` finds it.
    public func tag(_ descriptor: Descriptor, as reference: ImageReference) throws {
        let name = reference.familiar
        try updateIndex { index in
            index.manifests.removeAll { Self.matches($0, reference) }
            var d = descriptor
            var annotations = d.annotations ?? [:]
            annotations[AnnotationKey.refName] = name
            d.annotations = annotations
            index.manifests.append(d)
        }
    }

    /// Removes the reference `reference`; returns the descriptor it pointed at.
    @discardableResult
    public func untag(_ reference: ImageReference) throws -> Descriptor? {
        var removed: Descriptor?
        try updateIndex { index in
            if let i = index.manifests.firstIndex(where: { Self.matches($0, reference) }) {
                removed = index.manifests.remove(at: i)
            }
        }
        return removed
    }

    /// Removes every index entry whose manifest digest is `digest`; returns how many.
    @discardableResult
    public func removeEntries(digest: Digest) throws -> Int {
        var count = 0
        try updateIndex { index in
            let before = index.manifests.count
            index.manifests.removeAll { $0.digest == digest }
            count = before - index.manifests.count
        }
        return count
    }

    static func matches(_ descriptor: Descriptor, _ reference: ImageReference) -> Bool {
        guard let name = descriptor.annotations?[AnnotationKey.refName],
              let stored = try? ImageReference(parsing: name) else { return false }
        return stored.name == reference.name && stored.tag == reference.tag
    }

    /// Finds the manifest (or index) a user's string names: a reference (`hello`,
    /// `hello:1`, `name@sha256:…`), a full digest, or a unique prefix of a manifest or
    /// image (config) digest of at least 4 hex digits, as docker accepts for image IDs.
    public func resolve(_ string: String) throws -> Entry {
        let entries = try entries()
        let hexPrefix = string.hasPrefix("sha256:") ? String(string.dropFirst(7)) : string
        let looksLikeHex = hexPrefix.count >= 4 && hexPrefix.count <= 64 && hexPrefix.allSatisfy { $0.isHexDigit && !$0.isUppercase }
        if let reference = try? ImageReference(parsing: string), !(looksLikeHex && !string.contains(":") && hexPrefix.count == 64) {
            if let digest = reference.digest {
                if let e = entries.first(where: { $0.descriptor.digest == digest }) { return e }
                if contains(digest) {
                    let data = try read(digest: digest)
                    let probe = try CanonicalJSON.decode(MediaTypeProbe.self, from: data, what: "manifest \(digest)")
                    return Entry(name: nil, descriptor: Descriptor(mediaType: probe.inferredMediaType, digest: digest, size: Int64(data.count)))
                }
            } else if var e = entries.last(where: { Self.matches($0.descriptor, reference) }) {
                e.matchedReference = reference
                return e
            }
        }
        if looksLikeHex {
            var hits: [Entry] = []
            for e in entries where e.descriptor.digest.encoded.hasPrefix(hexPrefix) { hits.append(e) }
            if hits.isEmpty {
                for e in entries {
                    if let config = try? configDescriptor(of: e.descriptor), config.digest.encoded.hasPrefix(hexPrefix) { hits.append(e) }
                }
            }
            let distinct = Set(hits.map(\.descriptor.digest))
            if distinct.count == 1 { return hits[0] }
            if distinct.count > 1 { throw OCIError.ambiguousImage(string, candidates: distinct.map(\.description).sorted()) }
        }
        if (try? ImageReference(parsing: string)) == nil && !looksLikeHex {
            _ = try ImageReference(parsing: string) // rethrows the parse error, which says what is wrong
        }
        throw OCIError.imageNotFound(string, store: root)
    }

    /// The config descriptor of an image manifest (or of the host-platform child of an index).
    public func configDescriptor(of descriptor: Descriptor) throws -> Descriptor {
        try manifest(for: descriptor).config
    }

    /// Loads the image manifest `descriptor` names; for an index, the child matching `platform`.
    public func manifest(for descriptor: Descriptor, platform: Platform = .host) throws -> Manifest {
        let data = try read(descriptor)
        let probe = try CanonicalJSON.decode(MediaTypeProbe.self, from: data, what: "manifest \(descriptor.digest)")
        if MediaType.isIndex(probe.inferredMediaType) {
            let index = try CanonicalJSON.decode(Index.self, from: data, what: "index \(descriptor.digest)")
            return try manifest(for: try PlatformSelection.child(of: index, for: platform, name: "image \(descriptor.digest) in \(root)"), platform: platform)
        }
        return try CanonicalJSON.decode(Manifest.self, from: data, what: "manifest \(descriptor.digest)")
    }

    /// Reads and decodes the config of an image manifest.
    public func config(of manifest: Manifest) throws -> ImageConfig {
        try CanonicalJSON.decode(ImageConfig.self, from: try read(manifest.config), what: "image config \(manifest.config.digest)")
    }

    /// Applies `change` to `index.json` under the index lock and writes it back atomically.
    public func updateIndex(_ change: (inout Index) throws -> Void) throws {
        try withLock(root + "/.index.lock", exclusive: true) {
            var index = try self.index()
            try change(&index)
            try AtomicFileWriter.write(try CanonicalJSON.encode(index), to: indexPath)
        }
    }

    // MARK: Staging

    /// Staging stores (a load or pull verified there before anything reaches this store) are
    /// directories named like this at the store's root.
    public static let stagingPrefix = ".tmp-stage-"

    /// A staging store inside this one, locked while it lives (see `StagingDirectory`): content
    /// is verified there, then `adoptBlobs(from:)` moves it in, so an image that fails a check
    /// leaves nothing in this store.
    public func makeStaging() throws -> (directory: StagingDirectory, store: OCILayoutStore) {
        let directory = try StagingDirectory(in: root, prefix: Self.stagingPrefix)
        return (directory, try OCILayoutStore(root: directory.path))
    }

    /// Moves every blob of `staging` (another layout on the same file system) into this store,
    /// each by an atomic rename; blobs this store has already are left where they were. Call it
    /// inside a write session, before naming what the blobs make up.
    public func adoptBlobs(from staging: OCILayoutStore) throws {
        for algorithm in Digest.Algorithm.allCases {
            let from = "\(staging.root)/blobs/\(algorithm.rawValue)"
            guard let names = FileIO.names(inDirectory: from) else { continue }
            let to = "\(root)/blobs/\(algorithm.rawValue)"
            try FileIO.makeDirectories(to)
            for name in names where !name.hasPrefix(".tmp-") {
                guard let digest = try? Digest(parsing: "\(algorithm.rawValue):\(name)"), !contains(digest) else { continue }
                guard rename(from + "/" + name, to + "/" + name) == 0 else {
                    throw OCIError.io(path: to + "/" + name, operation: "move a verified blob to", errno: errno)
                }
            }
            FileIO.syncDirectory(to)
        }
    }

    // MARK: Sessions, locks and GC

    /// Runs `body` while holding the store's shared writer lock, so `gc` waits for it.
    public func withWriteSession<T>(_ body: () throws -> T) throws -> T {
        try withLock(root + "/.gc.lock", exclusive: false, body)
    }

    /// The async form of `withWriteSession` (for pulls, which write as blobs arrive).
    public func withAsyncWriteSession<T>(_ body: () async throws -> T) async throws -> T {
        let fd = try FileLock.acquire(root + "/.gc.lock", exclusive: false)
        defer { FileLock.release(fd) }
        return try await body()
    }

    /// What a garbage collection removed.
    public struct GCReport: Sendable {
        public var removedBlobs: [Digest] = []
        public var reclaimedBytes: Int64 = 0
        public var removedTemporaryFiles = 0
    }

    /// Deletes every blob no index entry reaches, and leftover temporary files.
    /// Waits for running writers; blobs are found from manifests, indexes and their children.
    /// `keeping` names more blobs to keep (a build cache's layers); it is asked once the
    /// writers are done, so nothing a build just recorded is lost. `beforeCollecting` runs
    /// under the same lock first (to drop cache records with the blobs they keep).
    public func gc(dryRun: Bool = false, beforeCollecting: () throws -> Void = {}, keeping: () -> [Digest] = { [] }) throws -> GCReport {
        try withLock(root + "/.gc.lock", exclusive: true) {
            try beforeCollecting()
            // A child the store lacks is no reason to keep or delete anything else.
            let reachable = Set(try ImageGraph.reachable(from: try index().manifests) { d in
                contains(d.digest) ? try read(d) : nil
            }.map(\.digest)).union(keeping())
            var report = GCReport()
            for algorithm in Digest.Algorithm.allCases {
                let dir = "\(root)/blobs/\(algorithm.rawValue)"
                guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
                for name in names.sorted() {
                    let p = dir + "/" + name
                    if name.hasPrefix(".tmp-") {
                        report.removedTemporaryFiles += 1
                        if !dryRun { unlink(p) }
                        continue
                    }
                    guard let digest = try? Digest(parsing: "\(algorithm.rawValue):\(name)"), !reachable.contains(digest) else { continue }
                    report.removedBlobs.append(digest)
                    report.reclaimedBytes += size(of: digest) ?? 0
                    if !dryRun { unlink(p) }
                }
            }
            for name in FileIO.names(inDirectory: root) ?? [] where name.hasPrefix(".tmp-") {
                var st = stat()
                guard lstat(root + "/" + name, &st) == 0, (st.st_mode & S_IFMT) != S_IFDIR else { continue }
                report.removedTemporaryFiles += 1
                if !dryRun { unlink(root + "/" + name) }
            }
            // Staging stores and archive scratch layouts of copies that were interrupted (those
            // still running hold their lock).
            report.removedTemporaryFiles += StagingDirectory.removeAbandoned(in: root, prefix: ".tmp-", dryRun: dryRun)
            return report
        }
    }

    private func withLock<T>(_ lockPath: String, exclusive: Bool, _ body: () throws -> T) throws -> T {
        try FileLock.with(lockPath, exclusive: exclusive, body)
    }
}

/// Passes bytes through while hashing them; at the end of the stream, throws if the size or
/// digest differs from the descriptor, so corrupt content is never silently used.
public final class VerifyingSource: ByteSource {
    private let inner: ByteSource
    private let expected: Descriptor
    private let sourceName: String
    private var digester: Digester
    private var verified = false

    public init(_ inner: ByteSource, expected: Descriptor, sourceName: String) {
        self.inner = inner
        self.expected = expected
        self.sourceName = sourceName
        self.digester = Digester(algorithm: expected.digest.algorithm)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try inner.read(into: buffer)
        if n > 0 {
            digester.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            if digester.count > expected.size {
                throw OCIError.sizeMismatch(digest: expected.digest, expected: expected.size, actual: digester.count, source: sourceName)
            }
            return n
        }
        if !verified {
            verified = true
            guard digester.count == expected.size else {
                throw OCIError.sizeMismatch(digest: expected.digest, expected: expected.size, actual: digester.count, source: sourceName)
            }
            let actual = digester.finalize()
            guard actual == expected.digest else {
                throw OCIError.digestMismatch(expected: expected.digest, actual: actual, source: sourceName)
            }
        }
        return 0
    }
}
