import Foundation
import OCI

/// What the caller knows about a package it pushes; the cache adds the artifact's facts.
public struct PackageInfo: Sendable, Hashable {
    /// The package's input hash: the cache key.
    public var hash: PackageHash
    /// The package name, such as `zlib`.
    public var name: String
    /// Its version, such as `1.3.1`.
    public var version: String
    /// The input hashes of the packages it depends on (their artifacts must be installed too).
    public var dependencies: [PackageHash]
    /// The platform it was built for, such as `linux/amd64`.
    public var platform: String

    /// A package description.
    public init(hash: PackageHash, name: String, version: String, dependencies: [PackageHash] = [], platform: String) {
        self.hash = hash
        self.name = name
        self.version = version
        self.dependencies = dependencies
        self.platform = platform
    }
}

/// A cached package's metadata. Its canonical JSON is what the signature covers, and it names
/// the artifact's digest, so a verified signature vouches for the artifact bytes too.
public struct PackageMetadata: Codable, Sendable, Hashable {
    /// The format of this document; 1 today.
    public var schemaVersion: Int
    /// The package's input hash.
    public var hash: PackageHash
    /// The package name.
    public var name: String
    /// Its version.
    public var version: String
    /// The input hashes of its dependencies, sorted.
    public var dependencies: [PackageHash]
    /// The platform it was built for.
    public var platform: String
    /// sha256 of the compressed artifact file.
    public var artifactDigest: Digest
    /// Size of the compressed artifact file in bytes.
    public var size: Int64
    /// The artifact's media type (an OCI layer type: a tar, plain, gzip or zstd).
    public var mediaType: String
    /// The artifact's compression.
    public var compression: Compression
    /// When it was pushed, ISO 8601 in UTC (`2026-01-31T12:00:00Z`).
    public var created: String

    /// Metadata for `info`'s artifact with `digest`, `size` and `compression`, created at `created`.
    public init(info: PackageInfo, artifactDigest: Digest, size: Int64, compression: Compression, created: Date) {
        schemaVersion = 1
        hash = info.hash
        name = info.name
        version = info.version
        dependencies = Array(Set(info.dependencies)).sorted()
        platform = info.platform
        self.artifactDigest = artifactDigest
        self.size = size
        mediaType = MediaType.ociLayer(compression)
        self.compression = compression
        self.created = Self.iso8601(created)
    }

    /// The bytes the signature covers (canonical JSON).
    public func canonicalBytes() throws -> Data { try CanonicalJSON.encode(self) }

    /// The artifact's file extension: `tar`, `tar.gz` or `tar.zst`.
    public var artifactExtension: String { Self.artifactExtension(compression) }

    /// The file extension for an artifact with `compression`.
    public static func artifactExtension(_ compression: Compression) -> String {
        switch compression {
        case .none: return "tar"
        case .gzip: return "tar.gz"
        case .zstd: return "tar.zst"
        }
    }

    /// `date` as ISO 8601 in UTC, to the second.
    public static func iso8601(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }
}

/// A detached Ed25519 signature over a package's canonical metadata bytes.
public struct PackageSignature: Codable, Sendable, Hashable {
    /// Always `ed25519`.
    public var algorithm: String
    /// The signer's key ID (see `PublicKey.keyID`), which picks the trusted key to verify with.
    public var keyID: String
    /// The signature, base64.
    public var signature: String

    /// A signature made by the key `keyID`.
    public init(keyID: String, signature: Data) {
        algorithm = "ed25519"
        self.keyID = keyID
        self.signature = signature.base64EncodedString()
    }
}

/// One entry of a cache's index: one object per pushed package (`index/<hash>.json`), so
/// pushers never rewrite each other's entries. It names the metadata and artifact objects of
/// the push it records; those were written before it.
public struct IndexEntry: Codable, Sendable, Hashable {
    /// The package's metadata (as signed; the signature is checked on fetch, not here).
    public var metadata: PackageMetadata
    /// sha256 of the metadata object's bytes, which names the metadata and signature objects.
    public var metadataDigest: Digest
    /// The key that signed it, or nil if the push was unsigned.
    public var keyID: String?

    /// An entry for a push.
    public init(metadata: PackageMetadata, metadataDigest: Digest, keyID: String?) {
        self.metadata = metadata
        self.metadataDigest = metadataDigest
        self.keyID = keyID
    }

    /// The package's hash.
    public var hash: PackageHash { metadata.hash }
}
