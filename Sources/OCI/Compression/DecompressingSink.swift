import CZlib
import CZstd
import Foundation
import Support

/// Decompresses what is written into it (gzip, all members, or zstd) and writes the result to
/// `next`: the push-style twin of `Decompressor`, for bytes that arrive from a network
/// stream, so a layer's diffID is computed as it downloads instead of in a second pass.
public final class DecompressingSink: ByteSink {
    private let next: ByteSink
    private let compression: Compression
    private var output: UnsafeMutableRawBufferPointer
    private var gzip = z_stream()
    private var gzipStarted = false
    private var gzipInMember = false
    private var zstd: OpaquePointer?
    private var zstdLast = 1 // 0 once a frame is complete: an empty stream holds none
    private var sawInput = false

    public init(_ compression: Compression, next: ByteSink) throws {
        self.compression = compression
        self.next = next
        output = .allocate(byteCount: 1 << 16, alignment: 16)
        switch compression {
        case .none:
            break
        case .gzip:
            guard stackship_inflateInit2(&gzip, 15 + 32) == Z_OK else { output.deallocate(); throw OCIError.compression("inflateInit2 failed") }
            gzipStarted = true
        case .zstd:
            guard let d = ZSTD_createDCtx() else { output.deallocate(); throw OCIError.compression("cannot create a zstd decompression context") }
            zstd = d
        }
    }

    deinit {
        if gzipStarted { inflateEnd(&gzip) }
        if let zstd { ZSTD_freeDCtx(zstd) }
        output.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        sawInput = true
        switch compression {
        case .none: try next.write(bytes)
        case .gzip: try inflate(bytes)
        case .zstd: try decompressZstd(bytes)
        }
    }

    private func inflate(_ bytes: UnsafeRawBufferPointer) throws {
        // zlib counts in 32 bits: feed at most 1 GiB at a time.
        var offset = 0
        while offset < bytes.count {
            let piece = min(bytes.count - offset, 1 << 30)
            gzip.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress!.advanced(by: offset).assumingMemoryBound(to: Bytef.self))
            gzip.avail_in = uInt(piece)
            offset += piece
            while gzip.avail_in > 0 {
                gzipInMember = true
                gzip.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
                gzip.avail_out = uInt(output.count)
                let rc = CZlib.inflate(&gzip, Z_NO_FLUSH)
                let produced = output.count - Int(gzip.avail_out)
                if produced > 0 { try next.write(UnsafeRawBufferPointer(rebasing: output[0..<produced])) }
                if rc == Z_STREAM_END {
                    // Another member may follow (concatenated gzip).
                    inflateReset(&gzip)
                    gzipInMember = false
                    continue
                }
                guard rc == Z_OK || rc == Z_BUF_ERROR else {
                    let message = gzip.msg.map { String(cString: $0) } ?? "code \(rc)"
                    throw OCIError.compression("gzip data is corrupt: \(message)")
                }
                if rc == Z_BUF_ERROR && produced == 0 { break }
            }
        }
    }

    private func decompressZstd(_ bytes: UnsafeRawBufferPointer) throws {
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        repeat {
            var out = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            let rc = ZSTD_decompressStream(zstd, &out, &input)
            if ZSTD_isError(rc) != 0 { throw OCIError.compression("zstd data is corrupt: \(String(cString: ZSTD_getErrorName(rc)))") }
            zstdLast = rc
            if out.pos > 0 { try next.write(UnsafeRawBufferPointer(rebasing: output[0..<out.pos])) }
            if out.pos < output.count && input.pos == input.size { break }
        } while input.pos < input.size || zstdLast != 0
    }

    /// Checks the stream ended where a stream may end, then finishes `next`.
    public func finish() throws {
        switch compression {
        case .none: break
        case .gzip:
            if !sawInput { throw OCIError.compression("gzip stream is empty") }
            if gzipInMember { throw OCIError.compression("gzip stream is truncated") }
        case .zstd:
            if zstdLast != 0 { throw OCIError.compression("zstd stream is truncated") }
        }
        try next.finish()
    }
}
