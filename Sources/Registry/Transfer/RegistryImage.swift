import Foundation
import HTTPCore
import NIOCore
import OCI

/// An image in a registry repository (`docker://REF`), read through a `RegistryClient`.
public struct RegistryImageSource: ImageSource {
    public let client: RegistryClient
    public let reference: ImageReference
    /// Configs and other non-manifest content read whole are refused above this size.
    static let contentLimit = 64 << 20

    public init(client: RegistryClient, reference: ImageReference) {
        self.client = client
        self.reference = reference
    }

    public var name: String { reference.description }
    public var references: [ImageReference] { reference.tag != nil && reference.digest == nil ? [reference] : [] }
    public var registryRepository: (registry: String, repository: String)? { (client.registry, reference.repository) }

    public func root() async throws -> ManifestContent {
        let fetched = try await client.manifest(reference.repository, reference: reference.digest?.description ?? reference.tag ?? "latest")
        return ManifestContent(descriptor: fetched.descriptor, bytes: fetched.bytes)
    }

    public func content(_ descriptor: Descriptor) async throws -> Data {
        if MediaType.isManifest(descriptor.mediaType) || MediaType.isIndex(descriptor.mediaType) {
            return try await client.manifest(reference.repository, reference: descriptor.digest.description).bytes
        }
        guard descriptor.size <= Self.contentLimit else {
            throw RegistryError.badResponse(url: "\(client.registry)/\(reference.repository)@\(descriptor.digest)",
                                            detail: "a config of \(descriptor.size) bytes is larger than the \(Self.contentLimit >> 20) MiB stackship reads")
        }
        let body = try await client.blobStream(reference.repository, digest: descriptor.digest)
        var data = Data()
        for try await chunk in body {
            data.append(contentsOf: chunk.readableBytesView)
            guard data.count <= descriptor.size else { break }
        }
        guard Int64(data.count) == descriptor.size else {
            throw OCIError.sizeMismatch(digest: descriptor.digest, expected: descriptor.size, actual: Int64(data.count), source: "\(client.registry)/\(reference.repository)")
        }
        let actual = Digest.compute(data, algorithm: descriptor.digest.algorithm)
        guard actual == descriptor.digest else {
            throw OCIError.digestMismatch(expected: descriptor.digest, actual: actual, source: "\(client.registry)/\(reference.repository)")
        }
        return data
    }

    public func blob(_ descriptor: Descriptor, offset: Int64, length: Int64?) async throws -> BlobChunks {
        let (body, skip) = try await client.blobBody(reference.repository, digest: descriptor.digest, offset: offset, length: length)
        let chunks = ResponseChunks(body, skip: skip, limit: length)
        return BlobChunks(unfolding: { try await chunks.next() })
    }

    public func isTransient(_ error: Error) -> Bool { HTTPError.isTransient(error) }
}

/// A response body as Data chunks, dropping the first `skip` bytes (a server that ignored a
/// Range request sends the blob from its start). Used by one task at a time.
final class ResponseChunks: @unchecked Sendable {
    private var iterator: HTTPBody.AsyncIterator
    private var skip: Int64
    /// Bytes still to return, when a length was asked for.
    private var remaining: Int64?

    init(_ body: HTTPBody, skip: Int64, limit: Int64?) {
        iterator = body.makeAsyncIterator()
        self.skip = skip
        self.remaining = limit
    }

    func next() async throws -> Data? {
        if let remaining, remaining <= 0 { return nil }
        while let buffer = try await iterator.next() {
            var view = buffer.readableBytesView[...]
            if skip > 0 {
                let dropped = min(Int64(view.count), skip)
                view = view.dropFirst(Int(dropped))
                skip -= dropped
            }
            if let left = remaining {
                view = view.prefix(Int(min(Int64(view.count), left)))
                remaining = left - Int64(view.count)
            }
            if !view.isEmpty { return Data(view) }
        }
        return nil
    }
}

/// A registry repository as a destination (`docker://REF`): blobs it has are skipped, blobs on
/// the same registry are mounted, the rest uploaded (a local blob hashed as it streams, so a
/// corrupt one fails before its last byte); manifests go up after what they reference.
public struct RegistryImageDestination: ImageDestination {
    public let client: RegistryClient
    public let reference: ImageReference

    public init(client: RegistryClient, reference: ImageReference) {
        self.client = client
        self.reference = reference
    }

    public var name: String { reference.description }
    public var checksDiffIDs: Bool { false }
    public func verifyLayer(_ layer: Descriptor, diffID: Digest, source: String) async throws {}

    public func hasBlob(_ descriptor: Descriptor) async throws -> Bool {
        try await client.blobExists(reference.repository, digest: descriptor.digest)
    }

    public func putBlob(_ descriptor: Descriptor, of image: Manifest, from source: ImageSource,
                        progress: @escaping @Sendable (Int64) -> Void) async throws -> BlobOutcome {
        let result = try await client.uploadBlob(reference.repository, descriptor: descriptor, mountFrom: mountSource(for: image, from: source),
                                                 checkFirst: false) { offset, length in
            var chunks = try await source.blob(descriptor, offset: offset, length: length)
            if offset == 0 && length == descriptor.size { chunks = BlobFile.verifying(chunks, descriptor, source: source.name) }
            let buffers = BufferChunks(chunks)
            return .stream(AsyncThrowingStream<ByteBuffer, Error>(unfolding: { try await buffers.next() }), length: length)
        }
        progress(descriptor.size)
        switch result {
        case .existed: return .existed
        case .mounted: return .mounted
        case .uploaded: return .uploaded
        }
    }

    /// The repository of this registry to mount from: the source's, or the base image's that the
    /// manifest's annotations name.
    private func mountSource(for image: Manifest, from source: ImageSource) -> String? {
        if let (registry, repository) = source.registryRepository, registry == client.registry { return repository }
        guard let base = image.annotations?[AnnotationKey.baseName].flatMap({ try? ImageReference(parsing: $0) }),
              base.registry == client.registry else { return nil }
        return base.repository
    }

    public func putManifest(_ content: ManifestContent) async throws {
        try await client.putManifest(reference.repository, reference: content.descriptor.digest.description, bytes: content.bytes,
                                     mediaType: content.descriptor.mediaType)
    }

    public func commit(_ root: ManifestContent, references: [ImageReference]) async throws {
        try await client.putManifest(reference.repository, reference: reference.tag ?? root.descriptor.digest.description,
                                     bytes: root.bytes, mediaType: root.descriptor.mediaType)
    }

    public func finish() async throws {}
}

/// Data chunks as ByteBuffers, for an upload body. Used by one task at a time.
final class BufferChunks: @unchecked Sendable {
    private var iterator: BlobChunks.AsyncIterator
    init(_ chunks: BlobChunks) { iterator = chunks.makeAsyncIterator() }
    func next() async throws -> ByteBuffer? {
        guard let data = try await iterator.next() else { return nil }
        return ByteBuffer(bytes: data)
    }
}

extension RegistryClient {
    /// A blob's body from `offset` (`length` bytes, or to its end), and how many leading bytes
    /// to drop when the registry ignored the Range and sent the whole blob.
    func blobBody(_ repository: String, digest: Digest, offset: Int64, length: Int64?) async throws -> (HTTPBody, Int64) {
        let path = "/v2/\(repository)/blobs/\(digest)"
        let ranged = offset > 0 || length != nil
        let range = ranged ? [("Range", "bytes=\(offset)-\(length.map { String(offset + $0 - 1) } ?? "")")] : []
        let response = try await send("fetch blob \(digest)", path, scopes: [.pull(repository)], headers: range, followRedirects: true)
        if response.status == .partialContent && ranged { return (response.body, 0) }
        guard response.status == .ok else {
            throw await failure("fetch blob", response, url: path, repository: repository, what: "blob \(digest) in \(repository)")
        }
        return (response.body, offset)
    }
}
