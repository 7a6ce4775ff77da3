import Foundation
import NIOHTTP1

/// The body of an AWS request: nothing, bytes in memory, or a file streamed from disk (read
/// again for each attempt, so retries can replay it).
public enum AWSRequestBody: Sendable {
    /// No body.
    case empty
    /// Bytes in memory.
    case data(Data)
    /// `size` bytes of the file at `path`, whose hex SHA-256 is `sha256` (or
    /// `SigV4Signer.unsignedPayload` when it was not hashed).
    case file(path: String, size: Int64, sha256: String)
}

/// One request to one AWS service, before endpoint, signing and retries.
public struct AWSRequest: Sendable {
    /// The service (signing name, endpoint).
    public var service: AWSService
    /// The operation name, for messages: "PutObject".
    public var operation: String
    /// The HTTP method.
    public var method: HTTPMethod
    /// The percent-encoded path below the endpoint's base path, starting with "/".
    public var path: String
    /// Query parameters (not yet encoded).
    public var query: [(String, String)]
    /// Extra headers (Host, X-Amz-Date and Authorization are added when sending).
    public var headers: HTTPHeaders
    /// The body.
    public var body: AWSRequestBody
    /// A prefix for the endpoint's host (S3 virtual-hosted buckets: "bucket.").
    public var hostPrefix: String
    /// False for the few calls that must not be signed (the SSO portal).
    public var signed: Bool

    /// A request from its parts.
    public init(service: AWSService, operation: String, method: HTTPMethod, path: String = "/", query: [(String, String)] = [],
                headers: HTTPHeaders = HTTPHeaders(), body: AWSRequestBody = .empty, hostPrefix: String = "", signed: Bool = true) {
        self.service = service
        self.operation = operation
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.hostPrefix = hostPrefix
        self.signed = signed
    }

    /// "Service.Operation", for messages.
    public var qualifiedName: String { "\(service.name).\(operation)" }
}

/// A buffered AWS response.
public struct AWSResponse: Sendable {
    /// The HTTP status.
    public var status: Int
    /// The response headers.
    public var headers: HTTPHeaders
    /// The body.
    public var body: Data
}
