import Foundation
import NIOHTTP1

/// One request, as a client builds it for one attempt.
public struct HTTPRequest: Sendable {
    /// The absolute http(s) URL.
    public var url: String
    /// The method.
    public var method: HTTPMethod
    /// The headers (Host is derived from the URL unless set).
    public var headers: HTTPHeaders
    /// The body; nil for none.
    public var body: HTTPRequestBody?

    /// A request from its parts.
    public init(url: String, method: HTTPMethod = .GET, headers: HTTPHeaders = HTTPHeaders(), body: HTTPRequestBody? = nil) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
    }
}
