import CZstd
import Dispatch
import Foundation
import Support

/// Compresses to zstd with blocks compressed in parallel, as pzstd does: input is cut into
/// fixed-size blocks, each compressed as an independent zstd frame (with its content size and
/// checksum), and the frames are written in order. Concatenated frames are one zstd stream to
/// every decoder. The output depends only on the level and the block size, never on the number
/// of threads, and it needs nothing of libzstd's multithreading: Debian's static libzstd.a is
/// built without it, and the release executable is linked static (libzstd's own
/// multithreaded mode there failed with "Unsupported parameter").
///
/// Memory stays bounded: at most `2 × threads + 2` blocks are in flight.
public final class ZstdCompressor: ByteSink {
    /// 4 MiB: large enough that splitting costs little ratio. Part of the output format:
    /// changing it changes every zstd layer digest.
    public static let blockSize = 4 << 20

    private let next: ByteSink
    private let contexts: ZstdContextPool
    private let maxInFlight: Int
    private var current: UnsafeMutableRawBufferPointer
    private var used = 0
    private var frames = 0
    private var pending: [ZstdBlockJob] = []
    private let queue = DispatchQueue(label: "stackship.zstd", attributes: .concurrent)

    /// - Parameters:
    ///   - level: zstd level 1…19 (3 is zstd's default).
    ///   - threads: blocks compressed at once; 0 means one per core.
    public init(level: Int = 3, threads: Int = 0, next: ByteSink) throws {
        self.next = next
        contexts = ZstdContextPool(level: Int32(max(1, min(19, level))))
        try contexts.check()
        let t = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        maxInFlight = 2 * t + 2
        current = .allocate(byteCount: Self.blockSize, alignment: 16)
    }

    deinit {
        for job in pending { job.done.wait() }
        current.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = min(Self.blockSize - used, bytes.count - offset)
            (current.baseAddress! + used).copyMemory(from: bytes.baseAddress! + offset, byteCount: n)
            used += n
            offset += n
            if used == Self.blockSize { try submit() }
        }
    }

    public func finish() throws {
        // An empty input is still one (empty) frame: a zstd stream holds at least one.
        if used > 0 || frames == 0 { try submit() }
        while !pending.isEmpty { try drainOldest() }
        try next.finish()
    }

    private func submit() throws {
        let job = ZstdBlockJob(input: [UInt8](UnsafeRawBufferPointer(rebasing: current[0..<used])), pool: contexts)
        used = 0
        frames += 1
        pending.append(job)
        queue.async { job.run() }
        if pending.count >= maxInFlight { try drainOldest() }
    }

    private func drainOldest() throws {
        let job = pending.removeFirst()
        job.done.wait()
        if let error = job.error { throw error }
        try job.output.withUnsafeBytes { try next.write(UnsafeRawBufferPointer(rebasing: $0[0..<job.outputCount])) }
    }
}

/// One block's frame; its fields are written by the worker before `done` is signalled and read
/// by the writer only after waiting on it.
final class ZstdBlockJob: @unchecked Sendable {
    let input: [UInt8]
    let pool: ZstdContextPool
    var output: [UInt8] = []
    var outputCount = 0
    var error: OCIError?
    let done = DispatchSemaphore(value: 0)

    init(input: [UInt8], pool: ZstdContextPool) {
        self.input = input
        self.pool = pool
    }

    func run() {
        defer { done.signal() }
        guard let context = pool.take() else {
            error = OCIError.compression("zstd: cannot create a compression context (out of memory?)")
            return
        }
        defer { pool.give(context) }
        output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let capacity = output.count
        let rc = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { inp in ZSTD_compress2(context, out.baseAddress, capacity, inp.baseAddress, inp.count) }
        }
        if ZSTD_isError(rc) != 0 {
            error = OCIError.compression("zstd: cannot compress a block: \(String(cString: ZSTD_getErrorName(rc)))")
        } else {
            outputCount = rc
        }
    }
}

/// Compression contexts set to one level with checksums, reused across blocks.
final class ZstdContextPool: @unchecked Sendable {
    private let level: Int32
    private let lock = NSLock()
    private var free: [OpaquePointer] = []

    init(level: Int32) { self.level = level }

    deinit { for context in free { ZSTD_freeCCtx(context) } }

    /// Makes one context now, so a level libzstd refuses fails before any data is read.
    func check() throws {
        guard let context = make() else { throw OCIError.compression("zstd: cannot use level \(level)") }
        give(context)
    }

    func take() -> OpaquePointer? {
        if let context = lock.withLock({ free.popLast() }) { return context }
        return make()
    }

    func give(_ context: OpaquePointer) { lock.withLock { free.append(context) } }

    private func make() -> OpaquePointer? {
        guard let context = ZSTD_createCCtx() else { return nil }
        guard ZSTD_isError(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)) == 0,
              ZSTD_isError(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)) == 0 else {
            ZSTD_freeCCtx(context)
            return nil
        }
        return context
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
