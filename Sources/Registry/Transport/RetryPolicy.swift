import Foundation

/// When and how long to wait before trying a request again: exponential backoff with full
/// jitter, honouring a server's Retry-After.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    /// The first backoff; each retry doubles it.
    public var baseDelay: Duration
    /// No single wait is longer than this (Retry-After included).
    public var maxDelay: Duration

    public init(maxAttempts: Int, baseDelay: Duration, maxDelay: Duration) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// 6 attempts, 0.25 s doubling to at most 10 s: rides out a registry restart of ~20 s.
    public static let standard = RetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(250), maxDelay: .seconds(10))
    /// A single attempt.
    public static let none = RetryPolicy(maxAttempts: 1, baseDelay: .zero, maxDelay: .zero)

    /// True for statuses worth retrying: 408, 429 and the 5xx that mean "try later".
    public static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1), honouring `retryAfter`.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil) -> Duration {
        if let retryAfter { return min(retryAfter, maxDelay) }
        let exponent = min(attempt - 1, 20)
        let ceiling = min(baseDelay * (1 << exponent), maxDelay)
        let ms = ceiling.components.seconds * 1000 + ceiling.components.attoseconds / 1_000_000_000_000_000
        return .milliseconds(ms > 0 ? Int64.random(in: ms / 2...ms) : 0)
    }

    /// Parses a Retry-After header: delta seconds or an HTTP date.
    public static func parseRetryAfter(_ value: String?) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value) { return .seconds(max(0, seconds)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        if let date = formatter.date(from: value) { return .seconds(max(0, Int(date.timeIntervalSinceNow.rounded(.up)))) }
        return nil
    }
}
