/// Why the transport could not get an answer. Descriptions are one line, name the origin (never
/// a URL's path or query, which may hold a token) and never a source path of a dependency.
public enum HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No answer came for `operation` to `origin` (refused, reset, timed out, no pooled
    /// connection in time) after `attempts`; `transient` when a later attempt might pass.
    case connectionFailed(operation: String, origin: String, attempts: Int, detail: String, transient: Bool)
    /// An answer's body broke off while it was read; `transient` when trying again might pass.
    case bodyInterrupted(operation: String, origin: String, detail: String, transient: Bool)
    /// TLS with `host` (`host:port`) failed: the handshake or the certificate. Never retried.
    case tlsFailed(host: String, detail: String, insecure: Bool)
    /// An answer's body was longer than the `limit` bytes its reader takes.
    case bodyTooLarge(operation: String, origin: String, limit: Int)
    /// The URL is not an absolute http(s) URL with a host.
    case invalidURL(operation: String, url: String)
    /// The file a request body is read from could not be read (`HTTPRequestBody.file`).
    case bodyFileUnreadable(path: String, reason: String)

    /// Whether the caller may try again: a failure the transport classed as transient and did
    /// not already retry (a request sent with `RetryPolicy.none`, an interrupted body). A
    /// failure that outlasted the transport's own retries is not.
    public var isTransient: Bool {
        switch self {
        case let .connectionFailed(_, _, attempts, _, transient): return transient && attempts == 1
        case let .bodyInterrupted(_, _, _, transient): return transient
        case .tlsFailed, .bodyTooLarge, .invalidURL, .bodyFileUnreadable: return false
        }
    }

    /// Whether `error` is an `HTTPError` a caller may try again (see `isTransient`).
    public static func isTransient(_ error: Error) -> Bool {
        (error as? HTTPError)?.isTransient ?? false
    }

    /// What went wrong, without the operation and origin: for errors that wrap this one.
    public var detail: String {
        switch self {
        case let .connectionFailed(_, _, attempts, detail, _): return detail + (attempts > 1 ? " (after \(attempts) attempts)" : "")
        case let .bodyInterrupted(_, _, detail, _): return "the answer broke off: \(detail)"
        case let .tlsFailed(_, detail, _): return detail
        case let .bodyTooLarge(_, _, limit): return "the answer is larger than the \(limit) bytes it may be"
        case .invalidURL: return "not an absolute http(s) URL with a host"
        case let .bodyFileUnreadable(path, reason): return "cannot read \(path): \(reason)"
        }
    }

    /// One line: what failed, where, and what to check.
    public var description: String {
        switch self {
        case let .connectionFailed(operation, origin, attempts, detail, _):
            let tries = attempts > 1 ? " after \(attempts) attempts" : ""
            return "\(operation): no answer from \(origin)\(tries) (\(detail)); check that it is running, the network, and HTTPS_PROXY/NO_PROXY"
        case let .bodyInterrupted(operation, origin, detail, _):
            return "\(operation): the answer from \(origin) broke off (\(detail)); try again"
        case let .tlsFailed(host, detail, insecure):
            return "TLS with \(host) failed (\(detail)); trust its certificate authority\(insecure ? "" : ", or turn off verification for it")"
        case let .bodyTooLarge(operation, origin, limit):
            return "\(operation): the answer from \(origin) is larger than \(limit) bytes; it was refused"
        case let .invalidURL(operation, url):
            return "\(operation): '\(url.prefix(200))' is not an absolute http(s) URL with a host"
        case let .bodyFileUnreadable(path, reason):
            return "cannot read \(path) to send it: \(reason); check that the file exists, is readable and is not being changed"
        }
    }
}
