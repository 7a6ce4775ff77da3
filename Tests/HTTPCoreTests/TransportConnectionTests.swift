import Foundation
import HTTPCore
import StackshipTesting
import Testing

/// Connections: TLS trust and its failures, and the pool's wait for a free connection.
@Suite struct TransportConnectionTests {
    /// No message may show where a dependency was built.
    static func hasNoSourcePath(_ text: String) -> Bool {
        !text.contains("/.build/") && !text.contains("checkouts") && !text.contains(".cc:") && !text.contains(".swift:")
    }

    @Test func anUntrustedCertificateIsATLSFailureWithoutSourcePathsAndItsAuthorityFixesIt() async throws {
        try await ScriptedServer.with([.init(status: 200, body: "secure")], tls: .loopback) { server in
            let untrusting = TransportRetryTests.transport()
            defer { Task { await untrusting.shutdown() } }
            await #expect {
                _ = try await TransportRetryTests.get(untrusting, server.endpoint + "/x")
            } throws: { error in
                guard case let .tlsFailed(host, detail, insecure)? = error as? HTTPError else { return false }
                return host == server.host && detail == "handshake failed: CERTIFICATE_VERIFY_FAILED" && !insecure
                    && Self.hasNoSourcePath("\(error)") && Self.hasNoSourcePath(String(reflecting: error))
            }
            #expect(server.received().isEmpty, "a TLS failure is not retried, and no request got through")

            let path = try #require(server.authorityPath)
            let trusting = TransportRetryTests.transport(caCertificates: [path])
            defer { Task { await trusting.shutdown() } }
            let answer = try await TransportRetryTests.get(trusting, server.endpoint + "/x")
            #expect(answer.status == 200 && answer.text == "secure")
        }
    }

    @Test func insecureSkipsVerification() async throws {
        try await ScriptedServer.with([.init(status: 204)], tls: .loopback) { server in
            let transport = HTTPTransport(options: TransportOptions(insecure: true, environment: [:], retry: .none))
            defer { Task { await transport.shutdown() } }
            let answer = try await TransportRetryTests.get(transport, server.endpoint)
            #expect(answer.status == 204)
        }
    }

    @Test func tlsSpokenToAPlainServerNamesTheReasonNotTheSourceFile() async throws {
        try await ScriptedServer.with([.init(status: 200)]) { server in
            let transport = TransportRetryTests.transport()
            defer { Task { await transport.shutdown() } }
            await #expect {
                _ = try await TransportRetryTests.get(transport, "https://\(server.host)/v2/")
            } throws: { error in
                guard case let .tlsFailed(_, detail, _)? = error as? HTTPError else { return false }
                return detail.contains("WRONG_VERSION_NUMBER") && Self.hasNoSourcePath("\(error)")
            }
        }
    }

    @Test func sourcePathsAreScrubbedFromDependencyErrors() {
        let boring = "handshakeFailed(NIOSSL.BoringSSLError.sslError([Error: 268435703 error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER at /work/x/.build/checkouts/swift-nio-ssl/Sources/CNIOBoringSSL/ssl/tls_record.cc:231]))"
        #expect(FailureText.withoutSourcePaths(boring) == "handshakeFailed(NIOSSL.BoringSSLError.sslError([Error: 268435703 error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER]))")
        #expect(FailureText.tlsReasons(in: boring) == ["WRONG_VERSION_NUMBER"])
        #expect(FailureText.withoutSourcePaths("failed in /home/u/src/Foo.swift:12 badly\nagain") == "failed in badly again")
    }

    /// One connection, a 300 ms limit on waiting for it, and a first request whose answer takes
    /// 1.5 s: the second request's waits run out, and it is retried until it gets through.
    @Test func aRequestThatWaitsTooLongForAPooledConnectionIsRetried() async throws {
        try await ScriptedServer.with(handler: { request in
            request.path == "/hold" ? .init(status: 200, body: "held", delay: .milliseconds(1500)) : .init(status: 200, body: "quick")
        }) { server in
            func transport(_ retry: RetryPolicy) -> HTTPTransport {
                TransportRetryTests.transport(retry, connectTimeout: .milliseconds(300), connectionsPerHost: 1)
            }
            let patient = transport(RetryPolicy(maxAttempts: 12, baseDelay: .milliseconds(100), maxDelay: .milliseconds(400)))
            defer { Task { await patient.shutdown() } }
            try await Self.whileTheConnectionIsHeld(patient, server) {
                let started = ContinuousClock.now
                let answer = try await TransportRetryTests.get(patient, server.endpoint + "/quick")
                #expect(answer.text == "quick" && answer.attempts > 1)
                #expect(ContinuousClock.now - started > .milliseconds(600), "it outlived more than one 300 ms wait: it was retried")
            }
            // Without retries the same wait fails, saying why.
            let once = transport(.none)
            defer { Task { await once.shutdown() } }
            try await Self.whileTheConnectionIsHeld(once, server) {
                await #expect {
                    _ = try await TransportRetryTests.get(once, server.endpoint + "/quick")
                } throws: { error in
                    guard let error = error as? HTTPError, case .connectionFailed = error else { return false }
                    return error.isTransient && error.description.contains("no pooled connection became free in time")
                }
            }
        }
    }

    /// Runs `body` while a request to /hold on `transport` holds its only connection.
    static func whileTheConnectionIsHeld(_ transport: HTTPTransport, _ server: ScriptedServer, _ body: () async throws -> Void) async throws {
        let before = server.received().filter { $0.path == "/hold" }.count
        let holder = Task { try await TransportRetryTests.get(transport, server.endpoint + "/hold").text }
        while server.received().filter({ $0.path == "/hold" }).count == before { try await Task.sleep(for: .milliseconds(10)) }
        try await body()
        #expect(try await holder.value == "held")
    }
}
