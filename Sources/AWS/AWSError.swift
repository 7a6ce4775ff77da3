import Foundation

/// Everything that can go wrong in the AWS module. Each case carries the facts; `description`
/// says what happened and what to do. No case ever holds a secret (keys, tokens, secret
/// strings): messages from servers are passed through `AWSRedaction` before they are stored.
public enum AWSError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The named profile is in neither the config nor the credentials file.
    case profileNotFound(profile: String, files: [String])
    /// The profile exists but lacks a key it needs (e.g. aws_secret_access_key).
    case profileMissingKey(profile: String, key: String, file: String)
    /// The profile's `source_profile` names a profile that does not exist.
    case unknownSourceProfile(profile: String, sourceProfile: String, file: String)
    /// `source_profile` chains loop back to a profile already being resolved.
    case sourceProfileCycle(profiles: [String])
    /// A profile key has a value we cannot use (e.g. an unknown credential_source).
    case invalidProfileValue(profile: String, key: String, value: String, file: String, expected: String)
    /// No source in the chain produced credentials.
    case noCredentials(tried: [String])
    /// The SSO access token cached by `aws sso login` has expired.
    case ssoTokenExpired(profile: String, expiredAt: String)
    /// No cached SSO token exists for the profile.
    case ssoTokenMissing(profile: String, path: String)
    /// A file we had to read (web identity token, SSO cache, object source) could not be read.
    case fileUnreadable(path: String, reason: String)
    /// A file could not be written.
    case fileWriteFailed(path: String, reason: String)
    /// No region was given and none is configured.
    case noRegion(profile: String?)
    /// An endpoint URL (AWS_ENDPOINT_URL..., --endpoint-url) is not a usable http(s) URL.
    case invalidEndpoint(url: String, source: String)
    /// An `s3://bucket/prefix` URL is malformed.
    case invalidS3URL(String)
    /// The service answered with an AWS error.
    case service(AWSServiceError)
    /// The request never got an answer (connection refused, TLS, timeouts), after retries.
    case transport(operation: String, endpoint: String, reason: String)
    /// The service answered with something we could not understand.
    case unexpectedResponse(operation: String, detail: String)
    /// A downloaded object was shorter or longer than the server announced.
    case incompleteDownload(bucket: String, key: String, expected: Int64, received: Int64)
    /// A CloudFormation stack operation ended in a failed state.
    case stackOperationFailed(stack: String, status: String, reason: String?)
    /// A change set could not be created (its status is FAILED).
    case changeSetFailed(stack: String, changeSet: String, reason: String?)
    /// A waiter gave up before a terminal state was reached.
    case waiterTimedOut(what: String, lastStatus: String, seconds: Int)
    /// The request was refused before it was sent because an argument is invalid.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .profileNotFound(profile, files):
            return "AWS profile '\(profile)' was not found in \(files.joined(separator: " or ")). Add a [profile \(profile)] section to the config file (or [\(profile)] to the credentials file), or pick another profile with --profile / AWS_PROFILE."
        case let .profileMissingKey(profile, key, file):
            return "AWS profile '\(profile)' in \(file) has no '\(key)'. Add \(key) to the profile, or run 'aws configure --profile \(profile)'."
        case let .unknownSourceProfile(profile, source, file):
            return "AWS profile '\(profile)' in \(file) has source_profile = \(source), but no profile '\(source)' exists. Fix source_profile or add the '\(source)' profile."
        case let .sourceProfileCycle(profiles):
            return "AWS profiles refer to each other in a loop through source_profile: \(profiles.joined(separator: " -> ")). Make one of them hold keys (or use credential_source)."
        case let .invalidProfileValue(profile, key, value, file, expected):
            return "AWS profile '\(profile)' in \(file) has \(key) = \(value), which is not supported; expected \(expected)."
        case let .noCredentials(tried):
            return "No AWS credentials found (looked at: \(tried.joined(separator: ", "))). Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run 'aws configure' or 'aws sso login', or choose a profile with --profile / AWS_PROFILE."
        case let .ssoTokenExpired(profile, expiredAt):
            return "The AWS SSO session for profile '\(profile)' expired at \(expiredAt). Run 'aws sso login --profile \(profile)' and try again."
        case let .ssoTokenMissing(profile, path):
            return "No AWS SSO token is cached for profile '\(profile)' (looked for \(path)). Run 'aws sso login --profile \(profile)' and try again."
        case let .fileUnreadable(path, reason):
            return "Cannot read \(path): \(reason). Check that the file exists and is readable."
        case let .fileWriteFailed(path, reason):
            return "Cannot write \(path): \(reason). Check the directory exists, is writable and has free space."
        case let .noRegion(profile):
            let p = profile.map { " (or 'region' in profile '\($0)')" } ?? " (or 'region' in the AWS config profile)"
            return "No AWS region is set. Pass --region, or set AWS_REGION / AWS_DEFAULT_REGION\(p)."
        case let .invalidEndpoint(url, source):
            return "The AWS endpoint '\(url)' from \(source) is not an http(s) URL with a host. Use a URL such as http://127.0.0.1:5000."
        case let .invalidS3URL(url):
            return "'\(url)' is not an S3 URL. Use s3://BUCKET or s3://BUCKET/PREFIX."
        case let .service(error):
            return error.description
        case let .transport(operation, endpoint, reason):
            return "\(operation) could not reach \(endpoint): \(reason). Check the network, the endpoint URL (--endpoint-url, AWS_ENDPOINT_URL) and any HTTPS_PROXY/NO_PROXY settings."
        case let .unexpectedResponse(operation, detail):
            return "\(operation) returned a response that could not be understood: \(detail)."
        case let .incompleteDownload(bucket, key, expected, received):
            return "Download of s3://\(bucket)/\(key) ended after \(received) of \(expected) bytes; nothing was written. Try again."
        case let .stackOperationFailed(stack, status, reason):
            return "CloudFormation stack '\(stack)' ended in \(status)\(reason.map { ": \($0)" } ?? ""). See the stack events above (or 'aws cloudformation describe-stack-events --stack-name \(stack)') for the resource that failed."
        case let .changeSetFailed(stack, changeSet, reason):
            return "Change set '\(changeSet)' for stack '\(stack)' failed\(reason.map { ": \($0)" } ?? ""). Fix the template or parameters and deploy again."
        case let .waiterTimedOut(what, lastStatus, seconds):
            return "Gave up waiting for \(what) after \(seconds) s; last status \(lastStatus). It may still finish; check it in the AWS console or CLI."
        case let .invalidArgument(message):
            return message
        }
    }
}

/// An error answer from an AWS service: its code, message and request id, and a hint for the
/// codes whose fix is obvious.
public struct AWSServiceError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The operation that failed, e.g. "S3.PutObject".
    public var operation: String
    /// The HTTP status.
    public var status: Int
    /// AWS's error code, e.g. "AccessDenied", "NoSuchKey", "ValidationError".
    public var code: String
    /// AWS's message (may be empty: HEAD responses carry no body).
    public var message: String
    /// The request id, for AWS support.
    public var requestID: String?

    public init(operation: String, status: Int, code: String, message: String, requestID: String?) {
        self.operation = operation
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
    }

    /// What to do about the common codes; nil when there is nothing obvious to say.
    public var hint: String? {
        switch code {
        case "ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired":
            return "The AWS credentials have expired: refresh them ('aws sso login', a new session token, or re-run the job that assumed the role)."
        case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError":
            return "The identity in use lacks permission for this action: check its IAM policy (and any bucket or resource policy), or use another profile."
        case "InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId":
            return "AWS does not know this access key: check AWS_ACCESS_KEY_ID / the profile's aws_access_key_id, and that a session token accompanies temporary keys."
        case "SignatureDoesNotMatch", "InvalidSignatureException":
            return "The request signature did not match: check the secret access key, and that the machine's clock is right."
        case "Throttling", "ThrottlingException", "TooManyRequestsException", "SlowDown", "RequestLimitExceeded":
            return "AWS is throttling requests; wait a little and try again."
        default:
            return nil
        }
    }

    public var description: String {
        var text = "\(operation) failed (HTTP \(status)) \(code)"
        if !message.isEmpty { text += ": \(message)" }
        if let requestID, !requestID.isEmpty { text += " [request id \(requestID)]" }
        if let hint { text += ". \(hint)" }
        return text
    }
}
