#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support
import OCI

/// The binary cache as the build uses it: several caches read in order, one pushed to,
/// packages signed with one key and verified against trusted keys before anything is installed.
public struct BinaryCache: Sendable {
    /// The caches read, in order (the first one holding a package serves it).
    public var caches: [PackageCache]
    /// The cache pushes go to.
    public var pushTarget: PackageCache?
    /// The key that signs pushes; its public key is trusted too.
    public var signingKey: SigningKey?
    /// Which signatures fetches accept.
    public var trust: TrustPolicy

    /// - Parameters:
    ///   - caches: read in this order.
    ///   - pushTarget: where pushes go; nil means the first of `caches`.
    ///   - signingKey: signs pushes (and is trusted for reads).
    ///   - trustedKeys: the public keys whose packages are accepted.
    ///   - allowUnsigned: accept packages without a signature, and push without a key.
    public init(caches: [PackageCache], pushTarget: PackageCache? = nil, signingKey: SigningKey? = nil,
                trustedKeys: [PublicKey] = [], allowUnsigned: Bool = false) {
        self.caches = caches
        self.pushTarget = pushTarget ?? caches.first
        self.signingKey = signingKey
        self.trust = TrustPolicy(trustedKeys: trustedKeys + (signingKey.map { [$0.publicKey] } ?? []), allowUnsigned: allowUnsigned)
    }

    /// True if any cache has the package.
    public func contains(_ hash: PackageHash) async throws -> Bool {
        for cache in caches where try await cache.contains(hash) { return true }
        return false
    }

    /// The first cache with an index entry for `hash`, and the entry.
    public func locate(_ hash: PackageHash) async throws -> (cache: PackageCache, entry: IndexEntry)? {
        for cache in caches {
            if let entry = try await cache.entry(hash) { return (cache, entry) }
        }
        return nil
    }

    /// Installs package `hash` into `directory` (which must not exist, or be empty) and returns
    /// its verified metadata.
    ///
    /// The artifact is downloaded beside `directory`, its metadata's signature checked against
    /// the trusted keys and its digest against the signed metadata, and only then extracted,
    /// into a temporary directory that is renamed to `directory` at the end. Any failure
    /// (unsigned, untrusted, altered, truncated, unsafe entry) leaves `directory` as it was.
    /// The first cache holding the package serves it; a verification failure there is thrown,
    /// not hidden by trying the next cache.
    @discardableResult
    public func fetch(_ hash: PackageHash, into directory: String, limits: ExtractionLimits = ExtractionLimits()) async throws -> VerifiedPackage {
        let destination = directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory
        try Self.requireEmptyOrMissing(destination)
        guard let (cache, _) = try await locate(hash) else { throw BuildCacheError.notCached(hash, caches: caches.map(\.location)) }
        let parent = (destination as NSString).deletingLastPathComponent
        let base = (destination as NSString).lastPathComponent
        do { try FileIO.makeDirectories(parent) } catch { throw DirectoryBackend.translate(error, path: parent) }
        let suffix = FileIO.randomSuffix()
        let artifact = parent + "/.tmp-\(suffix)-\(base).artifact"
        defer { unlink(artifact) }
        let verified = try await cache.download(hash, to: artifact, trust: trust)

        let staging = parent + "/.tmp-\(suffix)-\(base)"
        guard mkdir(staging, 0o700) == 0 else { throw BuildCacheError.io(path: staging, operation: "create directory", errno: errno) }
        do {
            _ = try ArtifactExtractor.extract(artifact, into: staging, limits: limits)
            chmod(staging, 0o755)
            // rename(2) replaces an empty directory, and fails if it has content meanwhile.
            guard rename(staging, destination) == 0 else {
                if errno == ENOTEMPTY || errno == EEXIST || errno == ENOTDIR || errno == EISDIR { throw BuildCacheError.destinationNotEmpty(path: destination) }
                throw BuildCacheError.io(path: destination, operation: "rename into place", errno: errno)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
        FileIO.syncDirectory(parent)
        return verified
    }

    /// Pushes the artifact at `artifact` as `info` to the push target, signed with the signing
    /// key. Throws `noSigningKey` without one (unless unsigned packages are allowed) and
    /// `noPushTarget` without a target. An already cached package is left as it is unless `replace`.
    public func push(artifact: String, info: PackageInfo, replace: Bool = false) async throws -> PushResult {
        guard let target = pushTarget else { throw BuildCacheError.noPushTarget }
        guard signingKey != nil || trust.allowUnsigned else { throw BuildCacheError.noSigningKey }
        return try await target.push(artifact: artifact, info: info, signer: signingKey, replace: replace)
    }

    /// Every cached package, each from the first cache that has it (in read order), with that cache.
    public func index() async throws -> [(entry: IndexEntry, cache: String)] {
        var seen = Set<PackageHash>()
        var out: [(entry: IndexEntry, cache: String)] = []
        for cache in caches {
            for e in try await cache.index().entries where seen.insert(e.hash).inserted {
                out.append((e, cache.location))
            }
        }
        return out
    }

    static func requireEmptyOrMissing(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard (st.st_mode & S_IFMT) == S_IFDIR,
              let contents = try? FileManager.default.contentsOfDirectory(atPath: path), contents.isEmpty else {
            throw BuildCacheError.destinationNotEmpty(path: path)
        }
    }
}
