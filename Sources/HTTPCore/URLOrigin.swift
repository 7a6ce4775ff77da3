import Foundation

/// The origin of a URL (scheme, host, port, as browsers compare them): what decides whether a
/// request may carry a session's credentials, and which host a connection goes to. Two
/// loopback ports are two origins.
public struct URLOrigin: Hashable, Sendable, CustomStringConvertible {
    /// "http" or "https", lowercased.
    public let scheme: String
    /// The host, lowercased, without brackets for an IPv6 address.
    public let host: String
    /// The port, the scheme's default when the URL names none.
    public let port: Int

    /// The origin of an absolute `http(s)://` URL; nil for anything else.
    public init?(_ url: String) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", var host = components.host, !host.isEmpty else { return nil }
        // Foundation gives an IPv6 host with or without its brackets, depending on the version.
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = components.port ?? (scheme == "https" ? 443 : 80)
    }

    /// `host:port`, with an IPv6 host in brackets: what NO_PROXY entries and messages name.
    public var hostPort: String { "\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    /// `scheme://host:port`.
    public var description: String { "\(scheme)://\(hostPort)" }
}
