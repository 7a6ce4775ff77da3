#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support

/// A blob's bytes as they arrive, chunk by chunk, whatever holds them (a file, a registry).
public typealias BlobChunks = AsyncThrowingStream<Data, Error>

/// A manifest or index: its descriptor and its exact bytes (what the digest covers).
public struct ManifestContent: Sendable, Hashable {
    public var descriptor: Descriptor
    public var bytes: Data

    public init(descriptor: Descriptor, bytes: Data) {
        self.descriptor = descriptor
        self.bytes = bytes
    }
}

/// Where an image is read from: the local store, an OCI layout directory, an archive, a
/// registry repository. A source names one image (a manifest, or an index of them) and reads
/// its graph; `ImageCopier` walks the graph and moves what the destination lacks.
///
/// Manifests and other small content are returned verified against their digests. Blob
/// streams are not: the destination hashes what it stores and refuses a mismatch.
public protocol ImageSource: Sendable {
    /// How the user named it, for messages (`oci:/tmp/layout:1`, `docker://localhost:5000/a:1`).
    var name: String { get }
    /// The references this image is known by at the source (an archive's names, a pulled
    /// tag), for destinations that name images as their source does (`load`).
    var references: [ImageReference] { get }
    /// The manifest or index the source names.
    func root() async throws -> ManifestContent
    /// A manifest, an index or a config by descriptor, verified against its digest and size.
    func content(_ descriptor: Descriptor) async throws -> Data
    /// A blob's bytes from `offset` (to its end, or `length` bytes).
    func blob(_ descriptor: Descriptor, offset: Int64, length: Int64?) async throws -> BlobChunks
    /// The registry repository this source is, so a destination on the same registry can mount
    /// blobs instead of sending them.
    var registryRepository: (registry: String, repository: String)? { get }
    /// A local file holding the blob, so a destination on the same file system can link it.
    func localPath(of descriptor: Descriptor) -> String?
    /// True if a failure while streaming a blob may pass when the stream is opened again at
    /// the offset reached (a dropped connection); false for local sources.
    func isTransient(_ error: Error) -> Bool
}

extension ImageSource {
    public var references: [ImageReference] { [] }
    public var registryRepository: (registry: String, repository: String)? { nil }
    public func localPath(of descriptor: Descriptor) -> String? { nil }
    public func isTransient(_ error: Error) -> Bool { false }
}

/// Reads a region of a file as chunks (a local blob).
public enum BlobFile {
    /// The bytes of `path` from `offset`, `length` of them, in chunks of `chunkSize`.
    public static func chunks(path: String, offset: Int64 = 0, length: Int64, chunkSize: Int = 1 << 20) -> BlobChunks {
        let reader = FileRegionReader(path: path, offset: offset, length: length, chunkSize: chunkSize)
        return BlobChunks(unfolding: { try reader.next() })
    }
}

/// A file region read with pread, one chunk per call; safe to call from one task at a time,
/// which is how an AsyncThrowingStream's iterator calls it.
final class FileRegionReader: @unchecked Sendable {
    private let path: String
    private var position: Int64
    private let end: Int64
    private let chunkSize: Int
    private var fd: Int32 = -1

    init(path: String, offset: Int64, length: Int64, chunkSize: Int) {
        self.path = path
        self.position = offset
        self.end = offset + max(0, length)
        self.chunkSize = chunkSize
    }

    deinit { if fd >= 0 { close(fd) } }

    func next() throws -> Data? {
        guard position < end else {
            if fd >= 0 { close(fd); fd = -1 }
            return nil
        }
        if fd < 0 { fd = try FileIO.open(path, O_RDONLY) }
        let want = Int(min(Int64(chunkSize), end - position))
        var data = Data(count: want)
        let n = try data.withUnsafeMutableBytes { raw -> Int in
            while true {
                let got = pread(fd, raw.baseAddress, want, off_t(position))
                if got >= 0 { return got }
                if errno == EINTR { continue }
                throw OCIError.io(path: path, operation: "read", errno: errno)
            }
        }
        guard n > 0 else {
            throw OCIError.io(path: path, operation: "read (the file ended early)", errno: EIO)
        }
        position += Int64(n)
        if n < want { data.removeSubrange(n...) }
        return data
    }
}

extension BlobFile {
    /// `chunks`, passed through while hashed; when they add up to `descriptor`'s size, a digest
    /// that does not match is thrown instead of the last chunk, so a corrupt local blob is never
    /// completed on the far side.
    public static func verifying(_ chunks: BlobChunks, _ descriptor: Descriptor, source: String) -> BlobChunks {
        let state = VerifyingChunks(chunks, descriptor, source: source)
        return BlobChunks(unfolding: { try await state.next() })
    }
}

/// The state of `BlobFile.verifying`; used by one task at a time (the stream's iterator).
final class VerifyingChunks: @unchecked Sendable {
    private var iterator: BlobChunks.AsyncIterator
    private var digester: Digester
    private var count: Int64 = 0
    private let descriptor: Descriptor
    private let source: String

    init(_ chunks: BlobChunks, _ descriptor: Descriptor, source: String) {
        iterator = chunks.makeAsyncIterator()
        digester = Digester(algorithm: descriptor.digest.algorithm)
        self.descriptor = descriptor
        self.source = source
    }

    func next() async throws -> Data? {
        guard let chunk = try await iterator.next() else { return nil }
        chunk.withUnsafeBytes { digester.update($0) }
        count += Int64(chunk.count)
        if count >= descriptor.size {
            let actual = digester.finalize()
            guard count == descriptor.size, actual == descriptor.digest else {
                throw count == descriptor.size
                    ? OCIError.digestMismatch(expected: descriptor.digest, actual: actual, source: source)
                    : OCIError.sizeMismatch(digest: descriptor.digest, expected: descriptor.size, actual: count, source: source)
            }
        }
        return chunk
    }
}
