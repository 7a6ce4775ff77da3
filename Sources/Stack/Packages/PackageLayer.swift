import Foundation
import Support
import OCI

/// A built package as an image layer: the `PREFIX/NAME` tree as a compressed tar whose paths
/// start at the image root, so the same blob is the cache artifact and the layer of every
/// image that holds the package.
public struct PackageLayer: Codable, Sendable, Hashable {
    /// The package's name.
    public var name: String
    /// Its input hash.
    public var hash: String
    /// `version:` as written.
    public var version: String
    /// The hashes of the packages it depends on (build and run), by name.
    public var dependencies: [String: String]
    /// The compressed layer blob.
    public var layer: Descriptor
    /// The uncompressed tar's digest (the config's diffID).
    public var diffID: Digest

    /// Creates a record.
    public init(name: String, hash: String, version: String, dependencies: [String: String], layer: Descriptor, diffID: Digest) {
        self.name = name
        self.hash = hash
        self.version = version
        self.dependencies = dependencies
        self.layer = layer
        self.diffID = diffID
    }
}

/// The store's record of which package hashes it holds layers for: `<store>/packages/<hash>.json`
/// beside the OCI layout's blobs. A record whose blob is gone (after `stackship gc`) counts as
/// absent.
public struct PackageLayerRecords: Sendable {
    /// The store the layers are in.
    public let store: OCILayoutStore

    /// Records for `store`.
    public init(store: OCILayoutStore) { self.store = store }

    var directory: String { store.root + "/packages" }

    /// The layer for `hash`, when the store holds it.
    public func layer(for hash: String) -> PackageLayer? {
        guard let data = FileManager.default.contents(atPath: directory + "/" + hash + ".json"),
              let record = try? JSONDecoder().decode(PackageLayer.self, from: data),
              record.hash == hash, store.contains(record.layer.digest) else { return nil }
        return record
    }

    /// Records `layer` (its blob must already be in the store).
    public func record(_ layer: PackageLayer) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try AtomicFileWriter.write(try encoder.encode(layer), to: directory + "/" + layer.hash + ".json", durable: false)
    }
}

/// A binary cache as the build sees it: look up a hash, fetch its layer into the store
/// (verified before it is used), and push a built one.
public protocol PackageCache: Sendable {
    /// A short description for messages, such as the cache's URL.
    var label: String { get }
    /// Whether some cache holds `hash`.
    func contains(hash: String) async throws -> Bool
    /// Fetches `hash`'s artifact into `store` after verifying it; nil when no cache holds it.
    func fetch(hash: String, into store: OCILayoutStore) async throws -> PackageLayer?
    /// Pushes a layer built here (its blob is in `store`).
    func push(_ layer: PackageLayer, from store: OCILayoutStore) async throws
}
