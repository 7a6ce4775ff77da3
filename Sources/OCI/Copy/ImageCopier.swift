import Foundation

/// Options of a copy.
public struct CopyOptions: Sendable {
    /// Blobs moved at once.
    public var jobs: Int
    /// Which images of an index to take.
    public var platforms: PlatformSelection

    public init(jobs: Int = 4, platforms: PlatformSelection = .one(.host)) {
        self.jobs = max(1, jobs)
        self.platforms = platforms
    }
}

/// The one copier: every move of an image (push, pull, copy, save, load, a build's base)
/// reads an `ImageSource` and writes an `ImageDestination` through it, with one platform
/// choice and one graph walk.
///
/// For each image manifest it puts the config, then the layers (up to `jobs` at once, each
/// checked against its diffID when the destination keeps images), then the manifest; an
/// index follows its children. Blobs the destination has are skipped. An index is copied
/// whole (`.all`) only when the source holds every child: a missing one is an error, never an
/// index pushed with holes.
public enum ImageCopier {
    public typealias Events = @Sendable (TransferEvent) -> Void

    /// Copies each source's image into `destination`, then finishes it; returns what was
    /// committed for each (for a single-platform copy of an index, the chosen image).
    @discardableResult
    public static func copy(_ sources: [ImageSource], to destination: ImageDestination, options: CopyOptions = CopyOptions(),
                            events: @escaping Events = { _ in }) async throws -> [ManifestContent] {
        var roots: [ManifestContent] = []
        for source in sources {
            roots.append(try await copyOne(source, to: destination, options: options, events: events))
        }
        try await destination.finish()
        return roots
    }

    /// Copies one source's image and commits it (without finishing the destination).
    static func copyOne(_ source: ImageSource, to destination: ImageDestination, options: CopyOptions,
                        events: @escaping Events) async throws -> ManifestContent {
        var root = try await source.root()
        if MediaType.isIndex(root.descriptor.mediaType) {
            switch options.platforms {
            case .one(let platform):
                let index = try CanonicalJSON.decode(Index.self, from: root.bytes, what: "index of \(source.name)")
                let child = try PlatformSelection.child(of: index, for: platform, name: source.name)
                let bytes = try await source.content(child)
                var descriptor = child
                descriptor.annotations = nil
                root = ManifestContent(descriptor: descriptor, bytes: bytes)
                if MediaType.isIndex(child.mediaType) {
                    return try await copyOne(NestedSource(base: source, top: root), to: destination, options: options, events: events)
                }
                try await copyImage(root, from: source, to: destination, options: options, events: events)
            case .all:
                try await copyIndex(root, from: source, to: destination, options: options, events: events)
            }
        } else if MediaType.isManifest(root.descriptor.mediaType) {
            try await copyImage(root, from: source, to: destination, options: options, events: events)
        } else {
            throw OCIError.unsupportedMediaType(root.descriptor.mediaType, context: "the image \(source.name) (a manifest or an index was expected)")
        }
        try await destination.commit(root, references: source.references)
        events(.manifestWritten(destination.name, root.descriptor.digest))
        return root
    }

    /// Every child of an index (nested indexes too), before the index itself is committed.
    private static func copyIndex(_ index: ManifestContent, from source: ImageSource, to destination: ImageDestination,
                                  options: CopyOptions, events: @escaping Events) async throws {
        let decoded = try CanonicalJSON.decode(Index.self, from: index.bytes, what: "index of \(source.name)")
        for child in decoded.manifests {
            let bytes: Data
            do {
                bytes = try await source.content(child)
            } catch OCIError.blobNotFound {
                throw OCIError.missingChild(image: source.name, child: child.digest, platform: child.platform?.description)
            }
            let content = ManifestContent(descriptor: child, bytes: bytes)
            if MediaType.isIndex(child.mediaType) {
                try await copyIndex(content, from: source, to: destination, options: options, events: events)
            } else if MediaType.isManifest(child.mediaType) {
                try await copyImage(content, from: source, to: destination, options: options, events: events)
            } else {
                throw OCIError.unsupportedMediaType(child.mediaType, context: "a child of the index \(source.name)")
            }
            try await destination.putManifest(content)
        }
    }

    /// One image manifest's blobs: the config first (it names the diffIDs), then the layers.
    private static func copyImage(_ content: ManifestContent, from source: ImageSource, to destination: ImageDestination,
                                  options: CopyOptions, events: @escaping Events) async throws {
        let manifest = try CanonicalJSON.decode(Manifest.self, from: content.bytes, what: "manifest \(content.descriptor.digest) of \(source.name)")
        var diffIDs: [Digest]?
        if destination.checksDiffIDs && LayerVerification.isImageConfig(manifest.config.mediaType) {
            let config = try CanonicalJSON.decode(ImageConfig.self, from: try await source.content(manifest.config), what: "image config of \(source.name)")
            guard config.rootfs.diff_ids.count == manifest.layers.count else {
                throw OCIError.archive(path: source.name, reason: "its config lists \(config.rootfs.diff_ids.count) diffIDs for \(manifest.layers.count) layers; the image is malformed")
            }
            diffIDs = config.rootfs.diff_ids
        }
        _ = try await put(manifest.config, of: manifest, from: source, to: destination, events: events)
        let layers = manifest.layers.enumerated().map { ($0.element, diffIDs?[$0.offset]) }
        try await forEach(layers, jobs: options.jobs) { layer, diffID in
            let outcome = try await put(layer, of: manifest, from: source, to: destination, events: events)
            if let diffID, outcome != .existed {
                try await destination.verifyLayer(layer, diffID: diffID, source: source.name)
            }
        }
    }

    private static func put(_ blob: Descriptor, of manifest: Manifest, from source: ImageSource, to destination: ImageDestination,
                            events: @escaping Events) async throws -> BlobOutcome {
        if try await destination.hasBlob(blob) {
            events(.blobFinished(blob.digest, size: blob.size, .existed))
            return .existed
        }
        events(.blobStarted(blob.digest, size: blob.size))
        let outcome = try await destination.putBlob(blob, of: manifest, from: source) { done in
            events(.blobProgress(blob.digest, done: done, size: blob.size))
        }
        events(.blobFinished(blob.digest, size: blob.size, outcome))
        return outcome
    }

    /// Runs `body` for each item with at most `jobs` at once; the first error cancels the rest.
    public static func forEach<T: Sendable>(_ items: [T], jobs: Int, _ body: @escaping @Sendable (T) async throws -> Void) async throws {
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

/// A source whose root is a nested index chosen from its parent (an index of indexes).
private struct NestedSource: ImageSource {
    let base: ImageSource
    let top: ManifestContent
    var name: String { base.name }
    var references: [ImageReference] { base.references }
    func root() async throws -> ManifestContent { top }
    func content(_ descriptor: Descriptor) async throws -> Data { try await base.content(descriptor) }
    func blob(_ descriptor: Descriptor, offset: Int64, length: Int64?) async throws -> BlobChunks {
        try await base.blob(descriptor, offset: offset, length: length)
    }
    var registryRepository: (registry: String, repository: String)? { base.registryRepository }
    func localPath(of descriptor: Descriptor) -> String? { base.localPath(of: descriptor) }
    func isTransient(_ error: Error) -> Bool { base.isTransient(error) }
}
