import Foundation
import HTTPCore
import OCI
import Testing
@testable import Registry

/// Push and pull against the real CNCF registry in its four set-ups.
@Suite(.serialized) struct RegistryIntegrationTests {
    @Test(arguments: RegistryFixture.Setup.allCases)
    func pushListPullRoundTrip(_ setup: RegistryFixture.Setup) async throws {
        let registry = try await RegistryFixture.start(setup)
        defer { registry.stop() }
        let source = try ScratchStore()
        let image = try source.makeImage("app:1", layers: [300_000, 5_000_000, 64])
        let target = try ImageReference(parsing: "\(registry.host)/team/app:1")

        try await using(registry.client()) { client in
            let pushed = try await ImageTransfer.push(image, from: source.store, to: target, client: client)
            #expect(pushed.digest == image.digest)
            #expect(try await client.tags("team/app") == ["1"])
            // A second push sends no blob again.
            let outcomes = OutcomeLog()
            try await ImageTransfer.push(image, from: source.store, to: target, client: client) { outcomes.record($0) }
            #expect(outcomes.all.allSatisfy { $0 == .existed } && outcomes.all.count == 4)
            if setup == .token { #expect(await client.tokenRequestCount <= 2, "tokens are cached per scope") }
        }

        let destination = try ScratchStore()
        try await using(registry.client()) { client in
            let pulled = try await ImageTransfer.pull(target, client: client, into: destination.store)
            #expect(pulled.digest == image.digest)
        }
        let manifest = try destination.store.manifest(for: try destination.store.resolve(target.description).descriptor)
        for blob in [manifest.config] + manifest.layers {
            #expect(try destination.store.read(blob).count == Int(blob.size))
        }
    }

    @Test func multiPlatformIndexesPushPullAndCopy() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        let source = try ScratchStore()
        let arm = Platform(os: "linux", architecture: "arm64")
        let index = try source.makeIndex("multi:1", platforms: [.host, arm])
        let target = try ImageReference(parsing: "\(registry.host)/multi:1")
        try await using(registry.client()) { client in
            try await ImageTransfer.push(index, from: source.store, to: target, client: client)
            // One platform, chosen from the index.
            let one = try ScratchStore()
            let pulled = try await ImageTransfer.pull(target, client: client, into: one.store, options: TransferOptions(platform: arm))
            let config = try one.store.config(of: try one.store.manifest(for: pulled))
            #expect(config.architecture == "arm64")
            // Every platform, with the index itself.
            let all = try ScratchStore()
            let whole = try await ImageTransfer.pull(target, client: client, into: all.store, options: TransferOptions(allPlatforms: true))
            #expect(whole.digest == index.digest)
            #expect(try all.store.manifest(for: whole, platform: arm).layers.count == 1)
            // Copy --all between repositories of the same registry (blobs are mounted).
            let outcomes = OutcomeLog()
            let copied = try await ImageTransfer.copy(target, from: client, to: try ImageReference(parsing: "\(registry.host)/other/multi:2"),
                                                      client: client, options: TransferOptions(allPlatforms: true)) { outcomes.record($0) }
            #expect(copied.digest == index.digest)
            #expect(!outcomes.all.isEmpty && outcomes.all.allSatisfy { $0 == .mounted || $0 == .existed })
            // A platform the index lacks is a clear error listing the ones it has.
            await #expect {
                try await ImageTransfer.pull(target, client: client, into: one.store, options: TransferOptions(platform: Platform(os: "linux", architecture: "s390x")))
            } throws: { "\($0)".contains("linux/s390x") && "\($0)".contains("linux/arm64") }
        }
    }

    @Test func wrongPasswordIsAClearError() async throws {
        let registry = try await RegistryFixture.start(.basic)
        defer { registry.stop() }
        await #expect {
            try await using(registry.client(password: "wrong")) { try await $0.tags("x") }
        } throws: { error in
            "\(error)".contains("authentication required or refused") && "\(error)".contains("stackship login") && !"\(error)".contains("wrong")
        }
    }

    @Test func tokenServerRefusesBadCredentialsAndGrantsOnlyWhatIsAsked() async throws {
        let registry = try await RegistryFixture.start(.token)
        defer { registry.stop() }
        await #expect {
            try await using(registry.client(password: "wrong")) { try await $0.tags("x") }
        } throws: { "\($0)".contains("token server") }
        let source = try ScratchStore()
        let image = try source.makeImage("t:1", layers: [1000])
        try await using(registry.client()) { client in
            try await ImageTransfer.push(image, from: source.store, to: try ImageReference(parsing: "\(registry.host)/a/b:1"), client: client)
        }
        let scopes = (registry.tokenServer?.requests() ?? []).flatMap { $0.scopes ?? [] }
        #expect(scopes.contains("repository:a/b:pull,push"))
        #expect(!scopes.contains { $0.contains("*") })
    }

    @Test func expiredTokensAreRenewedAndRefreshTokensUsePOST() async throws {
        var options = TokenServer.Options()
        options.lifetime = 6
        options.compensateRegistryLeeway = true
        let registry = try await RegistryFixture.start(.token, tokenOptions: options)
        defer { registry.stop() }
        let source = try ScratchStore()
        let image = try source.makeImage("exp:1", layers: [1000])
        let client = registry.client()
        try await using(client) { client in
            try await ImageTransfer.push(image, from: source.store, to: try ImageReference(parsing: "\(registry.host)/exp/a:1"), client: client)
            let before = await client.tokenRequestCount
            try await Task.sleep(for: .seconds(2))
            _ = try await client.tags("exp/a")
            #expect(await client.tokenRequestCount == before + 1, "a new scope (pull only) needs a new token")
            try await Task.sleep(for: .seconds(5))
            // The cached tokens have expired: a fresh one is fetched, nothing fails.
            #expect(try await client.tags("exp/a") == ["1"])
            #expect(await client.tokenRequestCount == before + 2)
        }

        // An identity (refresh) token, as docker login stores for OAuth registries, goes by POST.
        let server = try #require(registry.tokenServer)
        let grant = try runSync("/usr/bin/env", ["curl", "-s", "-X", "POST", "-d",
            "grant_type=password&username=\(server.username)&password=\(server.password)&service=\(server.service)&client_id=test&access_type=offline",
            server.realm])
        struct Grant: Decodable { var refresh_token: String? }
        let refresh = try #require(try JSONDecoder().decode(Grant.self, from: Data(grant.stdout.utf8)).refresh_token)
        let oauth = RegistryClient(registry: registry.host, credential: RegistryCredential(identityToken: refresh), options: TransportOptions(retry: .fastTests))
        try await using(oauth) { client in
            let tags = try await client.tags("exp/a")
            #expect(tags == ["1"])
        }
        let last = server.requests().last
        #expect(last?.method == "POST" && last?.grantType == "refresh_token")
    }

    @Test func copyBetweenTwoRegistriesStreamsEveryBlob() async throws {
        let from = try await RegistryFixture.start(.plain)
        defer { from.stop() }
        let to = try await RegistryFixture.start(.basic)
        defer { to.stop() }
        let source = try ScratchStore()
        let image = try source.makeImage("x:1", layers: [2_000_000, 300])
        let src = try ImageReference(parsing: "\(from.host)/x:1")
        try await using(from.client()) { client in try await ImageTransfer.push(image, from: source.store, to: src, client: client) }
        let outcomes = OutcomeLog()
        try await using(from.client()) { sourceClient in
            try await using(to.client()) { client in
                let copied = try await ImageTransfer.copy(src, from: sourceClient, to: try ImageReference(parsing: "\(to.host)/y:2"), client: client) { outcomes.record($0) }
                #expect(copied.digest == image.digest)
                #expect(try await client.tags("y") == ["2"])
            }
        }
        #expect(outcomes.all == [.uploaded, .uploaded, .uploaded])
    }

    @Test func insufficientScopeAsksOnceMoreThenSaysSo() async throws {
        var options = TokenServer.Options()
        options.anonymousPull = true
        let registry = try await RegistryFixture.start(.token, tokenOptions: options)
        defer { registry.stop() }
        let source = try ScratchStore()
        let image = try source.makeImage("scope:1", layers: [500])
        // Anonymous: the token server grants pull only, so the registry answers insufficient_scope.
        let anonymous = RegistryClient(registry: registry.host, credential: nil, options: TransportOptions(retry: .fastTests))
        await #expect {
            try await using(anonymous) { client in
                try await ImageTransfer.push(image, from: source.store, to: try ImageReference(parsing: "\(registry.host)/s/app:1"), client: client)
            }
        } throws: { error in
            let text = "\(error)"
            return text.contains("authentication required or refused") || text.contains("access denied")
        }
        let pushScopes = (registry.tokenServer?.requests() ?? []).filter { $0.scopes?.contains("repository:s/app:pull,push") ?? false }
        #expect(pushScopes.count >= 2, "the push scope was asked for again after insufficient_scope")
    }

    @Test func aFailedMountFallsBackToAnUploadAndTagsArePaged() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        let source = try ScratchStore()
        let image = try source.makeImage("mf:1", layers: [7000])
        let layer = try source.store.manifest(for: image).layers[0]
        let path = source.store.path(of: layer.digest)
        try await using(registry.client()) { client in
            // The repository named for the mount does not have the blob: the registry opens an
            // upload session instead, and the bytes go up through it.
            let result = try await client.uploadBlob("target/repo", descriptor: layer, mountFrom: "nowhere/repo") { offset, length in
                .file(path, offset: offset, length: length)
            }
            #expect(result == .uploaded)
            #expect(try await client.blobExists("target/repo", digest: layer.digest))
            // Three tags read one per page, following the registry's Link headers.
            for tag in ["a", "b", "c"] {
                try await ImageTransfer.push(image, from: source.store, to: try ImageReference(parsing: "\(registry.host)/paged:\(tag)"), client: client)
            }
            // Every tag exactly once (docker-registry 2.8 hands pages back out of lexical order).
            let tags = try await client.tags("paged", pageSize: 1)
            #expect(tags.count == 3 && tags.sorted() == ["a", "b", "c"])
        }
    }

    @Test func deletesManifestsAndBlobs() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        let source = try ScratchStore()
        let image = try source.makeImage("del:1", layers: [1000])
        let layer = try source.store.manifest(for: image).layers[0]
        try await using(registry.client()) { client in
            try await ImageTransfer.push(image, from: source.store, to: try ImageReference(parsing: "\(registry.host)/del:1"), client: client)
            try await client.deleteManifest("del", digest: image.digest)
            await #expect { _ = try await client.manifest("del", reference: image.digest.description) } throws: { "\($0)".contains("not found") }
            try await client.deleteBlob("del", digest: layer.digest)
            #expect(try await client.blobExists("del", digest: layer.digest) == false)
        }
    }

    @Test func tlsWithoutTheCAIsRefusedWithAHint() async throws {
        let registry = try await RegistryFixture.start(.tls)
        defer { registry.stop() }
        // The registry is on loopback, so plain HTTP is tried too; neither may silently succeed.
        await #expect {
            try await using(registry.client(caCertificates: [])) { try await $0.tags("x") }
        } throws: { error in
            "\(error)".contains("--ca-cert") || "\(error)".contains("TLS") || "\(error)".contains("certificate")
        }
        // With the CA it works, over verified TLS.
        let source = try ScratchStore()
        let image = try source.makeImage("tls:1", layers: [2000])
        try await using(registry.client()) { client in
            try await ImageTransfer.push(image, from: source.store, to: try ImageReference(parsing: "\(registry.host)/secure/app:1"), client: client)
            #expect(try await client.tags("secure/app") == ["1"])
        }
    }

    @Test func manifestsOver4MiBAreRefusedBothWays() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        let big = Data(repeating: UInt8(ascii: " "), count: (4 << 20) + 1)
        try await using(registry.client()) { client in
            await #expect {
                try await client.putManifest("big/one", reference: "1", bytes: big, mediaType: MediaType.ociManifest)
            } throws: { "\($0)".contains("larger than 4 MiB") }
        }
        // A registry (here the fault proxy) serving one: refused while reading, nothing kept.
        let huge = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"annotations\":{\"x\":\"" + String(repeating: "a", count: 5 << 20) + "\"}}"
        let proxy = try await FaultProxy.start(upstream: registry.url, rules: [
            FaultRule(method: "GET", path: "/v2/big/two/manifests/.*", action: .status(200, body: huge, headers: ["Content-Type": MediaType.ociManifest]), times: FaultRule.always),
        ])
        defer { proxy.stop() }
        let destination = try ScratchStore()
        let client = RegistryClient(registry: proxy.host, credential: nil, options: TransportOptions(retry: .fastTests))
        try await using(client) { client in
            await #expect {
                try await ImageTransfer.pull(try ImageReference(parsing: "\(proxy.host)/big/two:1"), client: client, into: destination.store)
            } throws: { "\($0)".contains("larger than 4 MiB") }
        }
        #expect(try destination.store.entries().isEmpty)
    }
}

/// Collects blob outcomes from transfer events.
final class OutcomeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var outcomes: [BlobOutcome] = []
    func record(_ event: TransferEvent) {
        if case let .blobFinished(_, _, outcome) = event { lock.withLock { outcomes.append(outcome) } }
    }
    var all: [BlobOutcome] { lock.withLock { outcomes } }
}
