#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// A region of a file read in chunks (1 MiB by default), as a request body. It is opened on
/// the first read, so each attempt of a request reads it afresh.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    let offset: Int64
    let length: Int64
    let chunkSize: Int

    func makeAsyncIterator() -> Iterator { Iterator(self) }

    final class Iterator: AsyncIteratorProtocol {
        private let chunks: FileChunks
        private var fd: Int32 = -1
        private var position: Int64
        private let end: Int64

        init(_ chunks: FileChunks) {
            self.chunks = chunks
            self.position = chunks.offset
            self.end = chunks.offset + chunks.length
        }

        deinit { if fd >= 0 { close(fd) } }

        func next() async throws -> ByteBuffer? {
            guard position < end else { return nil }
            if fd < 0 {
                fd = open(chunks.path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw HTTPError.bodyFileUnreadable(path: chunks.path, reason: String(cString: strerror(errno))) }
            }
            let want = Int(Swift.min(Int64(chunks.chunkSize), end - position))
            var buffer = ByteBufferAllocator().buffer(capacity: want)
            let at = position
            let got = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw -> Int in
                var n: Int
                repeat { n = pread(fd, raw.baseAddress, want, off_t(at)) } while n < 0 && errno == EINTR
                if n < 0 { throw HTTPError.bodyFileUnreadable(path: chunks.path, reason: String(cString: strerror(errno))) }
                return n
            }
            guard got > 0 else {
                throw HTTPError.bodyFileUnreadable(path: chunks.path, reason: "it ended at byte \(position) of \(end): the file shrank while it was being sent")
            }
            position += Int64(got)
            return buffer
        }
    }
}
