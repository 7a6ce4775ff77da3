import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The `HTTPTransporting` of stackship: AsyncHTTPClient connection pools (one direct, one per
/// proxy the environment names; each request's host decides which, NO_PROXY included), TLS with
/// the system trust store plus `caCertificates` (or no verification with `insecure`), no
/// automatic redirects (a client follows them by hand, deciding what credentials go along),
/// no decompression, and retries.
///
/// Call `shutdown()` when done; the connections are closed there.
public final class HTTPTransport: HTTPTransporting {
    /// The options it was made with.
    public let options: TransportOptions
    /// What it retries.
    public let classifier: RetryClassifier
    let direct: HTTPClient
    /// Pools through a proxy, by `host:port` of the proxy.
    let proxied: [String: HTTPClient]

    /// A transport with `options`, retrying what `classifier` calls transient.
    public init(options: TransportOptions = TransportOptions(), classifier: RetryClassifier = .standard) {
        self.options = options
        self.classifier = classifier
        direct = Self.makeClient(options, proxy: nil)
        var pools: [String: HTTPClient] = [:]
        for proxy in [options.proxyServer(https: true), options.proxyServer(https: false)].compactMap({ $0 }) {
            let key = "\(proxy.host):\(proxy.port)"
            if pools[key] == nil { pools[key] = Self.makeClient(options, proxy: proxy) }
        }
        proxied = pools
    }

    private static func makeClient(_ options: TransportOptions, proxy: (host: String, port: Int)?) -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        if options.insecure { tls.certificateVerification = .none }
        if !options.caCertificates.isEmpty { tls.additionalTrustRoots = options.caCertificates.map { .file($0) } }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(milliseconds(options.connectTimeout)), read: .seconds(120)),
            proxy: proxy.map { .server(host: $0.host, port: $0.port) },
            decompression: .disabled
        )
        configuration.httpVersion = .http1Only
        // The retry loop here backs off between attempts; AsyncHTTPClient's own would hold each
        // attempt until the connect timeout, so a closed port took minutes to report.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = options.connectionsPerHost
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// Closes every pool's connections.
    public func shutdown() async {
        try? await direct.shutdown()
        for pool in proxied.values { try? await pool.shutdown() }
    }

    /// The proxy a request to `url` goes through (nil: direct), as the environment and NO_PROXY
    /// decide.
    public func route(for url: String) -> (host: String, port: Int)? {
        guard let origin = URLOrigin(url) else { return nil }
        return options.proxy(for: origin.hostPort, https: origin.scheme == "https")
    }

    private func pool(for origin: URLOrigin) -> HTTPClient {
        guard let proxy = options.proxy(for: origin.hostPort, https: origin.scheme == "https") else { return direct }
        // Every proxy `proxy(for:)` can name has its pool (made from the same environment).
        return proxied["\(proxy.host):\(proxy.port)"] ?? direct
    }

    /// See `HTTPTransporting.perform`.
    public func perform<T>(_ operation: String, retry: RetryPolicy? = nil, _ make: () async throws -> HTTPRequest,
                           consume: (HTTPResponse) async throws -> T) async throws -> T {
        let policy = retry ?? options.retry
        var attempt = 0
        while true {
            attempt += 1
            let request = try await make()
            guard let origin = URLOrigin(request.url) else {
                throw HTTPError.invalidURL(operation: operation, url: String(request.url.prefix { $0 != "?" }))
            }
            var response: HTTPResponse
            do {
                response = try await execute(request, origin: origin, operation: operation, attempt: attempt)
            } catch {
                let transient = try fault(error, origin: origin)
                guard transient, attempt < policy.maxAttempts else {
                    throw HTTPError.connectionFailed(operation: operation, origin: origin.description, attempts: attempt,
                                                     detail: FailureText.describe(error), transient: transient)
                }
                try await Task.sleep(for: policy.delay(afterAttempt: attempt))
                continue
            }
            if attempt < policy.maxAttempts, let wait = try await retryWait(&response, policy: policy, attempt: attempt) {
                try await Task.sleep(for: wait)
                continue
            }
            do {
                return try await consume(response)
            } catch let error as HTTPError where error.isTransient && attempt < policy.maxAttempts {
                try await Task.sleep(for: policy.delay(afterAttempt: attempt))
            }
        }
    }

    /// Sends one request. The time limit runs until the response head arrives, so it covers the
    /// upload of the body: it grows by one second per 256 KiB of body.
    private func execute(_ request: HTTPRequest, origin: URLOrigin, operation: String, attempt: Int) async throws -> HTTPResponse {
        var http = HTTPClientRequest(url: request.url)
        http.method = request.method
        http.headers = request.headers
        if let body = request.body { http.body = body.body }
        let seconds = options.requestTimeout.components.seconds + (request.body?.length ?? 0) / (256 << 10)
        let answer = try await pool(for: origin).execute(http, timeout: .seconds(seconds))
        return HTTPResponse(status: answer.status, headers: answer.headers,
                            body: HTTPBody(.streaming(answer.body), operation: operation, origin: origin.description, classifier: classifier),
                            attempts: attempt)
    }

    /// Whether a failure to get an answer is transient. Rethrows what is not the connection's:
    /// cancellation, a request body's own error; throws `tlsFailed` for TLS.
    private func fault(_ error: Error, origin: URLOrigin) throws -> Bool {
        if error is CancellationError { throw error }
        if let marked = error as? BodySourceError { throw marked.underlying }
        if FailureText.isTLSFailure(error) {
            throw HTTPError.tlsFailed(host: origin.hostPort, detail: FailureText.describe(error), insecure: options.insecure)
        }
        return classifier.isTransientFailure(error)
    }

    /// How long to wait before trying again after `response`, or nil to hand it on. A status
    /// the classifier retries is drained; an error answer whose body it reads is handed on with
    /// that body when it says no.
    private func retryWait(_ response: inout HTTPResponse, policy: RetryPolicy, attempt: Int) async throws -> Duration? {
        let status = response.code
        let retryAfter = RetryPolicy.parseRetryAfter(response.headers.first(name: "Retry-After"))
        if classifier.isTransient(status: status) {
            await response.drain()
            return policy.delay(afterAttempt: attempt, retryAfter: retryAfter)
        }
        guard status >= 400, let inspect = classifier.isTransientAnswer else { return nil }
        let bytes = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
        response.body = HTTPBody(.buffered(bytes), operation: response.body.operation, origin: response.body.origin, classifier: classifier)
        return inspect(status, response.headers, bytes) ? policy.delay(afterAttempt: attempt, retryAfter: retryAfter) : nil
    }
}
