#if canImport(Glibc)
import Glibc
#endif
import BuildCache
import Foundation
import OCI
import Testing

@Suite("Push and fetch")
struct PushFetchIntegrationTests {
    @Test(arguments: BackendFactory.all)
    func roundTrip(_ factory: BackendFactory) async throws {
        let env = try await Env(factory)
        let dep = try await env.push("zlib")
        let pushed = try await env.push("curl", deps: [hash("zlib"), hash("zlib")])
        #expect(pushed.pushed)
        #expect(pushed.entry.keyID == env.key.publicKey.keyID)
        let m = pushed.entry.metadata
        #expect(m.dependencies == [hash("zlib")])
        #expect(m.compression == .zstd && m.mediaType == MediaType.ociLayerZstd)
        #expect(m.created.hasSuffix("Z") && m.created.count == 20)
        #expect(dep.entry.metadata.name == "zlib")

        let cache = env.binary()
        #expect(try await cache.contains(hash("curl")))
        #expect(try await !cache.contains(hash("nothing")))
        let dest = env.destination()
        let verified = try await cache.fetch(hash("curl"), into: dest)
        #expect(verified.metadata == m)
        #expect(verified.keyID == env.key.publicKey.keyID)
        #expect(Scratch.read(dest + "/bin/curl") == "#!/bin/sh\necho curl \n")
        #expect(Scratch.read(dest + "/share/curl/README") == "the curl package \n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dest + "/bin/curl-link") == "curl")
        let attrs = try FileManager.default.attributesOfItem(atPath: dest + "/bin/curl")
        #expect((attrs[.posixPermissions] as? Int) == 0o755)
        // Nothing but the destination is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: (dest as NSString).deletingLastPathComponent) == ["prefix"])

        // The artifact digest in the metadata is the digest of the pushed file.
        let index = try await env.cache.index()
        #expect(index.entries.map(\.metadata.name) == ["curl", "zlib"])
        #expect(index.unreadable.isEmpty)
    }

    @Test(arguments: BackendFactory.all)
    func fetchIntoAnEmptyDirectoryAndRefuseANonEmptyOne(_ factory: BackendFactory) async throws {
        let env = try await Env(factory)
        try await env.push("zlib")
        let empty = env.destination()
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        try await env.binary().fetch(hash("zlib"), into: empty)
        #expect(FileManager.default.fileExists(atPath: empty + "/bin/zlib"))

        let full = env.destination()
        try Scratch.write(full + "/mine", "keep me")
        await expectCacheError({ try await env.binary().fetch(hash("zlib"), into: full) }) {
            if case .destinationNotEmpty = $0 { return true } else { return false }
        }
        #expect(Scratch.listing(full) == ["mine"])
    }

    @Test(arguments: BackendFactory.all)
    func pushingAnAlreadyCachedPackageWritesNothing(_ factory: BackendFactory) async throws {
        let env = try await Env(factory)
        let first = try await env.push("zlib")
        let before = try await env.backend.list(prefix: "")
        let second = try await env.push("zlib", salt: "", signer: SigningKey())
        #expect(first.pushed && !second.pushed)
        #expect(second.entry == first.entry)
        #expect(try await env.backend.list(prefix: "") == before)
    }

    @Test(arguments: BackendFactory.all)
    func replaceRepointsTheIndexEntry(_ factory: BackendFactory) async throws {
        let env = try await Env(factory)
        try await env.push("zlib")
        let artifact = try env.makeArtifact("zlib", content: "rebuilt")
        let info = PackageInfo(hash: hash("zlib"), name: "zlib", version: "1.1", platform: "linux/amd64")
        let replaced = try await env.cache.push(artifact: artifact, info: info, signer: env.key, replace: true)
        #expect(replaced.pushed)
        let dest = env.destination()
        let v = try await env.binary().fetch(hash("zlib"), into: dest)
        #expect(v.metadata.version == "1.1")
        #expect(Scratch.read(dest + "/bin/zlib") == "#!/bin/sh\necho zlib rebuilt\n")
    }

    @Test(arguments: BackendFactory.all)
    func pushWithoutASigningKeyIsRefusedUnlessUnsignedIsAllowed(_ factory: BackendFactory) async throws {
        let env = try await Env(factory)
        let artifact = try env.makeArtifact("zlib")
        let info = PackageInfo(hash: hash("zlib"), name: "zlib", version: "1", platform: "linux/amd64")
        await expectCacheError({ _ = try await env.binary(signed: false).push(artifact: artifact, info: info) }) { $0 == .noSigningKey }
        #expect(try await !env.cache.contains(hash("zlib")))
        let result = try await env.binary(allowUnsigned: true, signed: false).push(artifact: artifact, info: info)
        #expect(result.pushed && result.entry.keyID == nil)
    }

    @Test(arguments: BackendFactory.all)
    func notCachedNamesTheCaches(_ factory: BackendFactory) async throws {
        let env = try await Env(factory)
        let error = await expectCacheError({ try await env.binary().fetch(hash("ghost"), into: env.destination()) }) {
            if case .notCached = $0 { return true } else { return false }
        }
        #expect(error?.description.contains(env.backend.location) == true)
    }

    @Test func artifactsAreReproducible() throws {
        let dir = Scratch.makeDirectory()
        defer { Scratch.remove(dir) }
        for compression in [Compression.zstd, .gzip] {
            var digests: [Digest] = []
            for round in 0..<2 {
                let tree = dir + "/tree-\(compression)-\(round)"
                try Scratch.write(tree + "/lib/libz.so.1", String(repeating: "z", count: 100_000))
                try Scratch.write(tree + "/include/zlib.h", "/* header */\n")
                try FileManager.default.createSymbolicLink(atPath: tree + "/lib/libz.so", withDestinationPath: "libz.so.1")
                // Different mtimes on each round: the epoch clamps them.
                var times = [timespec(tv_sec: 1_000_000 * (round + 1), tv_nsec: 0), timespec(tv_sec: 1_000_000 * (round + 1), tv_nsec: 0)]
                utimensat(AT_FDCWD, tree + "/include/zlib.h", &times, 0)
                let a = try ArtifactBuilder.make(from: tree, to: dir + "/a-\(compression)-\(round)", compression: compression, threads: round + 1)
                #expect(a.compression == compression)
                #expect(try ArtifactBuilder.describe(a.path) == a)
                digests.append(a.digest)
            }
            #expect(digests[0] == digests[1], "\(compression) artifacts differ")
        }
    }
}

@Suite("Several caches")
struct MultiCacheIntegrationTests {
    @Test(arguments: BackendFactory.all)
    func readsInOrderAndPushesToTheTarget(_ factory: BackendFactory) async throws {
        let a = try await Env(factory), b = try await Env(factory), c = try await Env(factory)
        // The same package in both caches, with different contents; one only in b.
        try await a.push("shared", salt: "", signer: a.key)
        let inB = try await a.push("shared", salt: "", to: b.cache, signer: a.key)
        #expect(inB.pushed)
        let bArtifact = try a.makeArtifact("shared", content: "from-b")
        _ = try await b.cache.push(artifact: bArtifact, info: PackageInfo(hash: hash("shared"), name: "shared", version: "b", platform: "linux/amd64"),
                                   signer: a.key, replace: true)
        try await a.push("only-b", to: b.cache)

        let cache = BinaryCache(caches: [a.cache, b.cache], pushTarget: c.cache, signingKey: a.key)
        let shared = a.destination()
        let v = try await cache.fetch(hash("shared"), into: shared)
        #expect(v.cache == a.backend.location && v.metadata.version == "1.0")
        #expect(Scratch.read(shared + "/bin/shared") == "#!/bin/sh\necho shared \n")
        let onlyB = a.destination()
        #expect(try await cache.fetch(hash("only-b"), into: onlyB).cache == b.backend.location)

        // Reversed order: b's copy wins.
        let reversed = BinaryCache(caches: [b.cache, a.cache], signingKey: a.key)
        let fromB = a.destination()
        #expect(try await reversed.fetch(hash("shared"), into: fromB).metadata.version == "b")
        #expect(Scratch.read(fromB + "/bin/shared") == "#!/bin/sh\necho shared from-b\n")

        // Pushes go to the explicit target only; with none, to the first cache.
        let artifact = try a.makeArtifact("new")
        let info = PackageInfo(hash: hash("new"), name: "new", version: "1", platform: "linux/amd64")
        #expect(try await cache.push(artifact: artifact, info: info).cache == c.backend.location)
        #expect(try await c.cache.contains(hash("new")))
        let inA = try await a.cache.contains(hash("new")), inB2 = try await b.cache.contains(hash("new"))
        #expect(!inA && !inB2)
        #expect(try await BinaryCache(caches: [b.cache, a.cache], signingKey: a.key).push(artifact: artifact, info: info).cache == b.backend.location)

        // The merged index lists each package once, from the first cache holding it.
        let merged = try await cache.index()
        #expect(merged.map(\.entry.metadata.name).sorted() == ["new", "only-b", "shared"]) // new: pushed to b just above
        #expect(merged.first { $0.entry.metadata.name == "shared" }?.cache == a.backend.location)
    }
}
