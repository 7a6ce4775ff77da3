import Foundation
import HTTPCore
import OCI
import Testing
@testable import Registry

/// Transient failures are retried; corrupt content is refused; credentials stay home.
@Suite(.serialized) struct RegistryFaultIntegrationTests {
    func client(for proxy: FaultProxy, credential: RegistryCredential? = nil, retry: RetryPolicy = .fastTests) -> RegistryClient {
        RegistryClient(registry: proxy.host, credential: credential, options: TransportOptions(retry: retry))
    }

    @Test func retriesA429HonouringRetryAfterAnd503s() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        let proxy = try await FaultProxy.start(upstream: registry.url, rules: [
            FaultRule(method: "PUT", path: "/v2/r/blobs/uploads/.*", action: .status(429, retryAfter: 1), times: 1),
            FaultRule(method: "HEAD", path: "/v2/r/blobs/.*", action: .status(503), times: 2),
            FaultRule(method: "GET", path: "/v2/r/manifests/.*", action: .status(503), times: 2),
        ])
        defer { proxy.stop() }
        let source = try ScratchStore()
        let image = try source.makeImage("r:1", layers: [10_000])
        let target = try ImageReference(parsing: "\(proxy.host)/r:1")
        let started = Date()
        try await using(client(for: proxy)) { client in
            try await ImageTransfer.push(image, from: source.store, to: target, client: client)
        }
        #expect(Date().timeIntervalSince(started) >= 1.0, "Retry-After: 1 was honoured")
        let destination = try ScratchStore()
        try await using(client(for: proxy)) { client in
            let pulled = try await ImageTransfer.pull(target, client: client, into: destination.store)
            #expect(pulled.digest == image.digest)
        }
        let fired = proxy.requests().compactMap(\.rule)
        #expect(fired.filter { $0 == 0 }.count == 1 && fired.filter { $0 == 1 }.count == 2 && fired.filter { $0 == 2 }.count == 2)
    }

    @Test func aConnectionResetMidBlobIsRetried() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        let source = try ScratchStore()
        let image = try source.makeImage("c:1", layers: [3_000_000])
        let upload = registry.client()
        try await using(upload) { client in
            try await ImageTransfer.push(image, from: source.store, to: try ImageReference(parsing: "\(registry.host)/c:1"), client: client)
        }
        let proxy = try await FaultProxy.start(upstream: registry.url, rules: [
            FaultRule(method: "GET", path: "/v2/c/blobs/sha256:.*", action: .reset, times: 2),
        ])
        defer { proxy.stop() }
        let destination = try ScratchStore()
        try await using(client(for: proxy)) { client in
            let pulled = try await ImageTransfer.pull(try ImageReference(parsing: "\(proxy.host)/c:1"), client: client, into: destination.store)
            #expect(pulled.digest == image.digest)
        }
        #expect(proxy.requests().filter { $0.action == "reset" }.count == 2)
    }

    @Test func aDownloadCutMidBodyResumesWithARangeRequest() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        let source = try ScratchStore()
        let image = try source.makeImage("cut:1", layers: [4_000_000])
        try await using(registry.client()) { client in
            try await ImageTransfer.push(image, from: source.store, to: try ImageReference(parsing: "\(registry.host)/cut:1"), client: client)
        }
        let layer = try source.store.manifest(for: image).layers[0]
        let proxy = try await FaultProxy.start(upstream: registry.url, rules: [
            FaultRule(method: "GET", path: "/v2/cut/blobs/\(layer.digest)", action: .truncate(afterBytes: 1_500_000), times: 1),
        ])
        defer { proxy.stop() }
        let destination = try ScratchStore()
        try await using(client(for: proxy)) { client in
            let pulled = try await ImageTransfer.pull(try ImageReference(parsing: "\(proxy.host)/cut:1"), client: client, into: destination.store)
            #expect(pulled.digest == image.digest)
        }
        #expect(try destination.store.read(layer).count == Int(layer.size))
        let gets = proxy.requests().filter { $0.method == "GET" && $0.path.hasSuffix(layer.digest.description) }
        #expect(gets.count == 2)
        // The second request asks only for what is missing.
        let range = gets.last?.headers["range"] ?? ""
        #expect(range.hasPrefix("bytes=") && range != "bytes=0-", "resumed with \(range)")
    }

    @Test func chunkedUploadsWhenTheRegistryAsksForThem() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        // The registry (through the proxy) sets a minimum chunk length on new upload sessions.
        let proxy = try await FaultProxy.start(upstream: registry.url, rules: [
            FaultRule(method: "POST", path: "/v2/chunked/blobs/uploads/", action: .addHeaders(["OCI-Chunk-Min-Length": "5242880"]), times: FaultRule.always),
        ])
        defer { proxy.stop() }
        let source = try ScratchStore()
        let image = try source.makeImage("chunked:1", layers: [20_000_000])
        try await using(client(for: proxy)) { client in
            try await ImageTransfer.push(image, from: source.store, to: try ImageReference(parsing: "\(proxy.host)/chunked:1"), client: client)
        }
        let patches = proxy.requests().filter { $0.method == "PATCH" }
        #expect(patches.count >= 2, "a 20 MB blob goes up in several chunks")
        #expect(patches.allSatisfy { $0.headers["content-range"] != nil })
        #expect(patches.first?.headers["content-range"]?.hasPrefix("0-") == true)
        let destination = try ScratchStore()
        try await using(registry.client()) { client in
            let pulled = try await ImageTransfer.pull(try ImageReference(parsing: "\(registry.host)/chunked:1"), client: client, into: destination.store)
            #expect(pulled.digest == image.digest)
        }
    }

    @Test func registryStoppedMidPushAndStartedAgainFinishesWithoutResending() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        let proxy = try await FaultProxy.start(upstream: registry.url, rules: [
            // Slow the third layer down, so the registry can be stopped while it is in flight.
            FaultRule(method: "PATCH", path: "/v2/s/blobs/uploads/.*", action: .delay(seconds: 1.5), times: FaultRule.always),
        ])
        defer { proxy.stop() }
        let source = try ScratchStore()
        let image = try source.makeImage("s:1", layers: [200_000, 6_000_000])
        let manifest = try source.store.manifest(for: image)
        let patient = RetryPolicy(maxAttempts: 12, baseDelay: .milliseconds(200), maxDelay: .seconds(2))
        let target = try ImageReference(parsing: "\(proxy.host)/s:1")
        let push = Task {
            try await using(client(for: proxy, retry: patient)) { client in
                try await ImageTransfer.push(image, from: source.store, to: target, client: client, options: TransferOptions(jobs: 1))
            }
        }
        // Wait until the big layer's PATCH is in flight, then stop and restart the registry.
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, !proxy.requests().contains(where: { $0.method == "PATCH" }) { try await Task.sleep(for: .milliseconds(50)) }
        registry.stopProcess()
        try await Task.sleep(for: .seconds(2))
        try await registry.startProcess()
        let pushed = try await push.value
        #expect(pushed.digest == image.digest)

        // Blobs that completed before the stop were not sent again.
        let requests = proxy.requests()
        for blob in [manifest.config] + manifest.layers where blob.size < 1_000_000 {
            let finishes = requests.filter { $0.method == "PUT" && $0.query.contains(blob.digest.encoded) }
            #expect(finishes.count == 1, "\(blob.digest) was finished \(finishes.count) times")
        }
        let destination = try ScratchStore()
        try await using(registry.client()) { client in
            let pulled = try await ImageTransfer.pull(try ImageReference(parsing: "\(registry.host)/s:1"), client: client, into: destination.store)
            #expect(pulled.digest == image.digest)
        }
    }

    @Test func aBlobWhoseBytesDoNotMatchIsRejectedAndNothingIsStored() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        let source = try ScratchStore()
        let image = try source.makeImage("bad:1", layers: [50_000])
        try await using(registry.client()) { client in
            try await ImageTransfer.push(image, from: source.store, to: try ImageReference(parsing: "\(registry.host)/bad:1"), client: client)
        }
        // Flip bytes of the layer in the registry's own storage.
        let layer = try source.store.manifest(for: image).layers[0].digest
        let data = "\(registry.storageDirectory)/docker/registry/v2/blobs/sha256/\(layer.encoded.prefix(2))/\(layer.encoded)/data"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: data))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: data))

        let destination = try ScratchStore()
        try await using(registry.client()) { client in
            await #expect {
                try await ImageTransfer.pull(try ImageReference(parsing: "\(registry.host)/bad:1"), client: client, into: destination.store)
            } throws: { error in
                "\(error)".contains(layer.description) && "\(error)".contains("nothing was stored")
            }
        }
        #expect(!destination.store.contains(layer))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: destination.store.root + "/blobs/sha256").filter { $0.hasPrefix(".tmp-") }
        #expect(leftovers.isEmpty)
        #expect(try destination.store.entries().isEmpty)
    }

    @Test func aRedirectToAnotherHostDoesNotCarryCredentials() async throws {
        // The image lives on a Basic-auth registry and, as with a CDN, on a public mirror.
        let registry = try await RegistryFixture.start(.basic)
        defer { registry.stop() }
        let mirror = try await RegistryFixture.start(.plain)
        defer { mirror.stop() }
        let source = try ScratchStore()
        let image = try source.makeImage("m:1", layers: [20_000])
        for r in [registry, mirror] {
            try await using(r.client()) { client in
                try await ImageTransfer.push(image, from: source.store, to: try ImageReference(parsing: "\(r.host)/m:1"), client: client)
            }
        }
        let cdn = try await FaultProxy.start(upstream: mirror.url)
        defer { cdn.stop() }
        let front = try await FaultProxy.start(upstream: registry.url, rules: [
            FaultRule(method: "GET", path: "/v2/m/blobs/sha256:.*", action: .redirect(to: cdn.url), times: FaultRule.always),
        ])
        defer { front.stop() }
        let credential = RegistryCredential(username: registry.username ?? "", password: registry.password ?? "")
        let destination = try ScratchStore()
        try await using(client(for: front, credential: credential)) { client in
            let pulled = try await ImageTransfer.pull(try ImageReference(parsing: "\(front.host)/m:1"), client: client, into: destination.store)
            #expect(pulled.digest == image.digest)
        }
        #expect(front.requests().contains { $0.authorization }, "the registry itself got the credentials")
        let followed = cdn.requests().filter { $0.path.contains("/blobs/") }
        #expect(!followed.isEmpty)
        #expect(followed.allSatisfy { !$0.authorization }, "credentials never follow a redirect to another origin")
    }
}

/// HTTPS_PROXY / NO_PROXY, and the plain-HTTP credential rule, for a registry that is not on
/// loopback by name. The name resolves nowhere: only the proxy (the fault proxy, which takes
/// absolute-form requests and sends them to the real registry) can reach it.
@Suite(.serialized) struct RegistryProxyIntegrationTests {
    @Test func theEnvironmentsProxyCarriesTheTrafficUnlessNoProxySaysOtherwise() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        let proxy = try await FaultProxy.start(upstream: registry.url)
        defer { proxy.stop() }
        let name = "registry.stackship.test:\(registry.port)"
        let source = try ScratchStore()
        let image = try source.makeImage("p:1", layers: [3000])
        let proxied = RegistryClient(registry: name, credential: nil,
                                     options: TransportOptions(insecure: true, environment: ["HTTPS_PROXY": proxy.url], retry: .fastTests, connectTimeout: .seconds(2)))
        try await using(proxied) { client in
            let pushed = try await ImageTransfer.push(image, from: source.store, to: try ImageReference(parsing: "\(name)/p:1"), client: client)
            #expect(pushed.digest == image.digest)
        }
        #expect(proxy.requests().contains { $0.method == "CONNECT" && $0.path == name }, "the traffic went through the proxy's tunnel")
        // The image really is in the registry behind the proxy.
        try await using(registry.client()) { client in
            let tags = try await client.tags("p")
            #expect(tags == ["1"])
        }
        // Without --insecure, only HTTPS is tried; the registry speaks plain HTTP, so that fails
        // with a hint rather than quietly dropping to plain HTTP.
        let strict = RegistryClient(registry: name, credential: nil,
                                    options: TransportOptions(environment: ["HTTPS_PROXY": proxy.url], retry: .none, connectTimeout: .seconds(2)))
        await #expect {
            try await using(strict) { try await $0.tags("p") }
        } throws: { "\($0)".contains("pass --insecure") }
        // NO_PROXY covering the name: no proxy, and the name resolves nowhere.
        let before = proxy.requests().count
        let direct = RegistryClient(registry: name, credential: nil,
                                    options: TransportOptions(insecure: true, environment: ["HTTPS_PROXY": proxy.url, "NO_PROXY": ".stackship.test"], retry: .none, connectTimeout: .seconds(2)))
        await #expect {
            try await using(direct) { try await $0.tags("p") }
        } throws: { "\($0)".contains("cannot reach registry \(name)") }
        #expect(proxy.requests().count == before)
    }

    @Test func credentialsAreNeverSentInClearToAHostThatIsNotLoopback() async throws {
        let registry = try await RegistryFixture.start(.basic)
        defer { registry.stop() }
        let proxy = try await FaultProxy.start(upstream: registry.url)
        defer { proxy.stop() }
        let name = "registry.stackship.test:\(registry.port)"
        let client = RegistryClient(registry: name, credential: RegistryCredential(username: registry.username ?? "", password: registry.password ?? ""),
                                    options: TransportOptions(insecure: true, environment: ["HTTPS_PROXY": proxy.url], retry: .fastTests, connectTimeout: .seconds(2)))
        await #expect {
            try await using(client) { try await $0.tags("x") }
        } throws: { error in
            "\(error)".contains("refusing to send credentials") && !"\(error)".contains(registry.password ?? "-")
        }
        #expect(proxy.requests().contains { $0.method == "CONNECT" }, "the registry was reached through the proxy (its challenge came back)")
    }
}
