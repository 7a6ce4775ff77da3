import Foundation

/// When to try an AWS request again: throttling codes, 5xx and connection failures, with
/// exponential backoff and full jitter.
public struct AWSRetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    /// The first backoff; each retry doubles it.
    public var baseDelay: Duration
    /// No single wait is longer than this.
    public var maxDelay: Duration

    /// A policy from its parts.
    public init(maxAttempts: Int, baseDelay: Duration, maxDelay: Duration) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// 5 attempts, 0.2 s doubling to at most 8 s (the AWS SDKs' "standard" mode is close).
    public static let standard = AWSRetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(200), maxDelay: .seconds(8))
    /// A single attempt.
    public static let none = AWSRetryPolicy(maxAttempts: 1, baseDelay: .zero, maxDelay: .zero)

    /// Error codes that mean "slow down / try later" whatever the status.
    public static let retryableCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException", "InternalError", "InternalFailure", "ServiceUnavailable", "RequestTimeout", "RequestTimeoutException",
    ]

    /// True for statuses worth retrying: 429 and the 5xx that mean "try later".
    public static func isRetryable(status: Int) -> Bool {
        status == 429 || status == 500 || status == 502 || status == 503 || status == 504
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1).
    public func delay(afterAttempt attempt: Int) -> Duration {
        let ceiling = min(baseDelay * (1 << min(attempt - 1, 20)), maxDelay)
        let ms = ceiling.components.seconds * 1000 + ceiling.components.attoseconds / 1_000_000_000_000_000
        return .milliseconds(ms > 0 ? Int64.random(in: ms / 2...ms) : 0)
    }
}
