/// Sends HTTP requests with retries: the seam the registry and AWS clients are built on.
///
/// A request is built by a closure the transport calls again for each attempt (so a body can be
/// replayed and a signature made afresh); the client's `RetryClassifier` says which answers and
/// failures are worth another attempt, and the options' `RetryPolicy` how long to wait.
public protocol HTTPTransporting: Sendable {
    /// The options the transport was made with.
    var options: TransportOptions { get }
    /// What the transport retries.
    var classifier: RetryClassifier { get }

    /// Sends the request `make` builds and hands the answer to `consume`. Transient failures
    /// and statuses are retried with `retry` (default: the options'), honouring Retry-After; so
    /// is a transient `HTTPError` that `consume` throws (a body that broke off). Any other
    /// status is handed to `consume` as is.
    ///
    /// Throws `HTTPError` for a failure to get an answer (`tlsFailed` at once; otherwise
    /// `connectionFailed` once the retries are spent), what `make` or `consume` throw, and a
    /// request body's own error unchanged.
    func perform<T>(_ operation: String, retry: RetryPolicy?, _ make: () async throws -> HTTPRequest,
                    consume: (HTTPResponse) async throws -> T) async throws -> T

    /// Closes the connections; the transport must not be used afterwards.
    func shutdown() async
}

extension HTTPTransporting {
    /// `perform`, returning the answer with its body still to read (a body that breaks off
    /// later throws `HTTPError.bodyInterrupted` to its reader, and is not retried here).
    public func send(_ operation: String, retry: RetryPolicy? = nil, _ make: () async throws -> HTTPRequest) async throws -> HTTPResponse {
        try await perform(operation, retry: retry, make) { $0 }
    }
}
