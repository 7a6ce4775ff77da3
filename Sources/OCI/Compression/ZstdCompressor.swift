import CZstd
import Foundation

/// Streams zstd compression through libzstd's multithreaded mode.
///
/// Workers are always at least one and the job size is fixed, so the output is the same
/// whatever the number of threads (zstd's multithreaded format does not depend on it).
public final class ZstdCompressor: ByteSink {
    private let next: ByteSink
    private let cctx: OpaquePointer
    private var out: UnsafeMutableRawBufferPointer
    /// 4 MiB jobs: large enough for both cores to work, small enough to bound memory.
    static let jobSize: Int32 = 4 << 20

    /// - Parameters:
    ///   - level: zstd level 1…19 (3 is zstd's default).
    ///   - threads: worker threads; 0 means one per core.
    public init(level: Int = 3, threads: Int = 0, next: ByteSink) throws {
        guard let cctx = ZSTD_createCCtx() else { throw OCIError.compression("cannot create a zstd context (out of memory?)") }
        self.cctx = cctx
        self.next = next
        self.out = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
        let workers = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, Int32(level)), "set level")
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1), "enable checksums")
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, Int32(max(1, workers))), "set workers")
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_jobSize, Self.jobSize), "set job size")
    }

    deinit {
        ZSTD_freeCCtx(cctx)
        out.deallocate()
    }

    private func check(_ rc: Int, _ what: String) throws {
        if ZSTD_isError(rc) != 0 {
            throw OCIError.compression("zstd: cannot \(what): \(String(cString: ZSTD_getErrorName(rc)))")
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while input.pos < input.size {
            var output = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
            let rc = ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_continue)
            try check(rc, "compress")
            if output.pos > 0 { try next.write(UnsafeRawBufferPointer(rebasing: out[0..<output.pos])) }
        }
    }

    public func finish() throws {
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while true {
            var output = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
            let remaining = ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_end)
            try check(remaining, "finish")
            if output.pos > 0 { try next.write(UnsafeRawBufferPointer(rebasing: out[0..<output.pos])) }
            if remaining == 0 { break }
        }
        try next.finish()
    }
}

/// A sink that compresses with `compression` into `next` (or passes through for `.none`).
public enum Compressor {
    /// Builds the compressing sink; `level` nil means the algorithm's default.
    public static func sink(_ compression: Compression, level: Int? = nil, threads: Int = 0, next: ByteSink) throws -> ByteSink {
        switch compression {
        case .none: return PassthroughSink(next: next)
        case .gzip: return GzipCompressor(level: level ?? 6, threads: threads, next: next)
        case .zstd: return try ZstdCompressor(level: level ?? 3, threads: threads, next: next)
        }
    }
}

/// Forwards everything unchanged.
public final class PassthroughSink: ByteSink {
    private let next: ByteSink
    public init(next: ByteSink) { self.next = next }
    public func write(_ bytes: UnsafeRawBufferPointer) throws { try next.write(bytes) }
    public func finish() throws { try next.finish() }
}
