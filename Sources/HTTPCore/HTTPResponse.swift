import NIOCore
import NIOHTTP1

/// An answer: status, headers and a body to stream (or, for an error answer a classifier read,
/// the bytes it read).
public struct HTTPResponse: Sendable {
    /// The status.
    public var status: HTTPResponseStatus
    /// The headers.
    public var headers: HTTPHeaders
    /// The body, readable once.
    public var body: HTTPBody
    /// The attempts this answer took (1: the first).
    public var attempts: Int

    /// A response from its parts.
    public init(status: HTTPResponseStatus, headers: HTTPHeaders, body: HTTPBody, attempts: Int = 1) {
        self.status = status
        self.headers = headers
        self.body = body
        self.attempts = attempts
    }

    /// The status code.
    public var code: Int { Int(status.code) }

    /// Reads and discards the body (at most 16 MiB), so the connection can be reused. A body can
    /// be read only once: call this on paths that do not want its text.
    public func drain() async {
        _ = try? await body.collect(upTo: 16 << 20)
    }

    /// The body as text, at most `limit` bytes (for error messages); empty when unreadable.
    public func text(limit: Int = 64 * 1024) async -> String {
        guard let buffer = try? await body.collect(upTo: limit) else { return "" }
        return String(buffer: buffer)
    }
}
