import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOSSL

/// Which answers and failures are worth another attempt: each client supplies its own (a
/// registry's 5xx, AWS's throttling codes in a 400 body), and the transport asks it after each
/// attempt. How long to wait is the `RetryPolicy`'s business.
public struct RetryClassifier: Sendable {
    /// Statuses that mean "try later" (the answer is drained, Retry-After honoured).
    public var transientStatuses: Set<Int>
    /// For services that say "slow down" in an error body rather than its status: called for
    /// any other status of 400 or more with the body (at most 1 MiB, read into memory); true
    /// retries. When it says no, the answer is handed on with that body.
    public var isTransientAnswer: (@Sendable (_ status: Int, _ headers: HTTPHeaders, _ body: ByteBuffer) -> Bool)?
    /// Whether a failure to get an answer (not TLS, which is never retried) may pass on a later
    /// attempt.
    public var isTransientFailure: @Sendable (Error) -> Bool

    /// A classifier from its parts.
    public init(transientStatuses: Set<Int> = RetryClassifier.standardStatuses,
                isTransientAnswer: (@Sendable (Int, HTTPHeaders, ByteBuffer) -> Bool)? = nil,
                isTransientFailure: @escaping @Sendable (Error) -> Bool = RetryClassifier.isConnectionFailure) {
        self.transientStatuses = transientStatuses
        self.isTransientAnswer = isTransientAnswer
        self.isTransientFailure = isTransientFailure
    }

    /// 408, 429 and the 5xx that mean "try later"; connection-level failures.
    public static let standard = RetryClassifier()

    /// 408 (request timeout), 429 (too many requests), 500, 502, 503, 504.
    public static let standardStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]

    /// True for statuses this classifier retries.
    public func isTransient(status: Int) -> Bool { transientStatuses.contains(status) }

    /// Connection-level failures that a later attempt may not meet: refused, reset, timed out,
    /// and a request that waited too long for a pooled connection (the server, or this process,
    /// is slow, not wrong). TLS failures are not: a certificate does not fix itself. Nor is an
    /// error from outside the networking stack (NIO, AsyncHTTPClient): a client's own error is
    /// an answer or a mistake, not a connection that failed.
    @Sendable public static func isConnectionFailure(_ error: Error) -> Bool {
        if error is HTTPError || error is CancellationError { return false }
        if let e = error as? HTTPClientError { return transientClientErrors.contains(e) }
        if let e = error as? ChannelError, case .connectTimeout = e { return true }
        if FailureText.isTLSFailure(error) { return false }
        let type = String(reflecting: type(of: error))
        return type.hasPrefix("NIO") || type.hasPrefix("AsyncHTTPClient.")
    }

    /// AsyncHTTPClient's errors that mean "the connection, not the request, failed".
    static let transientClientErrors: [HTTPClientError] = [
        .remoteConnectionClosed, .connectTimeout, .readTimeout, .writeTimeout, .deadlineExceeded, .requestStreamCancelled,
        .getConnectionFromPoolTimeout, .tlsHandshakeTimeout, .httpProxyHandshakeTimeout, .socksHandshakeTimeout,
    ]
}
