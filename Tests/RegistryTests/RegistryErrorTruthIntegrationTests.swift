import Foundation
import HTTPCore
import OCI
import StackshipTesting
import Testing
@testable import Registry
import Support

/// Errors tell the truth: a registry that answers 503 forever is reported as the 503 it was
/// (no TLS fallback, no --insecure advice), and no message shows a dependency's source path.
@Suite(.serialized) struct RegistryErrorTruthIntegrationTests {
    static let unavailable = ScriptedServer.Response(status: 503, headers: ["Content-Type": "text/plain"],
                                                     body: "down for maintenance\n\u{1b}[31mback soon\u{1b}[0m")

    /// Runs the built stackship with a private store and docker config.
    static func stackship(_ args: [String]) throws -> ProgramResult {
        let home = NSTemporaryDirectory() + "truth-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        var env = ProcessInfo.processInfo.environment
        env["DOCKER_CONFIG"] = home + "/docker"
        env["STACKSHIP_STORE"] = home + "/store"
        env["STACKSHIP_STATE"] = home + "/state" // never the machine's /var/lib/stackship
        env["CI"] = "true"
        for k in ["REGISTRY_AUTH_FILE", "STACKSHIP_REGISTRY_USERNAME", "STACKSHIP_REGISTRY_PASSWORD", "HTTPS_PROXY", "HTTP_PROXY"] { env.removeValue(forKey: k) }
        return try runProgram(try StackshipTesting.stackshipExecutable(), args, environment: env)
    }

    /// One `error:` line, exit 1, nothing about TLS, no source paths.
    static func expectOneTruthfulLine(_ r: ProgramResult, naming words: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = r.err.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(r.status == 1, "\(r.err)", sourceLocation: sourceLocation)
        #expect(lines.count == 1 && lines.first?.hasPrefix("error: ") == true, "\(r.err)", sourceLocation: sourceLocation)
        for word in words { #expect(r.err.contains(word), "\(r.err)", sourceLocation: sourceLocation) }
        for word in ["TLS", "--insecure", "/.build/", ".swift", ".cc:", "\u{1b}"] {
            #expect(!r.err.contains(word), "\(word) in \(r.err)", sourceLocation: sourceLocation)
        }
    }

    @Test func aRegistryAnswering503ForeverIsReportedAsThe503() async throws {
        try await ScriptedServer.with([Self.unavailable]) { server in
            for insecure in [true, false] {
                let r = try Self.stackship(["pull"] + (insecure ? ["--insecure"] : []) + ["127.0.0.1:\(server.port)/x:1"])
                Self.expectOneTruthfulLine(r, naming: ["503", "Service Unavailable", "GET http://127.0.0.1:\(server.port)/v2/",
                                                       "attempts", "down for maintenance back soon"])
            }
            // Plain HTTP only: after an HTTP answer, HTTPS is never tried.
            #expect(server.requests().allSatisfy { ($0["path"] as? String) == "/v2/" })
            #expect(server.requests().count == 2 * RetryPolicy.standard.maxAttempts)
        }
    }

    @Test func theLibraryErrorCarriesStatusAttemptsAndBody() async throws {
        try await ScriptedServer.with([Self.unavailable]) { server in
            let client = RegistryClient(registry: "127.0.0.1:\(server.port)", credential: nil,
                                        options: TransportOptions(insecure: true, retry: .fastTests))
            await #expect {
                try await using(client) { try await $0.ping() }
            } throws: { error in
                guard case let RegistryError.registryAnswered(_, _, status, _, attempts, detail) = error else { return false }
                return status == 503 && attempts == RetryPolicy.fastTests.maxAttempts && detail == "down for maintenance back soon"
            }
        }
    }

    @Test func aTLSFailureNamesNoSourcePath() async throws {
        try await withRegistry(.tls) { registry in
            let r = try Self.stackship(["tags", "\(registry.host)/x"])
            let lines = r.err.split(separator: "\n", omittingEmptySubsequences: true)
            #expect(r.status == 1 && lines.count == 1 && r.err.contains("TLS failed") && r.err.contains("--ca-cert"), "\(r.err)")
            for word in ["/.build/", ".swift", ".cc:", "checkouts"] { #expect(!r.err.contains(word), "\(word) in \(r.err)") }
        }
    }

    @Test func aPlainServerAnswering400IsReportedAsThe400NotAsTLS() async throws {
        // A TLS server says 400 to plain HTTP, so HTTPS is tried next; when that gets plain
        // HTTP back, the 400 was the server's real answer.
        try await ScriptedServer.with([.init(status: 400, body: "no such API here")]) { server in
            let client = RegistryClient(registry: "127.0.0.1:\(server.port)", credential: nil, options: TransportOptions(retry: .fastTests))
            await #expect {
                try await using(client) { try await $0.ping() }
            } throws: { error in
                guard case let RegistryError.registryAnswered(_, _, status, _, _, detail) = error else { return false }
                return status == 400 && detail == "no such API here" && !"\(error)".contains("TLS")
            }
        }
    }

    @Test func aPlainServerTooSlowToAnswerIsReportedAsSlowNotAsTLS() async throws {
        // Plain HTTP times out; the TLS hello then gets plain HTTP back: the server is a plain
        // one, so the time-out is the truth and TLS advice would mislead.
        // Every scripted answer comes far too late (a loaded CI machine must not let one in
        // time); the TLS hello is answered at once by the server's HTTP decoder, in plain HTTP.
        try await ScriptedServer.with([.init(status: 200, delay: .seconds(30))]) { server in
            var options = TransportOptions(retry: .fastTests)
            options.retry.maxAttempts = 1
            options.requestTimeout = .seconds(1)
            let client = RegistryClient(registry: "127.0.0.1:\(server.port)", credential: nil, options: options)
            await #expect {
                try await using(client) { try await $0.ping() }
            } throws: { error in
                guard case RegistryError.unreachable = error else { return false }
                let text = "\(error)"
                return !text.contains("TLS") && !text.contains("--insecure") && text.contains("timed out") && !text.contains("HTTPClientError")
            }
        }
    }

    @Test func aRedirectToAnUntrustedTLSOriginIsATLSErrorWithoutSourcePaths() async throws {
        try await withRegistry(.plain) { registry in
            try await withRegistry(.tls) { cdn in
                let front = try await FaultProxy.start(upstream: registry.url, rules: [
                    FaultRule(method: "GET", path: "^/v2/r/blobs/", action: .redirect(to: cdn.url), times: FaultRule.always),
                ])
                defer { front.stop() }
                let client = RegistryClient(registry: front.host, credential: nil, options: TransportOptions(retry: .fastTests))
                let digest = Digest.compute(Data("x".utf8))
                await #expect {
                    try await using(client) { _ = try await $0.blobStream("r", digest: digest) }
                } throws: { error in
                    guard case let RegistryError.tlsFailed(host, detail, _) = error else { return false }
                    let text = "\(error)"
                    return host == cdn.host && detail.contains("CERTIFICATE_VERIFY_FAILED") && text.contains("--ca-cert")
                        && !text.contains(".cc") && !text.contains("/.build/") && !text.contains("checkouts")
                }
            }
        }
    }

    @Test func sourcePathsAreScrubbedFromDependencyErrors() {
        let boring = "handshakeFailed(NIOSSL.BoringSSLError.sslError([Error: 268435703 error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER at /work/x/.build/checkouts/swift-nio-ssl/Sources/CNIOBoringSSL/ssl/tls_record.cc:231]))"
        let scrubbed = FailureText.withoutSourcePaths(boring)
        #expect(scrubbed == "handshakeFailed(NIOSSL.BoringSSLError.sslError([Error: 268435703 error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER]))")
        #expect(FailureText.tlsReasons(in: boring) == ["WRONG_VERSION_NUMBER"])
        #expect(FailureText.tlsReasons(in: "connection refused").isEmpty)
        #expect(FailureText.withoutSourcePaths("failed in /home/u/src/Foo.swift:12 badly\nagain") == "failed in badly again")
        #expect(FailureText.withoutSourcePaths("connection refused (errno: 111)") == "connection refused (errno: 111)")
        #expect(FailureText.withoutSourcePaths("/v2/r/blobs/uploads/ answered 400") == "/v2/r/blobs/uploads/ answered 400")
        #expect(DiagnosticText.printable("a\r\nb\u{1b}[2Jc\u{202e}d\u{1b}[1;31me", limit: 100) == "a bcde")
        #expect(DiagnosticText.printable(String(repeating: "x", count: 300)).count == 201)
    }
}
