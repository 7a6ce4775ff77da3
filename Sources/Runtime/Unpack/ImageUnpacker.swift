#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI

/// Unpacks images from a store into root filesystems, cached by chain ID so a second run of the
/// same image starts without unpacking.
public enum ImageUnpacker {
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

    /// Unpacks the image `manifest` from `store` into `root` (which must not exist yet). Each
    /// layer is checked against its digest as it streams and against the config's diffID.
    public static func unpack(_ manifest: Manifest, config: ImageConfig, from store: ContentStore, into root: String,
                              limits: UnpackLimits = UnpackLimits()) throws {
        guard manifest.layers.count == config.rootfs.diff_ids.count else {
            throw RuntimeError.unsafeEntry(path: "config", reason: "the config lists \(config.rootfs.diff_ids.count) diffIDs for \(manifest.layers.count) layers")
        }
        let unpacker = try RootFSUnpacker(root: root, limits: limits)
        for (layer, diffID) in zip(manifest.layers, config.rootfs.diff_ids) {
            let verified = try store.open(layer)
            let tar = try Decompressor.source(MediaType.compression(ofLayer: layer.mediaType), verified)
            let hashing = HashingSource(tar)
            try unpacker.apply(layer: hashing)
            try hashing.drain()
            guard hashing.digest == diffID else {
                throw OCIError.digestMismatch(expected: diffID, actual: hashing.digest, source: "the uncompressed layer \(layer.digest)")
            }
        }
    }

    /// The root filesystem of an image, from the cache under `cacheDirectory` when present, else
    /// unpacked there first. The cache entry appears whole or not at all (unpacked beside it,
    /// then renamed), so a crash never leaves a half-unpacked root to be reused.
    public static func cachedRoot(_ manifest: Manifest, config: ImageConfig, from store: ContentStore, cacheDirectory: String,
                                  limits: UnpackLimits = UnpackLimits()) throws -> (path: String, reused: Bool) {
        let top = chainIDs(config.rootfs.diff_ids).last ?? Digest.compute(Data())
        let final = "\(cacheDirectory)/\(top.algorithm.rawValue)-\(top.encoded)"
        if FileIO.exists(final + "/rootfs") { return (final + "/rootfs", true) }
        try FileIO.makeDirectories(cacheDirectory)
        let staging = "\(cacheDirectory)/.tmp-\(FileIO.randomSuffix())"
        do {
            try unpack(manifest, config: config, from: store, into: staging + "/rootfs", limits: limits)
            guard rename(staging, final) == 0 else {
                if errno == EEXIST || errno == ENOTEMPTY { try? FileManager.default.removeItem(atPath: staging); return (final + "/rootfs", true) }
                throw RuntimeError.io(path: final, operation: "move the unpacked root into", errno: errno)
            }
            return (final + "/rootfs", false)
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
    }
}
