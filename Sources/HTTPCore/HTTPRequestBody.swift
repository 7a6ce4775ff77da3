import AsyncHTTPClient
import Foundation
import NIOCore

/// A request body: bytes in memory, or a stream of known length. A stream is read once per
/// attempt, so a request maker must make a new one each time it is called.
public struct HTTPRequestBody: Sendable {
    /// The body's length in bytes.
    public let length: Int64
    let body: HTTPClientRequest.Body

    private init(length: Int64, body: HTTPClientRequest.Body) {
        self.length = length
        self.body = body
    }

    /// Bytes in memory.
    public static func bytes(_ buffer: ByteBuffer) -> HTTPRequestBody {
        HTTPRequestBody(length: Int64(buffer.readableBytes), body: .bytes(buffer))
    }

    /// Bytes in memory.
    public static func bytes(_ data: Data) -> HTTPRequestBody { bytes(ByteBuffer(bytes: data)) }

    /// Bytes in memory.
    public static func bytes(_ text: String) -> HTTPRequestBody { bytes(ByteBuffer(string: text)) }

    /// `length` bytes from `chunks`. An error the sequence throws (a file that shrank, a digest
    /// that does not match) fails the request with that same error, never retried by the
    /// transport: it is the caller's, not the connection's.
    public static func stream<Chunks: AsyncSequence & Sendable>(_ chunks: Chunks, length: Int64) -> HTTPRequestBody
    where Chunks.Element == ByteBuffer {
        HTTPRequestBody(length: length, body: .stream(CallerErrorMarking(base: chunks), length: .known(length)))
    }
}

extension HTTPRequestBody {
    /// `length` bytes of the file at `path` from `offset`, read in `chunkSize` chunks, afresh
    /// for each attempt. A file that cannot be read, or shrinks, fails the request with
    /// `HTTPError.bodyFileUnreadable`.
    public static func file(_ path: String, offset: Int64 = 0, length: Int64, chunkSize: Int = 1 << 20) -> HTTPRequestBody {
        stream(FileChunks(path: path, offset: offset, length: length, chunkSize: max(1, chunkSize)), length: length)
    }
}

/// An error thrown by a request body's own sequence, marked so the transport can tell it from a
/// connection failure and hand it back unchanged.
struct BodySourceError: Error {
    let underlying: Error
}

/// A body sequence whose errors come out as `BodySourceError`.
struct CallerErrorMarking<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        mutating func next() async throws -> ByteBuffer? {
            do { return try await base.next() } catch { throw BodySourceError(underlying: error) }
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator()) }
}
