import Foundation
import Support

/// Where image content lives: blobs by digest, plus named references to manifests.
///
/// Every read verifies the size and digest of what it returns; every write lands atomically.
public protocol ContentStore: Sendable {
    /// A human-readable location, used in error messages.
    var location: String { get }
    /// True if the blob is present (not verified).
    func contains(_ digest: Digest) -> Bool
    /// Reads a whole blob (for manifests and configs), verifying size and digest.
    func read(_ descriptor: Descriptor) throws -> Data
    /// Streams a blob; the source throws at its end if the bytes do not match `descriptor`.
    func open(_ descriptor: Descriptor) throws -> ByteSource
    /// Stores `data` and returns its descriptor.
    @discardableResult
    func write(_ data: Data, mediaType: String) throws -> Descriptor
    /// Starts a streamed write; the blob appears only when the writer is committed.
    func ingest() throws -> BlobWriter
}

/// A blob being written into a store: hashes while writing, lands atomically on `commit`.
public final class BlobWriter: ByteSink {
    private let digesting: DigestingSink
    private let file: AtomicFileWriter
    private let blobPath: (Digest) -> String

    init(stagingDirectory: String, blobPath: @escaping (Digest) -> String) throws {
        file = try AtomicFileWriter(destination: stagingDirectory + "/ingest", mode: 0o644)
        digesting = DigestingSink(next: file)
        self.blobPath = blobPath
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws { try digesting.write(bytes) }
    public func finish() throws { try digesting.finish() }

    /// Bytes written so far.
    public var count: Int64 { digesting.count }

    /// Moves the blob into place under its digest; throws `digestMismatch` if `expected` is
    /// given and does not match (the blob is then discarded).
    @discardableResult
    public func commit(expected: Digest? = nil) throws -> (digest: Digest, size: Int64) {
        try digesting.finish()
        let digest = digesting.digest
        if let expected, expected != digest {
            file.abort()
            throw OCIError.digestMismatch(expected: expected, actual: digest, source: "the written stream")
        }
        let final = blobPath(digest)
        if FileIO.exists(final) {
            file.abort()
        } else {
            try file.commit(renamingTo: final)
        }
        return (digest, digesting.count)
    }

    /// Discards what was written.
    public func abort() { file.abort() }
}
