import Foundation

/// How often and how long to wait before trying a request again: exponential backoff with full
/// jitter, honouring a server's Retry-After. Which answers and failures are worth another
/// attempt is the `RetryClassifier`'s business.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included (at least 1).
    public var maxAttempts: Int
    /// The first backoff; each retry doubles it.
    public var baseDelay: Duration
    /// No single wait is longer than this (Retry-After included).
    public var maxDelay: Duration

    /// A policy from its parts; `maxAttempts` below 1 counts as 1.
    public init(maxAttempts: Int, baseDelay: Duration, maxDelay: Duration) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// 6 attempts, 0.25 s doubling to at most 10 s: rides out a registry restart of ~20 s.
    public static let standard = RetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(250), maxDelay: .seconds(10))
    /// A single attempt.
    public static let none = RetryPolicy(maxAttempts: 1, baseDelay: .zero, maxDelay: .zero)

    /// The wait before attempt `attempt + 1` (attempt counts from 1): `retryAfter` when the
    /// server gave one (at most `maxDelay`), else a random wait in the upper half of the
    /// doubled backoff.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil) -> Duration {
        if let retryAfter { return min(retryAfter, maxDelay) }
        let exponent = min(max(attempt - 1, 0), 20)
        let ceiling = min(baseDelay * (1 << exponent), maxDelay)
        let ms = ceiling.components.seconds * 1000 + ceiling.components.attoseconds / 1_000_000_000_000_000
        return .milliseconds(ms > 0 ? Int64.random(in: ms / 2...ms) : 0)
    }

    /// Parses a Retry-After header: delta seconds or an HTTP date; nil when absent or unreadable.
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
