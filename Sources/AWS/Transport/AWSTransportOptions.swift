import Foundation

/// How the AWS clients talk HTTP: proxies from the environment, extra trusted CAs, retries
/// and timeouts.
public struct AWSTransportOptions: Sendable {
    /// Where HTTPS_PROXY, HTTP_PROXY and NO_PROXY are read from.
    public var environment: [String: String]
    /// PEM files of extra certificate authorities to trust (AWS_CA_BUNDLE is added too).
    public var caCertificates: [String]
    /// Attempts and backoff for throttling, 5xx and connection failures.
    public var retry: AWSRetryPolicy
    /// Time allowed for one request's response head.
    public var requestTimeout: Duration
    /// Time allowed to connect (TLS included). AsyncHTTPClient also gives a request this long
    /// to get a pooled connection; one that waits longer is retried (`isTransient`).
    public var connectTimeout: Duration
    /// Connections kept open to one host at most; further requests wait for a free one.
    public var connectionsPerHost: Int

    /// Options; the environment defaults to the process's.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, caCertificates: [String] = [],
                retry: AWSRetryPolicy = .standard, requestTimeout: Duration = .seconds(300), connectTimeout: Duration = .seconds(20),
                connectionsPerHost: Int = 8) {
        self.environment = environment
        var cas = caCertificates
        if let bundle = environment["AWS_CA_BUNDLE"], !bundle.isEmpty { cas.append(bundle) }
        self.caCertificates = cas
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.connectionsPerHost = max(1, connectionsPerHost)
    }

    /// The proxy for `host` from HTTPS_PROXY (HTTP_PROXY for plain http) unless NO_PROXY
    /// matches; loopback hosts never go through a proxy.
    public func proxy(for host: String, https: Bool) -> (host: String, port: Int)? {
        let bare = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if Self.isLoopback(bare) { return nil }
        let env = environment
        let noProxy = (env["NO_PROXY"] ?? env["no_proxy"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        for entry in noProxy where !entry.isEmpty {
            if entry == "*" { return nil }
            var e = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
            if let colon = e.lastIndex(of: ":"), e.filter({ $0 == ":" }).count == 1 { e = String(e[..<colon]) }
            if bare == e || bare.hasSuffix("." + e) { return nil }
        }
        let value = https ? (env["HTTPS_PROXY"] ?? env["https_proxy"] ?? env["HTTP_PROXY"] ?? env["http_proxy"])
                          : (env["HTTP_PROXY"] ?? env["http_proxy"])
        guard let value, !value.isEmpty, let url = URL(string: value.contains("://") ? value : "http://" + value),
              let proxyHost = url.host else { return nil }
        return (proxyHost, url.port ?? 80)
    }

    /// True for localhost, 127.0.0.0/8 and ::1.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host.hasSuffix(".localhost") || host == "::1" || host.hasPrefix("127.")
    }
}
