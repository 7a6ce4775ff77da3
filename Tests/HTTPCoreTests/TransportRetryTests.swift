import Foundation
import HTTPCore
import NIOCore
import NIOHTTP1
import StackshipTesting
import Testing

/// The transport's retries against the in-process scripted server: which answers are retried,
/// how long it waits, and what a classifier changes.
@Suite struct TransportRetryTests {
    static let fast = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .seconds(5))

    static func transport(_ retry: RetryPolicy = fast, classifier: RetryClassifier = .standard, caCertificates: [String] = [],
                          connectTimeout: Duration = .seconds(5), connectionsPerHost: Int = 8) -> HTTPTransport {
        HTTPTransport(options: TransportOptions(caCertificates: caCertificates, environment: [:], retry: retry, connectTimeout: connectTimeout,
                                                connectionsPerHost: connectionsPerHost),
                      classifier: classifier)
    }

    /// Sends GET `url` and reads the answer's text.
    static func get(_ transport: HTTPTransport, _ url: String) async throws -> (status: Int, text: String, attempts: Int) {
        try await transport.perform("GET", retry: nil, { HTTPRequest(url: url) }) { response in
            (response.code, await response.text(), response.attempts)
        }
    }

    @Test func a429IsRetriedAfterTheWaitItsRetryAfterAsks() async throws {
        let answers: [ScriptedServer.Response] = [.init(status: 429, headers: ["Retry-After": "1"], body: "slow down"), .init(status: 200, body: "ok")]
        try await ScriptedServer.with(answers) { server in
            let transport = Self.transport()
            defer { Task { await transport.shutdown() } }
            let started = ContinuousClock.now
            let answer = try await Self.get(transport, server.endpoint + "/x")
            let elapsed = ContinuousClock.now - started
            #expect(answer.status == 200 && answer.text == "ok" && answer.attempts == 2)
            // The backoff alone is 10 ms: only Retry-After explains a wait of about a second.
            #expect(elapsed >= .milliseconds(900), "\(elapsed)")
            let seen = server.received()
            #expect(seen.count == 2)
            if seen.count == 2 { #expect(seen[1].time - seen[0].time >= .milliseconds(900)) }
        }
    }

    @Test func retryAfterIsCappedByThePolicysLongestWait() async throws {
        let answers: [ScriptedServer.Response] = [.init(status: 503, headers: ["Retry-After": "3600"]), .init(status: 200)]
        try await ScriptedServer.with(answers) { server in
            let transport = Self.transport(RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(200)))
            defer { Task { await transport.shutdown() } }
            let started = ContinuousClock.now
            let answer = try await Self.get(transport, server.endpoint)
            #expect(answer.status == 200)
            // Far below the hour asked for (bounded loosely: a loaded test process can stall a task for seconds).
            #expect(ContinuousClock.now - started < .seconds(120))
        }
    }

    @Test func a503ThenSuccessIsOneAnswer() async throws {
        try await ScriptedServer.with([.init(status: 503, body: "busy"), .init(status: 200, body: "fine")]) { server in
            let transport = Self.transport()
            defer { Task { await transport.shutdown() } }
            let answer = try await Self.get(transport, server.endpoint + "/v")
            #expect(answer.status == 200 && answer.text == "fine" && answer.attempts == 2)
            #expect(server.received().count == 2)
        }
    }

    @Test func statusesOutsideTheClassifierAreHandedOnAtOnce() async throws {
        try await ScriptedServer.with([.init(status: 418, body: "teapot"), .init(status: 200)]) { server in
            let standard = Self.transport()
            defer { Task { await standard.shutdown() } }
            let answer = try await Self.get(standard, server.endpoint)
            #expect(answer.status == 418 && answer.text == "teapot" && server.received().count == 1)
        }
        // A classifier of its own retries what it names.
        try await ScriptedServer.with([.init(status: 418), .init(status: 200)]) { server in
            let custom = Self.transport(classifier: RetryClassifier(transientStatuses: [418]))
            defer { Task { await custom.shutdown() } }
            let answer = try await Self.get(custom, server.endpoint)
            #expect(answer.status == 200)
            #expect(server.received().count == 2)
        }
    }

    @Test func aClassifierThatReadsErrorBodiesRetriesWhatTheySayAndHandsOnTheRest() async throws {
        let saysSlowDown = RetryClassifier(isTransientAnswer: { _, _, body in String(buffer: body).contains("SlowDown") })
        try await ScriptedServer.with([.init(status: 400, body: "<Code>SlowDown</Code>"), .init(status: 400, body: "<Code>NoSuchBucket</Code>")]) { server in
            let transport = Self.transport(classifier: saysSlowDown)
            defer { Task { await transport.shutdown() } }
            let answer = try await Self.get(transport, server.endpoint)
            #expect(answer.status == 400 && answer.text == "<Code>NoSuchBucket</Code>", "the body it read is handed on")
            #expect(server.received().count == 2)
        }
    }

    @Test func aBodyThatBreaksOffInsideConsumeRetriesTheRequest() async throws {
        let short = ScriptedServer.Response(status: 200, headers: ["Content-Length": "100", "Connection": "close"], body: "only ten b")
        try await ScriptedServer.with([short, .init(status: 200, body: "whole")]) { server in
            let transport = Self.transport()
            defer { Task { await transport.shutdown() } }
            let text = try await transport.perform("GET", retry: nil, { HTTPRequest(url: server.endpoint) }) { response in
                String(buffer: try await response.body.collect(upTo: 1 << 20))
            }
            #expect(text == "whole")
            #expect(server.received().count == 2)
        }
    }

    @Test func aRequestBodysOwnErrorComesBackUnchangedAndIsNotRetried() async throws {
        struct Corrupt: Error, Equatable {}
        try await ScriptedServer.with([.init(status: 200)]) { server in
            let transport = Self.transport()
            defer { Task { await transport.shutdown() } }
            let chunks = AsyncThrowingStream<ByteBuffer, Error> { continuation in
                continuation.yield(ByteBuffer(string: "part"))
                continuation.finish(throwing: Corrupt())
            }
            await #expect(throws: Corrupt.self) {
                _ = try await transport.send("PUT", retry: nil) { HTTPRequest(url: server.endpoint, method: .PUT, body: .stream(chunks, length: 100)) }
            }
            #expect(server.received().isEmpty, "the request never completed, and was not sent again")
        }
    }

    @Test func aRefusedConnectionIsRetriedThenReportedWithTheAttempts() async throws {
        let port = try Loopback.freePort()
        let transport = Self.transport(RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(20)))
        defer { Task { await transport.shutdown() } }
        await #expect {
            _ = try await Self.get(transport, "http://127.0.0.1:\(port)/x?token=secret")
        } throws: { error in
            guard case let .connectionFailed(_, origin, attempts, _, transient)? = error as? HTTPError else { return false }
            let text = "\(error)"
            return origin == "http://127.0.0.1:\(port)" && attempts == 3 && transient && !(error as! HTTPError).isTransient
                && text.contains("after 3 attempts") && !text.contains("secret")
        }
    }
}
