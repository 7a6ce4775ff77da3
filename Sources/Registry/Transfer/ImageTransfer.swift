import Foundation
import OCI

/// Options of a push, pull or copy, as the registry commands take them.
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

    /// The copier's options.
    public var copy: CopyOptions { CopyOptions(jobs: jobs, platforms: allPlatforms ? .all : .one(platform)) }
}

/// The registry commands' moves, each one `ImageCopier` copy between the store and a registry
/// repository (or two repositories).
public enum ImageTransfer {
    public typealias Events = ImageCopier.Events

    /// Pushes the image `descriptor` (a manifest, or an index with every child: one missing is an
    /// error) from `store` to `destination`. Blobs the repository has are skipped; base layers
    /// recorded in the image's annotations are mounted from the base's repository when it is on
    /// the same registry. Manifests go up only after everything they reference.
    @discardableResult
    public static func push(_ descriptor: Descriptor, from store: OCILayoutStore, to destination: ImageReference,
                            client: RegistryClient, options: TransferOptions = TransferOptions(),
                            events: @escaping Events = { _ in }) async throws -> Descriptor {
        let source = try LayoutSource(layout: store, selector: .descriptor(descriptor, references: []), name: "the store's \(descriptor.digest)")
        let options = CopyOptions(jobs: options.jobs, platforms: .all)
        return try await ImageCopier.copy([source], to: RegistryImageDestination(client: client, reference: destination),
                                          options: options, events: events)[0].descriptor
    }

    /// Pulls `source` into `store` (for an index, the child for `options.platform`, or all of
    /// them), checking every blob's digest and every new layer's diffID before anything is
    /// named; tags the store with `source` when it names a tag. Returns the stored descriptor.
    @discardableResult
    public static func pull(_ source: ImageReference, client: RegistryClient, into store: OCILayoutStore,
                            options: TransferOptions = TransferOptions(), events: @escaping Events = { _ in }) async throws -> Descriptor {
        let naming: LayoutDestination.Naming = source.tag != nil && source.digest == nil ? .reference(source) : .untagged
        let destination = try LayoutDestination(layout: store, naming: naming, name: "the store")
        return try await ImageCopier.copy([RegistryImageSource(client: client, reference: source)], to: destination,
                                          options: options.copy, events: events)[0].descriptor
    }

    /// Copies `source` to `destination` between registries without a local copy: blobs stream
    /// from one to the other (or are mounted, on the same registry).
    @discardableResult
    public static func copy(_ source: ImageReference, from sourceClient: RegistryClient, to destination: ImageReference,
                            client: RegistryClient, options: TransferOptions = TransferOptions(),
                            events: @escaping Events = { _ in }) async throws -> Descriptor {
        try await ImageCopier.copy([RegistryImageSource(client: sourceClient, reference: source)],
                                   to: RegistryImageDestination(client: client, reference: destination),
                                   options: options.copy, events: events)[0].descriptor
    }
}
