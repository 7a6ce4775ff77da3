#if canImport(Glibc)
import Glibc
#endif
import BuildCache
import Foundation
import OCI
import Testing

@Suite("Concurrent pushers")
struct ConcurrencyIntegrationTests {
    @Test(arguments: BackendFactory.all)
    func manyTasksPushingNeverLoseIndexEntries(_ factory: BackendFactory) async throws {
        let env = try await Env(factory)
        let names = (0..<40).map { "pkg\($0)" }
        let artifacts = try names.map { try env.makeArtifact($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (name, artifact) in zip(names, artifacts) {
                group.addTask {
                    let info = PackageInfo(hash: hash(name), name: name, version: "1", platform: "linux/amd64")
                    let r = try await env.cache.push(artifact: artifact, info: info, signer: env.key)
                    #expect(r.pushed)
                }
            }
            try await group.waitForAll()
        }
        let index = try await env.cache.index()
        #expect(Set(index.entries.map(\.metadata.name)) == Set(names))
        let results = try await env.cache.verifyAll(trust: env.binary().trust)
        #expect(results.count == 40)
        #expect(results.allSatisfy { if case .success = $0.result { return true } else { return false } })
    }

    @Test(arguments: BackendFactory.all)
    func racingPushersOfTheSamePackageLeaveOneCompletePackage(_ factory: BackendFactory) async throws {
        let env = try await Env(factory)
        // Different bytes for the same hash (a non-reproducible build), each signed by its own key.
        let keys = (0..<8).map { _ in SigningKey() }
        let artifacts = try (0..<8).map { try env.makeArtifact("zlib", content: "build\($0)") }
        let results = try await withThrowingTaskGroup(of: PushResult.self) { group in
            for i in 0..<8 {
                group.addTask {
                    let info = PackageInfo(hash: hash("zlib"), name: "zlib", version: "1", platform: "linux/amd64")
                    return try await env.cache.push(artifact: artifacts[i], info: info, signer: keys[i])
                }
            }
            var out: [PushResult] = []
            for try await r in group { out.append(r) }
            return out
        }
        #expect(results.filter(\.pushed).count == 1)
        let firstPushed = results.first { $0.pushed }
        let winner = try #require(firstPushed).entry
        #expect(results.allSatisfy { $0.entry == winner })
        let cache = BinaryCache(caches: [env.cache], trustedKeys: keys.map(\.publicKey))
        let dest = env.destination()
        let v = try await cache.fetch(hash("zlib"), into: dest)
        #expect(v.metadata == winner.metadata)
    }
}

@Suite("Garbage collection")
struct GCIntegrationTests {
    /// a → b → c, d → c, e alone: all pushed before `mark`; f (→ e) after it.
    func populate(_ env: Env) async throws -> Date {
        try await env.push("c")
        try await env.push("b", deps: [hash("c")])
        try await env.push("a", deps: [hash("b")])
        try await env.push("d", deps: [hash("c")])
        try await env.push("e")
        try await Task.sleep(for: .milliseconds(1100)) // past any backend's timestamp granularity
        let mark = Date()
        try await Task.sleep(for: .milliseconds(1100))
        try await env.push("f", deps: [hash("e")])
        return mark
    }

    func names(_ env: Env) async throws -> Set<String> {
        Set(try await env.cache.index().entries.map(\.metadata.name))
    }

    @Test(arguments: BackendFactory.all)
    func keepsRootsTheirDependenciesAndYoungPackagesAndDeletesTheRest(_ factory: BackendFactory) async throws {
        let env = try await Env(factory)
        let mark = try await populate(env)
        let before = try await env.backend.list(prefix: "")
        // Started a day after the mark with a day's minimum age: older than the mark is old.
        let report = try await env.cache.gc(roots: [hash("a")], minAge: .seconds(86400), dryRun: false, startedAt: mark.addingTimeInterval(86400))
        #expect(Set(report.deletedPackages) == [hash("d")])
        #expect(try await names(env) == ["a", "b", "c", "e", "f"]) // e is kept by young f
        // Every object of d went, and its bytes are reported.
        let dObjects = before.filter { CacheLayout.hash(ofKey: $0.key) == hash("d") }
        #expect(dObjects.count == 4)
        #expect(Set(report.deleted.map(\.key)) == Set(dObjects.map(\.key)))
        #expect(report.bytes == dObjects.reduce(0) { $0 + $1.size })
        #expect(report.deleted.first?.key == CacheLayout.indexKey(hash("d")), "the index entry goes first")
        #expect(report.deleted.last.map { $0.key.hasSuffix(".tar.zst") } == true, "the artifact goes last")
        #expect(report.keptPackages == 5)
        // What is kept still verifies.
        for name in ["a", "b", "c", "e", "f"] { _ = try await env.cache.verify(hash(name), trust: env.binary().trust) }

        // With f gone from the young set (a later collection), e and f go too.
        let later = try await env.cache.gc(roots: [hash("a")], minAge: .seconds(60), dryRun: false, startedAt: Date().addingTimeInterval(86400))
        #expect(Set(later.deletedPackages) == [hash("e"), hash("f")])
        #expect(try await names(env) == ["a", "b", "c"])
    }

    @Test(arguments: BackendFactory.all)
    func dryRunDeletesNothing(_ factory: BackendFactory) async throws {
        let env = try await Env(factory)
        let mark = try await populate(env)
        let before = try await env.backend.list(prefix: "")
        let report = try await env.cache.gc(roots: [], minAge: .seconds(86400), dryRun: true, startedAt: mark.addingTimeInterval(86400))
        #expect(report.dryRun)
        #expect(Set(report.deletedPackages) == [hash("a"), hash("b"), hash("c"), hash("d")])
        #expect(report.bytes > 0)
        #expect(try await env.backend.list(prefix: "") == before)
    }

    @Test(arguments: BackendFactory.all)
    func objectsWrittenAfterTheCollectionStartedAreKeptEvenWithNoMinimumAge(_ factory: BackendFactory) async throws {
        let env = try await Env(factory)
        try await env.push("old")
        try await Task.sleep(for: .milliseconds(1100))
        let start = Date()
        try await Task.sleep(for: .milliseconds(1100))
        try await env.push("new")
        let report = try await env.cache.gc(roots: [], minAge: .zero, dryRun: false, startedAt: start)
        #expect(report.deletedPackages == [hash("old")])
        #expect(try await names(env) == ["new"])
    }

    @Test(arguments: BackendFactory.all)
    func aPushInFlightIsKeptAndACrashedOneIsCollected(_ factory: BackendFactory) async throws {
        let env = try await Env(factory)
        // A crashed push: artifact and metadata, no index entry, long ago.
        let crashed = try await env.push("crashed").entry
        try await env.backend.delete(CacheLayout.indexKey(crashed.hash))
        try await Task.sleep(for: .milliseconds(1100))
        let mark = Date()
        try await Task.sleep(for: .milliseconds(1100))
        // A push in flight: its artifact is written, its index entry not yet.
        let inflight = try await env.push("inflight").entry
        try await env.backend.delete(CacheLayout.indexKey(inflight.hash))
        let report = try await env.cache.gc(roots: [], minAge: .seconds(3600), dryRun: false, startedAt: mark.addingTimeInterval(3600))
        let left = Set(try await env.backend.list(prefix: "artifacts/").compactMap { CacheLayout.hash(ofKey: $0.key) })
        #expect(left == [hash("inflight")])
        #expect(report.deleted.count == 3) // the crashed push's artifact, metadata, signature
        #expect(report.deletedPackages.isEmpty)
    }

    @Test(arguments: BackendFactory.all)
    func aRootWithoutAnIndexEntryKeepsItsObjects(_ factory: BackendFactory) async throws {
        let env = try await Env(factory)
        let entry = try await env.push("root").entry
        try await env.backend.delete(CacheLayout.indexKey(entry.hash))
        let report = try await env.cache.gc(roots: [hash("root")], minAge: .zero, dryRun: false, startedAt: Date().addingTimeInterval(3600))
        #expect(report.deleted.isEmpty)
    }

    @Test(arguments: BackendFactory.all)
    func collectingWhilePushingNeverDeletesAnInFlightOrReferencedArtifact(_ factory: BackendFactory) async throws {
        let env = try await Env(factory)
        for i in 0..<10 { try await env.push("old\(i)", deps: i > 0 ? [hash("old\(i - 1)")] : []) }
        try await Task.sleep(for: .milliseconds(1100))
        let mark = Date()
        try await Task.sleep(for: .milliseconds(1100))
        let newArtifacts = try (0..<20).map { try env.makeArtifact("new\($0)") }
        // old4 is a root: old0…old4 stay, old5…old9 go, every new package stays whole.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                group.addTask {
                    let info = PackageInfo(hash: hash("new\(i)"), name: "new\(i)", version: "1", dependencies: [hash("old\(i % 5)")], platform: "linux/amd64")
                    _ = try await env.cache.push(artifact: newArtifacts[i], info: info, signer: env.key)
                }
                if i == 5 {
                    group.addTask {
                        for _ in 0..<3 {
                            _ = try await env.cache.gc(roots: [hash("old4")], minAge: .seconds(3600), dryRun: false, startedAt: mark.addingTimeInterval(3600))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let names = try await names(env)
        #expect(names == Set((0..<5).map { "old\($0)" } + (0..<20).map { "new\($0)" }))
        let results = try await env.cache.verifyAll(trust: env.binary().trust)
        #expect(results.count == 25)
        for r in results { if case .failure(let e) = r.result { Issue.record("\(r.hash): \(e)") } }
    }

    @Test func theBackendClockDecidesAgesWhenNoStartIsGiven() async throws {
        // Directory backend only: files are backdated by their mtimes.
        let env = try await Env(.directory)
        try await env.push("ancient")
        try await env.push("fresh")
        let root = (env.backend as! DirectoryBackend).root
        let monthAgo = Int(Date().timeIntervalSince1970) - 30 * 86400
        for object in try await env.backend.list(prefix: "") where CacheLayout.hash(ofKey: object.key) == hash("ancient") {
            var times = [timespec(tv_sec: monthAgo, tv_nsec: 0), timespec(tv_sec: monthAgo, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, root + "/" + object.key, &times, 0) == 0)
        }
        let report = try await env.cache.gc(roots: [], minAge: .seconds(7 * 86400), dryRun: false)
        #expect(report.deletedPackages == [hash("ancient")])
        #expect(report.deleted.count == 4)
        #expect(try await names(env) == ["fresh"])
        // The clock marker is gone, and so are the emptied directories.
        #expect(!FileManager.default.fileExists(atPath: root + "/gc-clock"))
        #expect(!FileManager.default.fileExists(atPath: root + "/artifacts/" + hash("ancient").value))
        // The compacted index was written and agrees with the listing.
        #expect(try await env.backend.head(CacheLayout.snapshotKey) != nil)
        #expect(try await env.cache.index().entries.map(\.metadata.name) == ["fresh"])
    }

    @Test func minimumAgesParse() throws {
        #expect(try Duration.parseAge("7d") == .seconds(7 * 86400))
        #expect(try Duration.parseAge("12h") == .seconds(12 * 3600))
        #expect(try Duration.parseAge("30m") == .seconds(1800))
        #expect(try Duration.parseAge("45s") == .seconds(45))
        #expect(try Duration.parseAge("2w") == .seconds(14 * 86400))
        #expect(try Duration.parseAge("0") == .zero)
        for bad in ["", "7", "d", "-1d", "7y", "1.5h", "99999999999999999w"] {
            #expect(throws: BuildCacheError.invalidDuration(bad)) { try Duration.parseAge(bad) }
        }
    }
}
