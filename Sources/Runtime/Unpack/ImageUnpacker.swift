#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support
import OCI

/// Unpacks images from a store into root filesystems, cached by chain ID so a second run of the
/// same image starts without unpacking.
public enum ImageUnpacker {
    /// Staging directories of unpacks in progress start with this, in the roots cache.
    static let stagingPrefix = ".tmp-"

    /// The chain IDs of a layer stack: the first is its diffID, each next one is
    /// `sha256(previous + " " + diffID)`, as the image spec defines them.
    public static func chainIDs(_ diffIDs: [Digest]) -> [Digest] {
        var out: [Digest] = []
        for diffID in diffIDs {
            if let previous = out.last {
                out.append(Digest.compute(Data(utf8: "\(previous) \(diffID)")))
            } else {
                out.append(diffID)
            }
        }
        return out
    }

    /// Unpacks the image `manifest` from `store` into `root` with `policy` (image layers:
    /// whiteouts, links resolved inside the root). Each layer is checked against its digest as
    /// it streams and against the config's diffID; a layer of a type stackship cannot read is
    /// refused by name. On an error `root` is part-written: unpack into a staging directory.
    public static func unpack(_ manifest: Manifest, config: ImageConfig, from store: ContentStore, into root: String,
                              policy: ExtractionPolicy = .imageLayers()) throws {
        guard manifest.layers.count == config.rootfs.diff_ids.count else {
            throw OCIError.archive(path: "image config \(manifest.config.digest)",
                                   reason: "it lists \(config.rootfs.diff_ids.count) diffIDs for \(manifest.layers.count) layers; the image is malformed")
        }
        let extractor = try SafeExtractor(root: root, policy: policy)
        for (layer, diffID) in zip(manifest.layers, config.rootfs.diff_ids) {
            let name = "layer \(layer.digest)"
            guard let compression = MediaType.layerCompression(layer.mediaType) else {
                throw OCIError.unknownLayerType(layer: name, mediaType: layer.mediaType)
            }
            do {
                let tar = try Decompressor.source(compression, try store.open(layer))
                let hashing = HashingSource(tar)
                try extractor.apply(hashing, name: name)
                try hashing.drain()
                guard hashing.digest == diffID else {
                    throw OCIError.diffIDMismatch(layer: name, expected: diffID, actual: hashing.digest)
                }
            } catch let error as OCIError {
                throw SafeExtractor.naming(error, layer: name)
            }
        }
    }

    /// The root filesystem of an image, from the cache under `cacheDirectory` when present, else
    /// unpacked there first. The cache entry appears whole or not at all (unpacked in a locked
    /// staging directory beside it, then renamed), so a crash never leaves a half-unpacked root
    /// to be reused, and what an interrupted unpack left is removed by the next one.
    public static func cachedRoot(_ manifest: Manifest, config: ImageConfig, from store: ContentStore, cacheDirectory: String,
                                  policy: ExtractionPolicy = .imageLayers()) throws -> (path: String, reused: Bool) {
        let top = chainIDs(config.rootfs.diff_ids).last ?? Digest.compute(Data())
        let final = "\(cacheDirectory)/\(top.algorithm.rawValue)-\(top.encoded)"
        if FileIO.exists(final + "/rootfs") { return (final + "/rootfs", true) }
        removeAbandoned(in: cacheDirectory)
        let staging = try StagingDirectory(in: cacheDirectory, prefix: stagingPrefix)
        do {
            try unpack(manifest, config: config, from: store, into: staging.path + "/rootfs", policy: policy)
            let moved = try staging.commit(to: final)
            return (final + "/rootfs", !moved)
        } catch {
            staging.remove()
            throw error
        }
    }

    /// Removes what interrupted unpacks left in a roots cache (their staging directories);
    /// returns how many (or, with `dryRun`, how many would be).
    @discardableResult
    public static func removeAbandoned(in cacheDirectory: String, dryRun: Bool = false) -> Int {
        StagingDirectory.removeAbandoned(in: cacheDirectory, prefix: stagingPrefix, dryRun: dryRun)
    }
}
