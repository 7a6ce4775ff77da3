import AWS
import Foundation
import HTTPCore
import OCI
import Registry
import StackshipTesting
import Testing

/// The registry and AWS clients, side by side on the one transport and the in-process scripted
/// server: the same retries, the same proxy decisions, the same TLS reports.
@Suite struct ClientParityTests {
    static let fast = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .seconds(5))
    static let identity = """
    <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>
    """

    static func registry(_ host: String, _ options: TransportOptions) -> RegistryClient {
        RegistryClient(registry: host, credential: nil, options: options)
    }

    static func aws(_ endpoint: String, _ options: TransportOptions) -> AWSClient {
        AWSClient(credentials: AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "AKIA", secretAccessKey: "s")),
                  region: "us-east-1", endpoint: endpoint, options: options)
    }

    /// A registry (GET /v2/, tag lists) and STS (POST /) in one server; `first` answers the
    /// first request of each API call that is not a ping, once.
    static func handler(first: ScriptedServer.Response?) -> ScriptedServer.Handler {
        let once = Once()
        return { request in
            if request.path.hasSuffix("/v2/") { return .init(status: 200, body: "{}") }
            if let first, once.take() { return first }
            if request.path.contains("/tags/list") { return .init(status: 200, headers: ["Content-Type": "application/json"], body: #"{"tags":["a"]}"#) }
            return .init(status: 200, headers: ["Content-Type": "text/xml"], body: identity)
        }
    }

    /// Runs one call of each client against a fresh server, returning how long each took and the
    /// requests each server saw.
    static func bothClients(first: ScriptedServer.Response?) async throws -> [(client: String, elapsed: Duration, requests: [ScriptedServer.Request])] {
        var results: [(String, Duration, [ScriptedServer.Request])] = []
        try await ScriptedServer.with(handler: handler(first: first)) { server in
            let started = ContinuousClock.now
            let tags = try await registry(server.host, TransportOptions(environment: [:], retry: fast)).withShutdown { try await $0.tags("r") }
            #expect(tags == ["a"])
            results.append(("registry", ContinuousClock.now - started, server.received().filter { !$0.path.hasSuffix("/v2/") }))
        }
        try await ScriptedServer.with(handler: handler(first: first)) { server in
            let started = ContinuousClock.now
            let caller = try await aws(server.endpoint, TransportOptions(environment: [:], retry: fast)).withShutdown {
                try await STSClient(client: $0).getCallerIdentity()
            }
            #expect(caller.account == "123456789012")
            results.append(("aws", ContinuousClock.now - started, server.received()))
        }
        return results
    }

    @Test func bothRetryA429AfterTheWaitItsRetryAfterAsks() async throws {
        for (client, elapsed, requests) in try await Self.bothClients(first: .init(status: 429, headers: ["Retry-After": "1"], body: "slow down")) {
            #expect(requests.count == 2, "\(client)")
            // The policy's own backoff is 10 ms: only Retry-After explains about a second.
            #expect(elapsed >= .milliseconds(900), "\(client): \(elapsed)")
            if requests.count == 2 { #expect(requests[1].time - requests[0].time >= .milliseconds(900), "\(client)") }
        }
    }

    @Test func bothTurnA503ThenSuccessIntoOneAnswer() async throws {
        for (client, elapsed, requests) in try await Self.bothClients(first: .init(status: 503, body: "busy")) {
            #expect(requests.count == 2, "\(client)")
            #expect(elapsed < .seconds(120), "\(client): \(elapsed)") // no Retry-After: just the short backoff (loosely: a loaded process stalls tasks)
        }
    }

    /// The proxy is the scripted server (a CONNECT tunnels to the server itself, which then
    /// answers as the registry and STS); the target an IPv6 address nothing here answers.
    /// Through the proxy both clients reach it; with NO_PROXY naming it (bracketed with its port,
    /// or bare) both go direct, and fail.
    @Test func noProxyWithAnIPv6HostSendsBothClientsTheSameWay() async throws {
        try await ScriptedServer.with(handler: { request in
            if request.method == "CONNECT" { return .init(status: 200) }
            return await Self.handler(first: nil)(request)
        }) { proxy in
            let target = "[fd00::5]:5000"
            let proxied = ["HTTP_PROXY": proxy.endpoint, "HTTPS_PROXY": proxy.endpoint]
            let options = TransportOptions(insecure: true, environment: proxied, retry: .none, connectTimeout: .seconds(30))
            let tags = try await Self.registry(target, options).withShutdown { try await $0.tags("r") }
            #expect(tags == ["a"])
            let afterRegistry = proxy.received()
            let caller = try await Self.aws("http://\(target)", options).withShutdown { try await STSClient(client: $0).getCallerIdentity() }
            #expect(caller.account == "123456789012")
            let afterAWS = Array(proxy.received().dropFirst(afterRegistry.count))
            for (client, seen) in [("registry", afterRegistry), ("aws", afterAWS)] {
                #expect(seen.contains { $0.method == "CONNECT" && $0.path == target }, "\(client) asked the proxy for a tunnel to \(target)")
                let tunnelled = seen.filter { $0.method != "CONNECT" }
                #expect(!tunnelled.isEmpty && tunnelled.allSatisfy { $0.header("Host") == target }, "\(client): \(tunnelled.map(\.path))")
            }
            #expect(afterRegistry.contains { $0.path == "/v2/r/tags/list?n=1000" })
            #expect(afterAWS.contains { $0.method == "POST" && $0.path == "/" })

            for entry in [target, "fd00::5"] {
                var environment = proxied
                environment["NO_PROXY"] = "other.example, \(entry)"
                let direct = TransportOptions(insecure: true, environment: environment, retry: .none, connectTimeout: .seconds(1))
                let before = proxy.received().count
                let registry = Self.registry(target, direct)
                let aws = Self.aws("http://\(target)", direct)
                for url in ["http://\(target)/v2/", "https://\(target)/v2/"] {
                    #expect((registry.transport as? HTTPTransport)?.route(for: url) == nil, "registry, NO_PROXY=\(entry)")
                    #expect((aws.transport as? HTTPTransport)?.route(for: url) == nil, "aws, NO_PROXY=\(entry)")
                }
                await #expect(throws: RegistryError.self) { try await registry.withShutdown { try await $0.tags("r") } }
                await #expect(throws: AWSError.self) { try await aws.withShutdown { try await STSClient(client: $0).getCallerIdentity() } }
                #expect(proxy.received().count == before, "NO_PROXY=\(entry): neither client used the proxy")
            }
        }
    }

    @Test func bothReportAnUntrustedCertificateWithoutSourcePathsAndTrustItsAuthority() async throws {
        try await ScriptedServer.with(tls: .loopback, handler: Self.handler(first: nil)) { server in
            let untrusting = TransportOptions(environment: [:], retry: Self.fast)
            let registryError = await #expect(throws: RegistryError.self) {
                try await Self.registry(server.host, untrusting).withShutdown { try await $0.tags("r") }
            }
            let awsError = await #expect(throws: AWSError.self) {
                try await Self.aws(server.endpoint, untrusting).withShutdown { try await STSClient(client: $0).getCallerIdentity() }
            }
            for text in [registryError.map { "\($0)" }, awsError.map { "\($0)" }] {
                let message = text ?? ""
                #expect(message.contains("CERTIFICATE_VERIFY_FAILED"), "\(message)")
                #expect(TransportConnectionTests.hasNoSourcePath(message), "\(message)")
            }
            #expect(registryError.map { "\($0)" }?.contains("--ca-cert") == true)

            let authority = try #require(server.authorityPath)
            let trusting = TransportOptions(caCertificates: [authority], environment: [:], retry: Self.fast)
            let tags = try await Self.registry(server.host, trusting).withShutdown { try await $0.tags("r") }
            #expect(tags == ["a"])
            let caller = try await Self.aws(server.endpoint, trusting).withShutdown { try await STSClient(client: $0).getCallerIdentity() }
            #expect(caller.account == "123456789012")
        }
    }
}

/// True the first time only.
final class Once: @unchecked Sendable {
    private let lock = NSLock()
    private var taken = false
    func take() -> Bool { lock.withLock { defer { taken = true }; return !taken } }
}
