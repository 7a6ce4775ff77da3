import Foundation

/// How stackship talks to registries: TLS trust, plain-HTTP policy, proxies, retries, concurrency.
public struct TransportOptions: Sendable {
    /// Allow plain HTTP and skip TLS verification for every registry (crane's and skopeo's
    /// `--insecure` / `--tls-verify=false`). Loopback registries may use plain HTTP anyway.
    public var insecure: Bool
    /// PEM files of extra certificate authorities to trust, besides the system's.
    public var caCertificates: [String]
    /// Where HTTPS_PROXY, HTTP_PROXY and NO_PROXY are read from.
    public var environment: [String: String]
    /// Retries for transient failures.
    public var retry: RetryPolicy
    /// Time allowed for one request's response head (bodies stream as long as bytes flow).
    public var requestTimeout: Duration
    /// Time allowed to open a connection, TLS handshake included.
    public var connectTimeout: Duration

    public init(insecure: Bool = false, caCertificates: [String] = [], environment: [String: String] = ProcessInfo.processInfo.environment,
                retry: RetryPolicy = .standard, requestTimeout: Duration = .seconds(300), connectTimeout: Duration = .seconds(20)) {
        self.insecure = insecure
        self.caCertificates = caCertificates
        self.environment = environment
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
    }

    /// The proxy for `host` (`host[:port]`), from HTTPS_PROXY / HTTP_PROXY unless NO_PROXY
    /// matches; loopback hosts never go through a proxy.
    public func proxy(for host: String, https: Bool) -> (host: String, port: Int)? {
        let bare = Self.hostname(host)
        if Self.isLoopback(bare) { return nil }
        let env = environment
        let noProxy = (env["NO_PROXY"] ?? env["no_proxy"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        for entry in noProxy where !entry.isEmpty {
            if entry == "*" { return nil }
            let e = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
            let eHost = Self.hostname(e)
            if bare == eHost || bare.hasSuffix("." + eHost) { return nil }
        }
        let value = https ? (env["HTTPS_PROXY"] ?? env["https_proxy"] ?? env["HTTP_PROXY"] ?? env["http_proxy"]) : (env["HTTP_PROXY"] ?? env["http_proxy"])
        guard let value, !value.isEmpty else { return nil }
        let url = URL(string: value.contains("://") ? value : "http://" + value)
        guard let proxyHost = url?.host else { return nil }
        return (proxyHost, url?.port ?? 80)
    }

    /// The host part of `host[:port]` or `[v6]:port`, lowercased.
    static func hostname(_ hostPort: String) -> String {
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            return String(hostPort[hostPort.index(after: hostPort.startIndex)..<close]).lowercased()
        }
        if let colon = hostPort.lastIndex(of: ":"), hostPort.filter({ $0 == ":" }).count == 1 {
            return String(hostPort[..<colon]).lowercased()
        }
        return hostPort.lowercased()
    }

    /// True for localhost, 127.0.0.0/8 and ::1.
    public static func isLoopback(_ host: String) -> Bool {
        let h = hostname(host)
        return h == "localhost" || h.hasSuffix(".localhost") || h == "::1" || h.hasPrefix("127.")
    }
}
