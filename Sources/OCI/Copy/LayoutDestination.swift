#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support

/// Writes images into an OCI image layout: the local store, or a layout directory (`oci:DIR`).
///
/// Everything goes into a staging store inside the layout first (blobs checked against their
/// digests, layers against their diffIDs); `commit` moves the blobs in by rename and only then
/// names the image. A copy that fails leaves nothing in the layout, and what a killed one left
/// is removed by `gc`. The layout's shared writer lock is held from `init` to `finish`, so the
/// store's `gc` waits.
public final class LayoutDestination: ImageDestination, @unchecked Sendable {
    /// How a committed image is named in the layout's `index.json`.
    public enum Naming: Sendable {
        /// The store's way: the reference in its familiar form (`hello:1`), replacing the old one.
        case reference(ImageReference)
        /// skopeo's `oci:DIR:REF`: the literal ref name REF.
        case refName(String)
        /// The source's references (`load`), else an entry without a name.
        case fromSource
        /// An entry without a name, which keeps the image from `gc`.
        case untagged
        /// No entry: the caller references the image itself (a base a build uses at once).
        case none
    }

    public let layout: OCILayoutStore
    public let name: String
    let naming: Naming
    private let staging: StagingDirectory
    private let stage: OCILayoutStore
    private var lock: Int32
    /// The uncompressed digests of layers decompressed as they arrived.
    private var diffIDs: [Digest: Digest] = [:]
    private let mutex = NSLock()

    public init(layout: OCILayoutStore, naming: Naming, name: String? = nil) throws {
        self.layout = layout
        self.naming = naming
        self.name = name ?? layout.root
        lock = try FileLock.acquire(layout.root + "/.gc.lock", exclusive: false)
        do {
            (staging, stage) = try layout.makeStaging()
        } catch {
            FileLock.release(lock)
            throw error
        }
    }

    deinit { close() }

    private func close() {
        staging.remove()
        if lock >= 0 { FileLock.release(lock) }
        lock = -1
    }

    public func hasBlob(_ descriptor: Descriptor) async throws -> Bool {
        layout.contains(descriptor.digest) || stage.contains(descriptor.digest)
    }

    public func putBlob(_ descriptor: Descriptor, of image: Manifest, from source: ImageSource,
                        progress: @escaping @Sendable (Int64) -> Void) async throws -> BlobOutcome {
        if let path = source.localPath(of: descriptor), try link(path, descriptor) {
            progress(descriptor.size)
            return .linked
        }
        let writer = try stage.ingest()
        // A compressed layer is decompressed as it arrives, so its diffID is known at the end
        // without a second pass (`verifyLayer`); a stream that does not decompress is left to
        // that pass, which names what is wrong.
        var uncompressed: (digest: DigestingSink, sink: DecompressingSink?)?
        if let compression = MediaType.layerCompression(descriptor.mediaType), compression != .none {
            let digest = DigestingSink(next: nil)
            uncompressed = (digest, try? DecompressingSink(compression, next: digest))
        }
        var received: Int64 = 0
        var attempt = 0
        while true {
            do {
                // The stream resumes at `received`, which is always what the writer holds.
                for try await chunk in try await source.blob(descriptor, offset: received, length: nil) {
                    guard received + Int64(chunk.count) <= descriptor.size else {
                        throw OCIError.sizeMismatch(digest: descriptor.digest, expected: descriptor.size, actual: received + Int64(chunk.count), source: source.name)
                    }
                    try chunk.withUnsafeBytes { bytes in
                        try writer.write(bytes)
                        if let sink = uncompressed?.sink, (try? sink.write(bytes)) == nil { uncompressed?.sink = nil }
                    }
                    received += Int64(chunk.count)
                    progress(received)
                }
                break
            } catch {
                attempt += 1
                guard source.isTransient(error), attempt < 5 else {
                    writer.abort()
                    throw error
                }
                try await Task.sleep(for: .milliseconds(200 << attempt))
            }
        }
        guard received == descriptor.size else {
            writer.abort()
            throw OCIError.sizeMismatch(digest: descriptor.digest, expected: descriptor.size, actual: received, source: source.name)
        }
        do {
            try writer.commit(expected: descriptor.digest)
        } catch let OCIError.digestMismatch(expected, actual, _) {
            throw OCIError.digestMismatch(expected: expected, actual: actual, source: "\(source.name) (it served other bytes; nothing was stored)")
        }
        if let uncompressed, let sink = uncompressed.sink, (try? sink.finish()) != nil {
            mutex.withLock { diffIDs[descriptor.digest] = uncompressed.digest.digest }
        }
        return .downloaded
    }

    /// Links a local blob into the staging store (same file system), then checks it: a link
    /// shares the file, so its bytes are hashed as a copy's would be. False when linking is
    /// not possible (another file system), so the caller copies.
    private func link(_ path: String, _ descriptor: Descriptor) throws -> Bool {
        let target = stage.path(of: descriptor.digest)
        try FileIO.makeDirectories(FileIO.split(target).directory)
        guard Glibc.link(path, target) == 0 else {
            if errno == EEXIST { return true }
            return false
        }
        do {
            let source = try stage.open(descriptor)
            _ = try source.copy(to: NullSink())
        } catch {
            unlink(target)
            throw error
        }
        return true
    }

    public var checksDiffIDs: Bool { true }

    public func verifyLayer(_ layer: Descriptor, diffID: Digest, source: String) async throws {
        if let streamed = mutex.withLock({ diffIDs[layer.digest] }) {
            guard streamed == diffID else {
                throw OCIError.diffIDMismatch(layer: "layer \(layer.digest) of \(source)", expected: diffID, actual: streamed)
            }
            return
        }
        try LayerVerification.verify(layer, diffID: diffID, in: stage.contains(layer.digest) ? stage : layout, source: source)
    }

    public func putManifest(_ content: ManifestContent) async throws {
        let written = try stage.write(content.bytes, mediaType: content.descriptor.mediaType)
        guard written.digest == content.descriptor.digest else {
            throw OCIError.digestMismatch(expected: content.descriptor.digest, actual: written.digest, source: "a manifest copied to \(name)")
        }
    }

    public func commit(_ root: ManifestContent, references: [ImageReference]) async throws {
        try await putManifest(root)
        try layout.adoptBlobs(from: stage)
        var descriptor = root.descriptor
        descriptor.annotations = nil
        switch naming {
        case .reference(let reference):
            try layout.tag(descriptor, as: reference)
        case .refName(let refName):
            try layout.updateIndex { index in
                index.manifests.removeAll { $0.annotations?[AnnotationKey.refName] == refName }
                var named = descriptor
                named.annotations = [AnnotationKey.refName: refName]
                index.manifests.append(named)
            }
        case .fromSource where !references.isEmpty:
            for reference in references { try layout.tag(descriptor, as: reference) }
        case .fromSource, .untagged:
            try layout.updateIndex { index in
                if !index.manifests.contains(where: { $0.digest == descriptor.digest }) { index.manifests.append(descriptor) }
            }
        case .none:
            break
        }
    }

    public func finish() async throws { close() }
}
