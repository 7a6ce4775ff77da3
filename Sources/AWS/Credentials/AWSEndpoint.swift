import Foundation

/// Where requests for one service go. Resolution order: an explicit URL (e.g. `--endpoint-url`),
/// AWS_ENDPOINT_URL_<SERVICE> (AWS_ENDPOINT_URL_S3, …; for S3 also S3_ENDPOINT_URL), then
/// AWS_ENDPOINT_URL, else the real endpoint `https://PREFIX.REGION.amazonaws.com`.
public struct AWSEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// "http" or "https".
    public var scheme: String
    /// The host name or address.
    public var host: String
    /// The port, nil for the scheme's default.
    public var port: Int?
    /// A path prefix the endpoint URL carried ("" or "/something", no trailing slash).
    public var basePath: String
    /// True when the endpoint was set by the user (not AWS's own): S3 then uses path-style
    /// addressing, as MinIO, moto and most S3 look-alikes need.
    public var isCustom: Bool

    /// An endpoint from its parts.
    public init(scheme: String, host: String, port: Int? = nil, basePath: String = "", isCustom: Bool) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
        self.isCustom = isCustom
    }

    /// Parses `url`; `source` names where it came from, for the error.
    public init(url: String, source: String) throws {
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(),
              scheme == "http" || scheme == "https", var host = parsed.host, !host.isEmpty else {
            throw AWSError.invalidEndpoint(url: url, source: source)
        }
        // Foundation gives an IPv6 host with or without its brackets, depending on the version;
        // `host` holds it bare (`hostHeader` adds them).
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var path = parsed.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        self.init(scheme: scheme, host: host, port: parsed.port, basePath: path, isCustom: true)
    }

    /// The `Host` header value: host, plus the port when it is not the scheme's default.
    public var hostHeader: String {
        let h = host.contains(":") ? "[\(host)]" : host
        guard let port, !(scheme == "https" && port == 443), !(scheme == "http" && port == 80) else { return h }
        return "\(h):\(port)"
    }

    /// `scheme://host[:port]basePath`.
    public var description: String { "\(scheme)://\(hostHeader)\(basePath)" }

    /// Resolves the endpoint for `service` in `region` (see the type's documentation).
    public static func resolve(service: AWSService, region: String, explicit: String? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AWSEndpoint {
        if let explicit, !explicit.isEmpty { return try AWSEndpoint(url: explicit, source: "the endpoint option") }
        var keys = ["AWS_ENDPOINT_URL_\(service.environmentSuffix)"]
        if service == .s3 { keys.append("S3_ENDPOINT_URL") }
        keys.append("AWS_ENDPOINT_URL")
        for key in keys {
            if let value = environment[key], !value.isEmpty { return try AWSEndpoint(url: value, source: key) }
        }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return AWSEndpoint(scheme: "https", host: "\(service.endpointPrefix).\(region).\(suffix)", isCustom: false)
    }
}
