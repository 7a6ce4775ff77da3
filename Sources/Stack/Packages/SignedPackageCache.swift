import Support
#if canImport(Glibc)
import Glibc
#endif
import BuildCache
import Foundation
import OCI

/// The binary cache (``BinaryCache``: signed artifacts in directories or S3) as the package
/// build uses it. A package's artifact is its image layer blob itself, the gzip tar of
/// `PREFIX/NAME` with paths from the image root, so a fetched package is the very layer the
/// builder would have made and every image holding it shares that blob.
///
/// A fetch is verified before the store takes it: the signed metadata against the trusted
/// keys, the artifact's digest against the metadata, and every path in the tar against the
/// package's own prefix, so no cached package can put files anywhere else in an image.
public struct SignedPackageCache: PackageCache {
    /// The caches read (in order), the push target and the keys.
    public let cache: BinaryCache
    /// Where packages live in images (`prefix:` of the stack file).
    public let prefix: String
    /// The platform packages are recorded for.
    public let platform: Platform

    /// A build cache over `cache` for packages under `prefix`.
    public init(_ cache: BinaryCache, prefix: String, platform: Platform = .host) {
        self.cache = cache
        self.prefix = prefix
        self.platform = platform
    }

    public var label: String { cache.caches.map(\.location).joined(separator: ", ") }

    public func contains(hash: String) async throws -> Bool {
        try await cache.contains(PackageHash(hash))
    }

    public func fetch(hash: String, into store: OCILayoutStore) async throws -> PackageLayer? {
        let key = try PackageHash(hash)
        guard let (source, _) = try await cache.locate(key) else { return nil }
        let temporary = store.root + "/.tmp-package-\(hash.prefix(16))-\(UInt32.random(in: 0 ... .max))"
        defer { unlink(temporary) }
        let verified = try await source.download(key, to: temporary, trust: cache.trust)
        let metadata = verified.metadata
        guard metadata.compression == .gzip else {
            throw PackageBuildError.other("""
                package \(metadata.name) (\(key.short)) in \(source.location) is a \(metadata.compression) artifact, not a \
                package layer: it was pushed with `stackship cache push`, not by a build. Remove it \
                (`stackship cache gc`) or push this stack's build to another cache.
                """)
        }
        let diffID = try Self.checkLayer(temporary, package: metadata.name, prefix: prefix)
        let writer = try store.ingest()
        do {
            _ = try FileSource(path: temporary).copy(to: writer)
            try writer.finish()
            _ = try writer.commit(expected: metadata.artifactDigest)
        } catch {
            writer.abort()
            throw error
        }
        return PackageLayer(name: metadata.name, hash: hash, version: metadata.version, dependencies: [:],
                            layer: Descriptor(mediaType: MediaType.ociLayerGzip, digest: metadata.artifactDigest, size: metadata.size),
                            diffID: diffID)
    }

    public func push(_ layer: PackageLayer, from store: OCILayoutStore) async throws {
        let info = PackageInfo(hash: try PackageHash(layer.hash), name: layer.name, version: layer.version,
                               dependencies: try layer.dependencies.values.sorted().map(PackageHash.init), platform: platform.description)
        _ = try await cache.push(artifact: store.path(of: layer.layer.digest), info: info)
    }

    /// Reads the layer tar once, checking every entry lies under `PREFIX/NAME` (hard links
    /// too) while hashing it for its uncompressed digest (the image config's diffID).
    static func checkLayer(_ path: String, package: String, prefix: String) throws -> Digest {
        let root = String((prefix + "/" + package).drop(while: { $0 == "/" }))
        func inside(_ name: String) -> Bool {
            var p = name
            while p.hasPrefix("./") { p.removeFirst(2) }
            while p.hasSuffix("/") { p.removeLast() }
            if p.split(separator: "/").contains("..") { return false }
            // The parents of the package folder come as directory entries.
            return p == root || p.hasPrefix(root + "/") || root.hasPrefix(p + "/")
        }
        do {
            return try checkEntries(path, package: package, root: root, inside: inside)
        } catch let error as OCIError {
            throw SafeExtractor.naming(error, layer: "the cached artifact of package \(package) (\(path))")
        }
    }

    private static func checkEntries(_ path: String, package: String, root: String, inside: (String) -> Bool) throws -> Digest {
        let tar = HashingSource(try Decompressor.sniffing(FileSource(path: path)).1)
        let reader = TarReader(source: tar)
        while let entry = try reader.next() {
            guard inside(entry.path), entry.kind != .hardlink || inside(entry.linkTarget) else {
                throw PackageBuildError.other("""
                    the cached artifact of package \(package) holds '\(entry.path)', outside /\(root): refused, nothing \
                    was installed. Whoever signed it pushed something else than a stackship package layer; remove it \
                    from the cache and rebuild with --push-cache.
                    """)
            }
        }
        try tar.drain()
        return tar.digest
    }
}
