import AsyncHTTPClient
import NIOCore

/// A response body: the bytes as they arrive, or bytes already read. An error while reading
/// comes out as `HTTPError.bodyInterrupted`, so callers can tell "try again" from their own
/// failures.
public struct HTTPBody: AsyncSequence, Sendable {
    /// A chunk of the body.
    public typealias Element = ByteBuffer

    enum Source: Sendable {
        case streaming(HTTPClientResponse.Body)
        case buffered(ByteBuffer)
    }

    let source: Source
    let operation: String
    let origin: String
    let classifier: RetryClassifier

    init(_ source: Source, operation: String, origin: String, classifier: RetryClassifier) {
        self.source = source
        self.operation = operation
        self.origin = origin
        self.classifier = classifier
    }

    /// A body of `bytes` (a fake answer, a test).
    public init(bytes: ByteBuffer) {
        self.init(.buffered(bytes), operation: "", origin: "", classifier: .standard)
    }

    /// Reads the whole body; throws `HTTPError.bodyTooLarge` past `limit` bytes.
    public func collect(upTo limit: Int) async throws -> ByteBuffer {
        var all = ByteBuffer()
        for try await chunk in self {
            guard all.readableBytes + chunk.readableBytes <= limit else {
                throw HTTPError.bodyTooLarge(operation: operation, origin: origin, limit: limit)
            }
            var chunk = chunk
            all.writeBuffer(&chunk)
        }
        return all
    }

    /// An iterator over the chunks (a streaming body can be iterated once).
    public func makeAsyncIterator() -> AsyncIterator {
        switch source {
        case let .streaming(body): return AsyncIterator(streaming: body.makeAsyncIterator(), buffered: nil, body: self)
        case let .buffered(bytes): return AsyncIterator(streaming: nil, buffered: bytes, body: self)
        }
    }

    /// Iterates the chunks.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var streaming: HTTPClientResponse.Body.AsyncIterator?
        var buffered: ByteBuffer?
        let body: HTTPBody

        /// The next chunk; nil at the end.
        public mutating func next() async throws -> ByteBuffer? {
            if streaming == nil {
                defer { buffered = nil }
                return buffered.flatMap { $0.readableBytes > 0 ? $0 : nil }
            }
            do {
                return try await streaming?.next()
            } catch {
                if error is CancellationError { throw error }
                throw HTTPError.bodyInterrupted(operation: body.operation, origin: body.origin, detail: FailureText.describe(error),
                                                transient: body.classifier.isTransientFailure(error))
            }
        }
    }
}
