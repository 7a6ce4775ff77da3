import AsyncHTTPClient
import Foundation
import NIOCore
import OCI

/// What happened to one blob of a transfer.
public enum BlobOutcome: String, Sendable {
    case existed, mounted, uploaded, downloaded, alreadyLocal
}

/// Progress of a push, pull or copy, for the CLI to show.
public enum TransferEvent: Sendable {
    case blobStarted(Digest, size: Int64)
    case blobProgress(Digest, done: Int64, size: Int64)
    case blobFinished(Digest, size: Int64, BlobOutcome)
    case manifestWritten(String, Digest)
}

/// Options of a transfer.
public struct TransferOptions: Sendable {
    /// Blobs moved at once.
    public var jobs: Int
    /// The platform taken from an index (ignored with `allPlatforms`).
    public var platform: Platform
    /// Keep a whole index with every child, instead of one platform.
    public var allPlatforms: Bool

    public init(jobs: Int = 4, platform: Platform = .host, allPlatforms: Bool = false) {
        self.jobs = max(1, jobs)
        self.platform = platform
        self.allPlatforms = allPlatforms
    }
}

/// Moves images between the local store and registries, and between registries.
public enum ImageTransfer {
    public typealias Events = @Sendable (TransferEvent) -> Void

    // MARK: Push

    /// Pushes the image `descriptor` (a manifest or an index with its children) from `store` to
    /// `destination`. Blobs the repository has are skipped; base layers recorded in the image's
    /// annotations are mounted from the base's repository when it is on the same registry.
    /// Manifests go up only after everything they reference.
    @discardableResult
    public static func push(_ descriptor: Descriptor, from store: OCILayoutStore, to destination: ImageReference,
                            client: RegistryClient, options: TransferOptions = TransferOptions(),
                            events: @escaping Events = { _ in }) async throws -> Descriptor {
        let repository = destination.repository
        let bytes = try store.read(descriptor)
        let probe = try CanonicalJSON.decode(MediaTypeProbe.self, from: bytes, what: "manifest \(descriptor.digest)")
        if let children = probe.manifests {
            for child in children where store.contains(child.digest) {
                try await pushImageManifest(child, from: store, repository: repository, tag: nil, client: client, options: options, events: events)
            }
        } else {
            try await pushBlobs(of: bytes, from: store, repository: repository, client: client, options: options, events: events)
        }
        let reference = destination.tag ?? descriptor.digest.description
        try await client.putManifest(repository, reference: reference, bytes: bytes, mediaType: probe.inferredMediaType)
        events(.manifestWritten("\(destination.name):\(reference)", descriptor.digest))
        return descriptor
    }

    private static func pushImageManifest(_ descriptor: Descriptor, from store: OCILayoutStore, repository: String, tag: String?,
                                          client: RegistryClient, options: TransferOptions, events: @escaping Events) async throws {
        let bytes = try store.read(descriptor)
        try await pushBlobs(of: bytes, from: store, repository: repository, client: client, options: options, events: events)
        try await client.putManifest(repository, reference: tag ?? descriptor.digest.description, bytes: bytes, mediaType: descriptor.mediaType)
        events(.manifestWritten("\(repository)@\(descriptor.digest)", descriptor.digest))
    }

    private static func pushBlobs(of manifestBytes: Data, from store: OCILayoutStore, repository: String, client: RegistryClient,
                                  options: TransferOptions, events: @escaping Events) async throws {
        let manifest = try CanonicalJSON.decode(Manifest.self, from: manifestBytes, what: "manifest")
        let base = manifest.annotations?[AnnotationKey.baseName].flatMap { try? ImageReference(parsing: $0) }
        let mountFrom = base?.registry == client.registry ? base?.repository : nil
        let blobs = [manifest.config] + manifest.layers
        let root = store
        try await forEach(blobs, jobs: options.jobs) { blob in
            if try await client.blobExists(repository, digest: blob.digest) {
                events(.blobFinished(blob.digest, size: blob.size, .existed))
                return
            }
            guard root.size(of: blob.digest) == blob.size else {
                throw root.contains(blob.digest)
                    ? OCIError.sizeMismatch(digest: blob.digest, expected: blob.size, actual: root.size(of: blob.digest) ?? 0, source: root.root)
                    : OCIError.blobNotFound(blob.digest, store: root.root)
            }
            events(.blobStarted(blob.digest, size: blob.size))
            let path = root.path(of: blob.digest)
            // Hashed as it streams: a corrupt local blob fails before its last byte is sent.
            let result = try await client.uploadBlob(repository, descriptor: blob, mountFrom: mountFrom, checkFirst: false) { offset, length in
                .stream(FileChunks(path: path, offset: offset, length: length, verifying: offset == 0 && length == blob.size ? blob.digest : nil),
                        length: .known(length))
            }
            events(.blobFinished(blob.digest, size: blob.size, BlobOutcome(result)))
        }
    }

    // MARK: Pull

    /// Pulls `source` into `store`: for an index, the child for `options.platform` (or all of
    /// them with `allPlatforms`). Every blob is verified as it streams, and every new layer
    /// against its config's diffID once it is in. Everything lands in a staging store first and
    /// moves into `store` only when all checks pass, so a registry serving a lying image leaves
    /// nothing behind. Tags the store with `source` (when it has a tag) and returns the stored
    /// manifest's descriptor. Call it inside a write session.
    @discardableResult
    public static func pull(_ source: ImageReference, client: RegistryClient, into store: OCILayoutStore,
                            options: TransferOptions = TransferOptions(), events: @escaping Events = { _ in }) async throws -> Descriptor {
        let (directory, staging) = try store.makeStaging()
        defer { directory.remove() }
        let target = PullTarget(store: store, staging: staging)
        let repository = source.repository
        let top = try await client.manifest(repository, reference: source.digest?.description ?? source.tag ?? "latest")
        var stored: Descriptor
        if MediaType.isIndex(top.descriptor.mediaType) {
            let index = try CanonicalJSON.decode(Index.self, from: top.bytes, what: "index \(source)")
            if options.allPlatforms {
                for child in index.manifests where MediaType.isManifest(child.mediaType) {
                    try await pullImageManifest(child.digest.description, repository: repository, client: client, target: target, options: options, events: events)
                }
                stored = try staging.write(top.bytes, mediaType: top.descriptor.mediaType)
            } else {
                guard let child = index.manifests.first(where: { $0.platform?.matches(options.platform) ?? false }) else {
                    throw RegistryError.noMatchingPlatform(reference: source.description, wanted: options.platform.description,
                                                           available: index.manifests.compactMap { $0.platform?.description })
                }
                stored = try await pullImageManifest(child.digest.description, repository: repository, client: client, target: target, options: options, events: events)
                stored.platform = child.platform
            }
        } else {
            try await pullBlobs(of: top.bytes, repository: repository, client: client, target: target, options: options, events: events)
            stored = try staging.write(top.bytes, mediaType: top.descriptor.mediaType)
        }
        try store.adoptBlobs(from: staging)
        if source.tag != nil && source.digest == nil {
            try store.tag(stored, as: source)
        } else {
            try store.updateIndex { index in
                if !index.manifests.contains(where: { $0.digest == stored.digest }) { index.manifests.append(stored) }
            }
        }
        events(.manifestWritten(source.description, stored.digest))
        return stored
    }

    /// Where a pull writes (the staging store) and what it may skip (blobs the store has).
    struct PullTarget: Sendable {
        let store: OCILayoutStore
        let staging: OCILayoutStore

        func has(_ digest: Digest) -> Bool { store.contains(digest) || staging.contains(digest) }
        /// The store holding `digest` now, for reading it back.
        func holder(of digest: Digest) -> OCILayoutStore { staging.contains(digest) ? staging : store }
    }

    @discardableResult
    private static func pullImageManifest(_ reference: String, repository: String, client: RegistryClient, target: PullTarget,
                                          options: TransferOptions, events: @escaping Events) async throws -> Descriptor {
        let fetched = try await client.manifest(repository, reference: reference)
        guard MediaType.isManifest(fetched.descriptor.mediaType) else {
            throw RegistryError.badResponse(url: "\(client.registry)/\(repository)@\(reference)", detail: "expected an image manifest, got \(fetched.descriptor.mediaType)")
        }
        try await pullBlobs(of: fetched.bytes, repository: repository, client: client, target: target, options: options, events: events)
        return try target.staging.write(fetched.bytes, mediaType: fetched.descriptor.mediaType)
    }

    /// The config first (it names the diffIDs), then the layers, each checked against its diffID
    /// as soon as it is in, while the others still download.
    private static func pullBlobs(of manifestBytes: Data, repository: String, client: RegistryClient, target: PullTarget,
                                  options: TransferOptions, events: @escaping Events) async throws {
        let source = "\(client.registry)/\(repository)"
        let manifest = try CanonicalJSON.decode(Manifest.self, from: manifestBytes, what: "manifest from \(source)")
        try await fetch(manifest.config, repository: repository, client: client, target: target, events: events)
        let diffIDs = try LayerVerification.diffIDs(of: manifest, in: target.holder(of: manifest.config.digest), source: source)
        let layers = manifest.layers.enumerated().map { ($0.element, diffIDs?[$0.offset]) }
        try await forEach(layers, jobs: options.jobs) { layer, diffID in
            guard try await fetch(layer, repository: repository, client: client, target: target, events: events), let diffID else { return }
            try LayerVerification.verify(layer, diffID: diffID, in: target.staging, source: source)
        }
    }

    /// Fetches one blob into the staging store unless the store has it; true if it was fetched.
    @discardableResult
    private static func fetch(_ blob: Descriptor, repository: String, client: RegistryClient, target: PullTarget,
                              events: @escaping Events) async throws -> Bool {
        if target.has(blob.digest) {
            events(.blobFinished(blob.digest, size: blob.size, .alreadyLocal))
            return false
        }
        events(.blobStarted(blob.digest, size: blob.size))
        try await client.fetchBlob(repository, descriptor: blob, into: target.staging) { done in
            events(.blobProgress(blob.digest, done: done, size: blob.size))
        }
        events(.blobFinished(blob.digest, size: blob.size, .downloaded))
        return true
    }

    // MARK: Copy

    /// Copies `source` to `destination` between registries without a local copy: blobs stream
    /// from one to the other (or are mounted, on the same registry). With `allPlatforms`, an
    /// index is copied whole; otherwise the child for `options.platform`.
    @discardableResult
    public static func copy(_ source: ImageReference, from sourceClient: RegistryClient, to destination: ImageReference,
                            client: RegistryClient, options: TransferOptions = TransferOptions(),
                            events: @escaping Events = { _ in }) async throws -> Descriptor {
        let top = try await sourceClient.manifest(source.repository, reference: source.digest?.description ?? source.tag ?? "latest")
        var root = top
        if MediaType.isIndex(top.descriptor.mediaType) {
            let index = try CanonicalJSON.decode(Index.self, from: top.bytes, what: "index \(source)")
            if options.allPlatforms {
                for child in index.manifests where MediaType.isManifest(child.mediaType) {
                    let fetched = try await sourceClient.manifest(source.repository, reference: child.digest.description)
                    try await copyBlobs(of: fetched.bytes, source: source, sourceClient: sourceClient, destination: destination, client: client, options: options, events: events)
                    try await client.putManifest(destination.repository, reference: child.digest.description, bytes: fetched.bytes, mediaType: fetched.descriptor.mediaType)
                }
            } else {
                guard let child = index.manifests.first(where: { $0.platform?.matches(options.platform) ?? false }) else {
                    throw RegistryError.noMatchingPlatform(reference: source.description, wanted: options.platform.description,
                                                           available: index.manifests.compactMap { $0.platform?.description })
                }
                root = try await sourceClient.manifest(source.repository, reference: child.digest.description)
                try await copyBlobs(of: root.bytes, source: source, sourceClient: sourceClient, destination: destination, client: client, options: options, events: events)
            }
        } else {
            try await copyBlobs(of: top.bytes, source: source, sourceClient: sourceClient, destination: destination, client: client, options: options, events: events)
        }
        let reference = destination.tag ?? root.descriptor.digest.description
        try await client.putManifest(destination.repository, reference: reference, bytes: root.bytes, mediaType: root.descriptor.mediaType)
        events(.manifestWritten("\(destination.name):\(reference)", root.descriptor.digest))
        return root.descriptor
    }

    private static func copyBlobs(of manifestBytes: Data, source: ImageReference, sourceClient: RegistryClient, destination: ImageReference,
                                  client: RegistryClient, options: TransferOptions, events: @escaping Events) async throws {
        let manifest = try CanonicalJSON.decode(Manifest.self, from: manifestBytes, what: "manifest of \(source)")
        let sameRegistry = sourceClient.registry == client.registry
        try await forEach([manifest.config] + manifest.layers, jobs: options.jobs) { blob in
            events(.blobStarted(blob.digest, size: blob.size))
            // The destination registry checks the digest of what it receives before it keeps it.
            let result = try await client.uploadBlob(destination.repository, descriptor: blob, mountFrom: sameRegistry ? source.repository : nil) { offset, length in
                let stream = try await sourceClient.blobStream(source.repository, digest: blob.digest,
                                                               offset: offset, length: offset == 0 && length == blob.size ? nil : length)
                return .stream(stream, length: .known(length))
            }
            events(.blobFinished(blob.digest, size: blob.size, BlobOutcome(result)))
        }
    }

    // MARK: Concurrency

    /// Runs `body` for each item with at most `jobs` at once; the first error cancels the rest.
    static func forEach<T: Sendable>(_ items: [T], jobs: Int, _ body: @escaping @Sendable (T) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for item in items {
                if running >= jobs {
                    try await group.next()
                    running -= 1
                }
                group.addTask { try await body(item) }
                running += 1
            }
            try await group.waitForAll()
        }
    }
}

extension BlobOutcome {
    init(_ result: BlobUploadResult) {
        switch result {
        case .existed: self = .existed
        case .mounted: self = .mounted
        case .uploaded: self = .uploaded
        }
    }
}
