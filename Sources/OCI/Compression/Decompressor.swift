import CZlib
import CZstd
import Foundation
import Support

/// Streams the decompressed bytes of a gzip (all members) or zstd source.
public enum Decompressor {
    /// Wraps `source` so reads return decompressed bytes.
    public static func source(_ compression: Compression, _ source: ByteSource) throws -> ByteSource {
        switch compression {
        case .none: return source
        case .gzip: return try GzipDecompressingSource(source)
        case .zstd: return try ZstdDecompressingSource(source)
        }
    }

    /// Sniffs the compression from the first bytes and wraps accordingly.
    public static func sniffing(_ source: ByteSource) throws -> (Compression, ByteSource) {
        let peek = PeekableSource(source)
        let head = try peek.peek(4)
        let c = Compression.sniff(head)
        return (c, try self.source(c, peek))
    }
}

/// Lets the first bytes be looked at without consuming them.
final class PeekableSource: ByteSource {
    private let inner: ByteSource
    private var buffered: [UInt8] = []

    init(_ inner: ByteSource) { self.inner = inner }

    func peek(_ n: Int) throws -> [UInt8] {
        var tmp = [UInt8](repeating: 0, count: n)
        let got = try tmp.withUnsafeMutableBytes { try inner.readFully(into: $0) }
        buffered = Array(tmp[0..<got])
        return buffered
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if buffer.isEmpty { return 0 } // an empty buffer may have no base address to copy to
        if !buffered.isEmpty {
            let n = min(buffer.count, buffered.count)
            buffered.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
            buffered.removeFirst(n)
            return n
        }
        return try inner.read(into: buffer)
    }
}

final class GzipDecompressingSource: ByteSource {
    private let inner: ByteSource
    private var strm = z_stream()
    private var input: UnsafeMutableRawBufferPointer
    private var finished = false
    private var sawAnyInput = false

    init(_ inner: ByteSource) throws {
        self.inner = inner
        self.input = .allocate(byteCount: 1 << 16, alignment: 16)
        guard stackship_inflateInit2(&strm, 15 + 32) == Z_OK else { throw OCIError.compression("inflateInit2 failed") }
    }

    deinit {
        inflateEnd(&strm)
        input.deallocate()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if finished || buffer.count == 0 { return 0 }
        strm.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        let capacity = uInt(clamping: buffer.count) // zlib counts in 32 bits
        strm.avail_out = capacity
        while strm.avail_out > 0 {
            if strm.avail_in == 0 {
                let n = try inner.read(into: input)
                if n == 0 {
                    if !sawAnyInput { throw OCIError.compression("gzip stream is empty") }
                    // End of input: fine only at the end of a member.
                    if strm.total_in == 0 { finished = true; break }
                    throw OCIError.compression("gzip stream is truncated")
                }
                sawAnyInput = true
                strm.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                strm.avail_in = uInt(n)
            }
            let rc = inflate(&strm, Z_NO_FLUSH)
            if rc == Z_STREAM_END {
                // Another member may follow (concatenated gzip, as pigz -i and some tools write).
                inflateReset(&strm)
                strm.total_in = 0
                continue
            }
            guard rc == Z_OK || rc == Z_BUF_ERROR else {
                let msg = strm.msg.map { String(cString: $0) } ?? "code \(rc)"
                throw OCIError.compression("gzip data is corrupt: \(msg)")
            }
        }
        return Int(capacity - strm.avail_out)
    }
}

final class ZstdDecompressingSource: ByteSource {
    private let inner: ByteSource
    private let dctx: OpaquePointer
    private var input: UnsafeMutableRawBufferPointer
    private var inBuf = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
    private var lastResult = 1
    private var eof = false

    init(_ inner: ByteSource) throws {
        self.inner = inner
        guard let d = ZSTD_createDCtx() else { throw OCIError.compression("cannot create a zstd decompression context") }
        self.dctx = d
        self.input = .allocate(byteCount: ZSTD_DStreamInSize(), alignment: 16)
    }

    deinit {
        ZSTD_freeDCtx(dctx)
        input.deallocate()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        while out.pos == 0 {
            if inBuf.pos == inBuf.size {
                if eof { break }
                let n = try inner.read(into: input)
                if n == 0 {
                    eof = true
                    if lastResult != 0 { throw OCIError.compression("zstd stream is truncated") }
                    break
                }
                inBuf = ZSTD_inBuffer(src: input.baseAddress, size: n, pos: 0)
            }
            let rc = ZSTD_decompressStream(dctx, &out, &inBuf)
            if ZSTD_isError(rc) != 0 {
                throw OCIError.compression("zstd data is corrupt: \(String(cString: ZSTD_getErrorName(rc)))")
            }
            lastResult = rc
        }
        return out.pos
    }
}
