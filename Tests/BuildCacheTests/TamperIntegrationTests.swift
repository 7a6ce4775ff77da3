import BuildCache
import Foundation
import OCI
import Testing

/// Each way a cached package can be altered is refused, with nothing installed and the
/// destination (here an existing empty directory) left exactly as it was.
@Suite("Tampering")
struct TamperIntegrationTests {
    /// Pushes `zlib`, lets `tamper` alter the cache, then fetches and checks the refusal.
    func refused(_ factory: BackendFactory, allowUnsigned: Bool = false,
                 tamper: (Env, IndexEntry) async throws -> Void,
                 sourceLocation: SourceLocation = #_sourceLocation,
                 _ matches: @escaping (BuildCacheError) -> Bool) async throws -> BuildCacheError? {
        let env = try await Env(factory)
        let entry = try await env.push("zlib").entry
        try await tamper(env, entry)
        let dest = env.destination()
        try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: false)
        let parent = (dest as NSString).deletingLastPathComponent
        let error = await expectCacheError({ try await env.binary(allowUnsigned: allowUnsigned).fetch(hash("zlib"), into: dest) },
                                           sourceLocation: sourceLocation, matches)
        #expect(Scratch.listing(dest).isEmpty, "something was installed", sourceLocation: sourceLocation)
        #expect(Scratch.listing(parent) == ["prefix"], "temporary files were left", sourceLocation: sourceLocation)
        return error
    }

    static func artifactKey(_ e: IndexEntry) -> String { CacheLayout.artifactKey(e.metadata) }
    static func metadataKey(_ e: IndexEntry) -> String { CacheLayout.metadataKey(e.hash, e.metadataDigest) }
    static func signatureKey(_ e: IndexEntry) -> String { CacheLayout.signatureKey(e.hash, e.metadataDigest) }

    @Test(arguments: BackendFactory.all)
    func artifactChangedAfterSigning(_ factory: BackendFactory) async throws {
        let error = try await refused(factory, tamper: { env, e in
            var bytes = try #require(try await env.backend.getData(Self.artifactKey(e)))
            bytes[bytes.count / 2] ^= 0xff // same size, different content
            try await env.backend.put(Self.artifactKey(e), data: bytes)
        }) { if case .artifactDigestMismatch = $0 { return true } else { return false } }
        #expect(error?.description.contains("altered") == true)
    }

    @Test(arguments: BackendFactory.all)
    func truncatedArtifact(_ factory: BackendFactory) async throws {
        let error = try await refused(factory, tamper: { env, e in
            let bytes = try #require(try await env.backend.getData(Self.artifactKey(e)))
            try await env.backend.put(Self.artifactKey(e), data: bytes.prefix(bytes.count - 7))
        }) { if case .artifactSizeMismatch = $0 { return true } else { return false } }
        #expect(error?.description.contains("truncated") == true)
    }

    @Test(arguments: BackendFactory.all)
    func missingArtifact(_ factory: BackendFactory) async throws {
        _ = try await refused(factory, tamper: { env, e in
            try await env.backend.delete(Self.artifactKey(e))
        }) { if case .metadataMismatch = $0 { return true } else { return false } }
    }

    @Test(arguments: BackendFactory.all)
    func signatureByAnUnknownKey(_ factory: BackendFactory) async throws {
        let stranger = SigningKey()
        let error = try await refused(factory, tamper: { env, e in
            let bytes = try #require(try await env.backend.getData(Self.metadataKey(e)))
            try await env.backend.put(Self.signatureKey(e), data: try CanonicalJSON.encode(try stranger.sign(bytes)))
        }) { if case let .untrustedSigner(_, keyID, _) = $0 { return keyID == stranger.publicKey.keyID } else { return false } }
        #expect(error?.description.contains("--trusted-key") == true)
    }

    @Test(arguments: BackendFactory.all)
    func signatureForgedUnderTheTrustedKeyID(_ factory: BackendFactory) async throws {
        _ = try await refused(factory, tamper: { env, e in
            var forged = try SigningKey().sign(try #require(try await env.backend.getData(Self.metadataKey(e))))
            forged.keyID = env.key.publicKey.keyID
            try await env.backend.put(Self.signatureKey(e), data: try CanonicalJSON.encode(forged))
        }) { if case .badSignature = $0 { return true } else { return false } }
    }

    @Test(arguments: BackendFactory.all)
    func missingSignature(_ factory: BackendFactory) async throws {
        let error = try await refused(factory, tamper: { env, e in
            try await env.backend.delete(Self.signatureKey(e))
        }) { if case .unsigned = $0 { return true } else { return false } }
        #expect(error?.description.contains("--allow-unsigned") == true)
    }

    @Test(arguments: BackendFactory.all)
    func metadataEdited(_ factory: BackendFactory) async throws {
        _ = try await refused(factory, tamper: { env, e in
            var m = e.metadata
            m.version = "9.9-evil"
            try await env.backend.put(Self.metadataKey(e), data: try CanonicalJSON.encode(m))
        }) { if case .badSignature = $0 { return true } else { return false } }
    }

    @Test(arguments: BackendFactory.all)
    func metadataAndArtifactSwappedTogether(_ factory: BackendFactory) async throws {
        // The attacker replaces the artifact and points the metadata at its digest: the
        // signature no longer matches the metadata.
        _ = try await refused(factory, tamper: { env, e in
            let evil = try env.makeArtifact("zlib", content: "evil")
            let file = try ArtifactBuilder.describe(evil)
            var m = e.metadata
            m.artifactDigest = file.digest
            m.size = file.size
            try await env.backend.put(CacheLayout.artifactKey(m), fromFile: evil)
            try await env.backend.put(Self.metadataKey(e), data: try CanonicalJSON.encode(m))
        }) { if case .badSignature = $0 { return true } else { return false } }
    }

    @Test(arguments: BackendFactory.all)
    func indexEntryPointingAtAnotherPackagesSignedMetadata(_ factory: BackendFactory) async throws {
        _ = try await refused(factory, tamper: { env, e in
            let other = try await env.push("evil").entry
            var forged = e
            forged.metadataDigest = other.metadataDigest
            // Copy evil's signed metadata and signature under zlib's folder.
            for (from, to) in [(CacheLayout.metadataKey(other.hash, other.metadataDigest), CacheLayout.metadataKey(e.hash, other.metadataDigest)),
                               (CacheLayout.signatureKey(other.hash, other.metadataDigest), CacheLayout.signatureKey(e.hash, other.metadataDigest))] {
                try await env.backend.put(to, data: try #require(try await env.backend.getData(from)))
            }
            try await env.backend.put(CacheLayout.indexKey(e.hash), data: try CanonicalJSON.encode(forged))
        }) { if case .metadataMismatch = $0 { return true } else { return false } }
    }

    @Test(arguments: BackendFactory.all)
    func allowUnsignedAcceptsAMissingSignature(_ factory: BackendFactory) async throws {
        let env = try await Env(factory)
        try await env.push("zlib", unsigned: true)
        await expectCacheError({ try await env.binary().fetch(hash("zlib"), into: env.destination()) }) {
            if case .unsigned = $0 { return true } else { return false }
        }
        let dest = env.destination()
        let v = try await env.binary(allowUnsigned: true).fetch(hash("zlib"), into: dest)
        #expect(v.keyID == nil)
        #expect(FileManager.default.fileExists(atPath: dest + "/bin/zlib"))
    }

    @Test(arguments: BackendFactory.all)
    func allowUnsignedStillRejectsADigestMismatch(_ factory: BackendFactory) async throws {
        _ = try await refused(factory, allowUnsigned: true, tamper: { env, e in
            try await env.backend.delete(Self.signatureKey(e))
            var bytes = try #require(try await env.backend.getData(Self.artifactKey(e)))
            bytes[bytes.count - 10] ^= 0x01
            try await env.backend.put(Self.artifactKey(e), data: bytes)
        }) { if case .artifactDigestMismatch = $0 { return true } else { return false } }
    }

    @Test(arguments: BackendFactory.all)
    func allowUnsignedStillRejectsABadSignature(_ factory: BackendFactory) async throws {
        _ = try await refused(factory, allowUnsigned: true, tamper: { env, e in
            var m = e.metadata
            m.name = "renamed"
            try await env.backend.put(Self.metadataKey(e), data: try CanonicalJSON.encode(m))
        }) { if case .badSignature = $0 { return true } else { return false } }
    }

    @Test(arguments: BackendFactory.all)
    func verifyAllReportsEachBadPackage(_ factory: BackendFactory) async throws {
        let env = try await Env(factory)
        try await env.push("good")
        let bad = try await env.push("bad").entry
        try await env.backend.delete(Self.signatureKey(bad))
        let results = try await env.cache.verifyAll(trust: env.binary().trust)
        #expect(results.count == 2)
        for (h, r) in results {
            switch r {
            case .success: #expect(h == hash("good"))
            case .failure(let e): #expect(h == hash("bad")); #expect((e as? BuildCacheError) == .unsigned(hash("bad"), cache: env.backend.location))
            }
        }
    }
}
