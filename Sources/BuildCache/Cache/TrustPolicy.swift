import Foundation

/// Which signatures a reader accepts.
public struct TrustPolicy: Sendable, Hashable {
    /// The public keys whose signatures are trusted, by key ID.
    public var trustedKeys: [String: PublicKey]
    /// Accept packages that have no signature at all (a signature that is present must still
    /// verify, and the artifact must still match its digest).
    public var allowUnsigned: Bool

    /// A policy trusting `keys`.
    public init(trustedKeys keys: [PublicKey], allowUnsigned: Bool = false) {
        var byID: [String: PublicKey] = [:]
        for k in keys { byID[k.keyID] = k }
        trustedKeys = byID
        self.allowUnsigned = allowUnsigned
    }
}

/// A package whose metadata signature and artifact digest were checked.
public struct VerifiedPackage: Sendable, Hashable {
    /// Its metadata, as signed.
    public var metadata: PackageMetadata
    /// The key that signed it; nil if it was unsigned (accepted only with `allowUnsigned`).
    public var keyID: String?
    /// The cache it came from.
    public var cache: String
}

/// The outcome of a push.
public struct PushResult: Sendable, Hashable {
    /// The index entry now in the cache (ours, or the one that was already there).
    public var entry: IndexEntry
    /// False if the package was already cached and nothing was written.
    public var pushed: Bool
    /// The cache pushed to.
    public var cache: String
}

/// A cache's index as read: the entries, and the ones that could not be read.
public struct CacheIndex: Sendable {
    /// The readable entries, sorted by package name, version, hash.
    public var entries: [IndexEntry]
    /// Keys of entries that could not be read, with the reason.
    public var unreadable: [String: String]
}

/// What garbage collection deleted (or, in a dry run, would delete).
public struct GCReport: Sendable, Hashable {
    /// The objects deleted, in the order they were deleted.
    public var deleted: [CacheObject]
    /// The packages whose index entry was deleted.
    public var deletedPackages: [PackageHash]
    /// How many packages were kept.
    public var keptPackages: Int
    /// Bytes deleted.
    public var bytes: Int64 { deleted.reduce(0) { $0 + $1.size } }
    /// True if nothing was actually deleted.
    public var dryRun: Bool
}
