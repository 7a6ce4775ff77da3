import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import OCI
import Support

/// One registry's HTTP connection pool: TLS with the system trust store plus `--ca-cert`, the
/// proxy from the environment, no automatic redirects (they are followed by hand, so
/// credentials can be dropped when a redirect leaves the registry's origin), and retries.
///
/// Call `shutdown()` when done; the connections are closed there.
public final class HTTPTransport: Sendable {
    public let options: TransportOptions
    let client: HTTPClient

    /// A transport for `host` (`host[:port]`).
    public init(host: String, options: TransportOptions) {
        self.options = options
        var tls = TLSConfiguration.makeClientConfiguration()
        if options.insecure { tls.certificateVerification = .none }
        if !options.caCertificates.isEmpty { tls.additionalTrustRoots = options.caCertificates.map { .file($0) } }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(options.connectTimeout.components.seconds * 1000 + options.connectTimeout.components.attoseconds / 1_000_000_000_000_000),
                           read: .seconds(120)),
            proxy: options.proxy(for: host, https: true).map { .server(host: $0.host, port: $0.port) },
            decompression: .disabled
        )
        configuration.httpVersion = .http1Only
        // Our RetryPolicy retries failed connections with backoff; AHC's own retrying would keep
        // each attempt going until the connect timeout, so a closed port took minutes to report.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Closes the connections.
    public func shutdown() async {
        try? await client.shutdown()
    }

    /// Sends a request built by `make` (called again for each attempt, so a body can be
    /// replayed), retrying connection failures and 408/429/5xx with backoff; Retry-After is
    /// honoured. A response with another status is returned as is.
    func send(_ operation: String, retry: RetryPolicy? = nil,
              _ make: () throws -> HTTPClientRequest) async throws -> HTTPClientResponse {
        try await exchange(operation, retry: retry, make).response
    }

    /// `send`, also saying how many attempts the answer took (for messages about a server that
    /// kept answering 5xx).
    func exchange(_ operation: String, retry: RetryPolicy? = nil,
                  _ make: () throws -> HTTPClientRequest) async throws -> (response: HTTPClientResponse, attempts: Int) {
        let policy = retry ?? options.retry
        var attempt = 0
        while true {
            attempt += 1
            let request = try make()
            do {
                let timeout = TimeAmount.nanoseconds(Int64(options.requestTimeout.components.seconds) * 1_000_000_000)
                let response = try await client.execute(request, timeout: timeout)
                let status = Int(response.status.code)
                if RetryPolicy.isRetryable(status: status) && attempt < policy.maxAttempts {
                    let retryAfter = RetryPolicy.parseRetryAfter(response.headers.first(name: "Retry-After"))
                    await response.drain()
                    try await Task.sleep(for: policy.delay(afterAttempt: attempt, retryAfter: retryAfter))
                    continue
                }
                return (response, attempt)
            } catch {
                if error is CancellationError { throw error }
                if Self.isTLSFailure(error) {
                    // As a RegistryError, so no raw NIOSSL description (which names BoringSSL's
                    // source files on the build machine) reaches a message.
                    throw RegistryError.tlsFailed(host: URLOrigin(request.url).map { "\($0.host):\($0.port)" } ?? operation,
                                                  detail: Self.describe(error), insecure: options.insecure)
                }
                guard Self.isTransient(error), attempt < policy.maxAttempts else {
                    if attempt > 1 {
                        throw RegistryError.retriesExhausted(operation: operation, attempts: attempt, last: Self.describe(error))
                    }
                    throw error
                }
                try await Task.sleep(for: policy.delay(afterAttempt: attempt))
            }
        }
    }

    /// Connection-level failures that a later attempt may not meet; TLS failures are not.
    /// Waiting too long for a pooled connection is one: it means the server is slow, not wrong.
    static func isTransient(_ error: Error) -> Bool {
        if error is RegistryError || error is CancellationError { return false }
        if let e = error as? HTTPClientError { return transientClientErrors.contains(e) }
        if let e = error as? ChannelError, case .connectTimeout = e { return true }
        if error is NIOSSLError { return false }
        let name = String(reflecting: type(of: error))
        return !name.contains("SSL") && !name.contains("TLS")
    }

    /// Whether `error` is a TLS failure (handshake, verification), as opposed to a connection
    /// that failed or an answer.
    static func isTLSFailure(_ error: Error) -> Bool {
        if case .tlsFailed? = error as? RegistryError { return true }
        if error is RegistryError { return false }
        if error is NIOSSLError { return true }
        let name = String(reflecting: type(of: error))
        return name.contains("SSL") || name.contains("TLS")
    }

    /// AsyncHTTPClient's errors that mean "the connection, not the request, failed": retried.
    static let transientClientErrors: [HTTPClientError] = [
        .remoteConnectionClosed, .connectTimeout, .readTimeout, .writeTimeout, .deadlineExceeded, .requestStreamCancelled,
        .getConnectionFromPoolTimeout, .tlsHandshakeTimeout, .httpProxyHandshakeTimeout, .socksHandshakeTimeout,
    ]

    /// A short description of a transport error, for messages: one line, and never a source
    /// path (BoringSSL's errors name the C file they were raised in on the build machine).
    static func describe(_ error: Error) -> String {
        let text: String
        if let e = error as? HTTPClientError, e == .getConnectionFromPoolTimeout {
            text = "no pooled connection became free in time (every connection stayed busy: the server, or this process, is overloaded)"
        } else if let e = error as? HTTPClientError { text = "\(e)" }
        // NIO's own wording ("connection reset (error set): Connection refused)") says less than the errno.
        else if let e = error as? IOError { text = "\(String(cString: strerror(e.errnoCode))) (errno \(e.errnoCode))" }
        else { text = "\(error)" }
        let reasons = DiagnosticText.tlsReasons(in: text)
        if !reasons.isEmpty { return "handshake failed: " + reasons.joined(separator: ", ") }
        return DiagnosticText.withoutSourcePaths(text)
    }
}

extension HTTPClientResponse {
    /// Reads and discards the body, so the connection can be reused. A body can be read only
    /// once: call this on success paths only, never before reading an error's text.
    func drain() async {
        _ = try? await body.collect(upTo: 16 << 20)
    }

    /// The body as text, at most `limit` bytes (for error messages).
    func text(limit: Int = 64 * 1024) async -> String {
        guard let buffer = try? await body.collect(upTo: limit) else { return "" }
        return String(buffer: buffer)
    }

    /// The registry's error message from an OCI error body (`{"errors":[{"code","message"}]}`).
    func registryErrorDetail() async -> String {
        let text = await self.text()
        struct Body: Decodable {
            struct E: Decodable { var code: String?; var message: String? }
            var errors: [E]?
        }
        if let body = try? JSONDecoder().decode(Body.self, from: Data(text.utf8)), let errors = body.errors, !errors.isEmpty {
            return DiagnosticText.printable(errors.map { [$0.code, $0.message].compactMap { $0 }.joined(separator: ": ") }.joined(separator: "; "))
        }
        // A server's own words, made one safe line (no newlines or terminal escapes).
        return DiagnosticText.printable(text)
    }
}
