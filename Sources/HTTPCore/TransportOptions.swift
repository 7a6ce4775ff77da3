import Foundation

/// How a transport talks HTTP: TLS trust, proxies, retries, time limits and pool size. The
/// registry and AWS clients take the same options.
public struct TransportOptions: Sendable {
    /// Skip TLS verification (crane's and skopeo's `--insecure` / `--tls-verify=false`; for a
    /// registry it also allows plain HTTP, which loopback registries may use anyway).
    public var insecure: Bool
    /// PEM files of extra certificate authorities to trust, besides the system's.
    public var caCertificates: [String]
    /// Where HTTPS_PROXY, HTTP_PROXY and NO_PROXY are read from.
    public var environment: [String: String]
    /// Attempts and backoff for what the client's classifier calls transient.
    public var retry: RetryPolicy
    /// Time allowed for one request's response head, plus one second per 256 KiB of request
    /// body (the head comes only after the body is sent). Bodies stream as long as bytes flow.
    public var requestTimeout: Duration
    /// Time allowed to open a connection, TLS handshake included. AsyncHTTPClient also gives a
    /// request this long to get a pooled connection; one that waits longer is retried.
    public var connectTimeout: Duration
    /// Connections kept open to one host at most; further requests wait for a free one.
    public var connectionsPerHost: Int
    /// Plain-HTTP requests go through HTTPS_PROXY too when HTTP_PROXY is unset. False is curl's
    /// rule (HTTP_PROXY for http://, HTTPS_PROXY for https://); the registry client sets it, as
    /// a registry reached over plain HTTP with --insecure is the same registry, behind the
    /// same proxy.
    public var httpsProxyCarriesPlainHTTP: Bool

    /// Options; the environment defaults to the process's.
    public init(insecure: Bool = false, caCertificates: [String] = [], environment: [String: String] = ProcessInfo.processInfo.environment,
                retry: RetryPolicy = .standard, requestTimeout: Duration = .seconds(300), connectTimeout: Duration = .seconds(20),
                connectionsPerHost: Int = 8, httpsProxyCarriesPlainHTTP: Bool = false) {
        self.insecure = insecure
        self.caCertificates = caCertificates
        self.environment = environment
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.connectionsPerHost = max(1, connectionsPerHost)
        self.httpsProxyCarriesPlainHTTP = httpsProxyCarriesPlainHTTP
    }

    /// The proxy for a request to `host` (`host`, `host:port` or `[v6]:port`): HTTPS_PROXY
    /// (else HTTP_PROXY) for https, HTTP_PROXY for plain http, unless NO_PROXY matches the host
    /// (`*`, the host, a parent domain with or without a leading dot, with or without a port;
    /// IPv6 in brackets or bare). Loopback hosts never go through a proxy.
    public func proxy(for host: String, https: Bool) -> (host: String, port: Int)? {
        let bare = Self.hostname(host)
        if Self.isLoopback(bare) { return nil }
        let env = environment
        let noProxy = (env["NO_PROXY"] ?? env["no_proxy"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        for entry in noProxy where !entry.isEmpty {
            if entry == "*" { return nil }
            let e = Self.hostname(entry.hasPrefix(".") ? String(entry.dropFirst()) : entry)
            if bare == e || bare.hasSuffix("." + e) { return nil }
        }
        return proxyServer(https: https)
    }

    /// The proxy configured for https (or plain http) requests, NO_PROXY aside.
    func proxyServer(https: Bool) -> (host: String, port: Int)? {
        let env = environment
        let httpProxy = env["HTTP_PROXY"] ?? env["http_proxy"]
        let httpsProxy = env["HTTPS_PROXY"] ?? env["https_proxy"]
        let value = https || httpsProxyCarriesPlainHTTP ? (httpsProxy ?? httpProxy) : httpProxy
        guard let value, !value.isEmpty, let url = URL(string: value.contains("://") ? value : "http://" + value),
              let proxyHost = url.host, !proxyHost.isEmpty else { return nil }
        return (proxyHost, url.port ?? 80)
    }

    /// The host part of `host`, `host:port`, `[v6]` or `[v6]:port`, lowercased; a bare IPv6
    /// address (more than one colon) is kept whole.
    static func hostname(_ hostPort: String) -> String {
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            return String(hostPort[hostPort.index(after: hostPort.startIndex)..<close]).lowercased()
        }
        if let colon = hostPort.lastIndex(of: ":"), hostPort.filter({ $0 == ":" }).count == 1 {
            return String(hostPort[..<colon]).lowercased()
        }
        return hostPort.lowercased()
    }

    /// True for localhost, 127.0.0.0/8 and ::1 (with or without a port). A name that only
    /// starts with "127." (127.example.com) is not.
    public static func isLoopback(_ host: String) -> Bool {
        let h = hostname(host)
        if h == "localhost" || h.hasSuffix(".localhost") || h == "::1" { return true }
        return h.hasPrefix("127.") && h.split(separator: ".").allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}
