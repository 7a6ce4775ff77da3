import Foundation
import HTTPCore
import NIOCore

extension RetryPolicy {
    /// 5 attempts, 0.2 s doubling to at most 8 s (the AWS SDKs' "standard" mode is close): what
    /// `AWSClient` uses unless told otherwise.
    public static let aws = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(200), maxDelay: .seconds(8))
}

extension RetryClassifier {
    /// What the AWS clients retry: HTTPCore's statuses (408, 429, 5xx) and connection failures,
    /// and any error answer whose code means "slow down / try later" (throttling comes as a
    /// 400 from the query and JSON protocols).
    public static let aws = RetryClassifier(isTransientAnswer: { status, headers, body in
        let error = AWSErrorParser.parse(operation: "", status: status, headers: headers, body: Data(body.readableBytesView))
        return awsRetryableCodes.contains(error.code)
    })

    /// Error codes that mean "slow down / try later" whatever the status.
    public static let awsRetryableCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException", "InternalError", "InternalFailure", "ServiceUnavailable", "RequestTimeout", "RequestTimeoutException",
    ]
}
