import Foundation
import OCI

/// Where a cache keeps each object; the same on every backend.
///
/// ```
/// artifacts/<hash>/<artifact digest hex>.tar.zst   the artifact (named by its content)
/// artifacts/<hash>/<metadata digest hex>.json      the metadata (named by its content)
/// artifacts/<hash>/<metadata digest hex>.sig       its signature
/// index/<hash>.json                                one index entry per package, written last
/// index-snapshot.json                              optional compacted index (an optimisation)
/// ```
///
/// Naming objects by their content means two pushers of the same package never overwrite
/// each other's artifact or pair one's metadata with the other's signature: the index entry,
/// written last and whole, picks one complete set.
public enum CacheLayout {
    /// The prefix of every package's objects.
    public static let artifactsPrefix = "artifacts/"
    /// The prefix of the index entries.
    public static let indexPrefix = "index/"
    /// The compacted index.
    public static let snapshotKey = "index-snapshot.json"

    /// The index entry of `hash`.
    public static func indexKey(_ hash: PackageHash) -> String { "index/\(hash.value).json" }
    /// The folder of `hash`'s objects (with its trailing slash).
    public static func packagePrefix(_ hash: PackageHash) -> String { "artifacts/\(hash.value)/" }
    /// The artifact object an index entry names.
    public static func artifactKey(_ metadata: PackageMetadata) -> String {
        packagePrefix(metadata.hash) + metadata.artifactDigest.encoded + "." + metadata.artifactExtension
    }
    /// The metadata object with digest `digest`.
    public static func metadataKey(_ hash: PackageHash, _ digest: Digest) -> String { packagePrefix(hash) + digest.encoded + ".json" }
    /// The signature of the metadata object with digest `digest`.
    public static func signatureKey(_ hash: PackageHash, _ digest: Digest) -> String { packagePrefix(hash) + digest.encoded + ".sig" }

    /// The package hash a key under `artifacts/` or `index/` belongs to, if any.
    public static func hash(ofKey key: String) -> PackageHash? {
        if key.hasPrefix(indexPrefix) {
            let name = key.dropFirst(indexPrefix.count)
            guard name.hasSuffix(".json") else { return nil }
            return try? PackageHash(String(name.dropLast(5)))
        }
        if key.hasPrefix(artifactsPrefix) {
            let rest = key.dropFirst(artifactsPrefix.count)
            guard let slash = rest.firstIndex(of: "/") else { return nil }
            return try? PackageHash(String(rest[..<slash]))
        }
        return nil
    }
}
