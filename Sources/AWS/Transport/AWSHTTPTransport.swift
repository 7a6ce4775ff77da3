import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The HTTP connection pools the AWS clients share: one direct, and one through the proxy when
/// HTTPS_PROXY/HTTP_PROXY is set (a request's host decides which, NO_PROXY included). TLS uses
/// the system trust store plus `caCertificates`; redirects are not followed (AWS does not
/// send them for our calls, and S3's 301 wrong-region answer is an error to report).
///
/// Call `shutdown()` when done.
public final class AWSHTTPTransport: Sendable {
    /// The options this transport was made with.
    public let options: AWSTransportOptions
    let direct: HTTPClient
    let proxied: HTTPClient?
    let proxyHTTPS: HTTPClient?

    /// Creates the pools.
    public init(options: AWSTransportOptions = AWSTransportOptions()) {
        self.options = options
        func make(proxy: (host: String, port: Int)?) -> HTTPClient {
            var tls = TLSConfiguration.makeClientConfiguration()
            if !options.caCertificates.isEmpty { tls.additionalTrustRoots = options.caCertificates.map { .file($0) } }
            let connectMs = options.connectTimeout.components.seconds * 1000 + options.connectTimeout.components.attoseconds / 1_000_000_000_000_000
            var configuration = HTTPClient.Configuration(
                tlsConfiguration: tls,
                redirectConfiguration: .disallow,
                timeout: .init(connect: .milliseconds(connectMs), read: .seconds(120)),
                proxy: proxy.map { .server(host: $0.host, port: $0.port) },
                decompression: .disabled
            )
            configuration.httpVersion = .http1Only
            // Our retry loop backs off between attempts; AHC's own would hold each attempt until the connect timeout.
            configuration.connectionPool.retryConnectionEstablishment = false
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = options.connectionsPerHost
            return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        }
        direct = make(proxy: nil)
        // A probe host that no NO_PROXY entry names, to learn whether a proxy is configured at all.
        let probe = "proxy-probe.invalid"
        proxyHTTPS = options.proxy(for: probe, https: true).map { make(proxy: $0) }
        let plain = options.proxy(for: probe, https: false)
        proxied = plain.map { make(proxy: $0) }
    }

    /// Closes every connection.
    public func shutdown() async {
        try? await direct.shutdown()
        try? await proxied?.shutdown()
        try? await proxyHTTPS?.shutdown()
    }

    /// The pool for `endpoint`: through the proxy unless NO_PROXY (or loopback) says direct.
    func client(for endpoint: AWSEndpoint) -> HTTPClient {
        let https = endpoint.scheme == "https"
        guard options.proxy(for: endpoint.host, https: https) != nil else { return direct }
        return (https ? proxyHTTPS : proxied) ?? direct
    }

    /// Sends one request (no retries here; `AWSClient` retries). The time limit runs until the
    /// response head arrives, so it covers the upload of the body: it grows by one second per
    /// 256 KiB of body, on top of `requestTimeout`.
    func execute(_ request: HTTPClientRequest, endpoint: AWSEndpoint, bodyLength: Int64 = 0) async throws -> HTTPClientResponse {
        let timeout = TimeAmount.seconds(options.requestTimeout.components.seconds + bodyLength / (256 << 10))
        return try await client(for: endpoint).execute(request, timeout: timeout)
    }

    /// Connection-level failures that a later attempt may not meet; TLS failures are not.
    /// A request that waited too long for a pooled connection (`getConnectionFromPoolTimeout`:
    /// every connection to a slow S3 was busy) or for a connection to open is one: a slow
    /// service is a reason to back off and try again, not to fail a cache push.
    static func isTransient(_ error: Error) -> Bool {
        if error is AWSError || error is CancellationError { return false }
        if let e = error as? HTTPClientError { return transientClientErrors.contains(e) }
        if let e = error as? ChannelError, case .connectTimeout = e { return true }
        if error is NIOSSLError { return false }
        let name = String(reflecting: type(of: error))
        return !name.contains("SSL") && !name.contains("TLS")
    }

    /// AsyncHTTPClient's errors that mean "the connection, not the request, failed": retried.
    static let transientClientErrors: [HTTPClientError] = [
        .remoteConnectionClosed, .connectTimeout, .readTimeout, .writeTimeout, .deadlineExceeded, .requestStreamCancelled,
        .getConnectionFromPoolTimeout, .tlsHandshakeTimeout, .httpProxyHandshakeTimeout, .socksHandshakeTimeout,
    ]
}
