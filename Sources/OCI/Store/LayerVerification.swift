import Foundation

/// Checks that an image's layers are the ones its config names: each layer, decompressed,
/// hashes to its diffID. Loaders (archives, pulls) run it before an image is named in a store,
/// so an image whose config lies about its content never gets a name.
public enum LayerVerification {
    /// True for the config media types of images (OCI and Docker), whose `rootfs.diff_ids`
    /// describe the layers; an artifact with another config type has no diffIDs to check.
    public static func isImageConfig(_ mediaType: String) -> Bool {
        mediaType == MediaType.ociConfig || mediaType == MediaType.dockerConfig
    }

    /// The diffIDs of `manifest`'s config in `store`, checked to be one per layer; nil when the
    /// config is not an image config.
    public static func diffIDs(of manifest: Manifest, in store: ContentStore, source: String) throws -> [Digest]? {
        guard isImageConfig(manifest.config.mediaType) else { return nil }
        let config = try CanonicalJSON.decode(ImageConfig.self, from: try store.read(manifest.config), what: "image config of \(source)")
        guard config.rootfs.diff_ids.count == manifest.layers.count else {
            throw OCIError.archive(path: source, reason: "its config lists \(config.rootfs.diff_ids.count) diffIDs for \(manifest.layers.count) layers; the image is malformed")
        }
        return config.rootfs.diff_ids
    }

    /// Checks every layer of `manifest` in `store` against its diffID (and that each has a layer
    /// type stackship can read). Costs one decompression of every layer.
    public static func verifyDiffIDs(of manifest: Manifest, in store: ContentStore, source: String) throws {
        guard let diffIDs = try diffIDs(of: manifest, in: store, source: source) else { return }
        for (layer, diffID) in zip(manifest.layers, diffIDs) {
            try verify(layer, diffID: diffID, in: store, source: source)
        }
    }

    /// Checks one layer of an image against its diffID.
    public static func verify(_ layer: Descriptor, diffID: Digest, in store: ContentStore, source: String) throws {
        let name = "layer \(layer.digest) of \(source)"
        guard let compression = MediaType.layerCompression(layer.mediaType) else {
            throw OCIError.unknownLayerType(layer: name, mediaType: layer.mediaType)
        }
        // An uncompressed layer's diffID is its digest, which every read and write checks.
        if compression == .none && layer.digest == diffID { return }
        try verifyUncompressed(layer, compression: compression, diffID: diffID, in: store, source: name)
    }

    /// Decompresses a stored layer, checks it hashes to `diffID`, and returns its uncompressed
    /// size. `source` names the layer in errors.
    @discardableResult
    public static func verifyUncompressed(_ layer: Descriptor, compression: Compression, diffID: Digest, in store: ContentStore,
                                          source: String) throws -> Int64 {
        let counter = DigestingSink(next: nil)
        do {
            try Decompressor.source(compression, try store.open(layer)).copy(to: counter)
        } catch let error as OCIError {
            throw SafeExtractor.naming(error, layer: source)
        }
        guard counter.digest == diffID else {
            throw OCIError.diffIDMismatch(layer: source, expected: diffID, actual: counter.digest)
        }
        return counter.count
    }
}
