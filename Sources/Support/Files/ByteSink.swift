#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A destination for a stream of bytes. Layer building is a chain of sinks
/// (tar writer → hash → compressor → hash → file), so no stage holds more than a block.
///
/// Sinks are used from one thread at a time; `finish()` flushes and must be called once at
/// the end (it finishes the downstream sink too).
public protocol ByteSink: AnyObject {
    /// Consumes `bytes`; the buffer is only valid during the call.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Flushes everything written and finishes any downstream sink.
    func finish() throws
}

extension ByteSink {
    /// Writes the bytes of a collection.
    public func write<D: DataProtocol>(contentsOf bytes: D) throws {
        for region in bytes.regions {
            try region.withUnsafeBytes { try write($0) }
        }
    }
}

/// Discards everything (for hashing-only passes).
public final class NullSink: ByteSink {
    public init() {}
    public func write(_ bytes: UnsafeRawBufferPointer) throws {}
    public func finish() throws {}
}

/// Collects everything in memory; for small outputs and tests.
public final class DataSink: ByteSink {
    public private(set) var data = Data()
    public init() {}
    public func write(_ bytes: UnsafeRawBufferPointer) throws { data.append(contentsOf: bytes) }
    public func finish() throws {}
}

/// A source of bytes read in chunks.
public protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes; returns 0 at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteSource {
    /// Copies the whole source into `sink` (without finishing it); returns the bytes copied.
    @discardableResult
    public func copy(to sink: ByteSink, bufferSize: Int = 1 << 20) throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = try read(into: buffer)
            if n == 0 { return total }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += Int64(n)
        }
    }

    /// Reads exactly `buffer.count` bytes, or fewer only at the end of the stream.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if n == 0 { break }
            filled += n
        }
        return filled
    }
}

/// Reads from an in-memory buffer.
public final class DataSource: ByteSource {
    private let data: Data
    private var offset = 0
    public init(_ data: Data) { self.data = data }
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, data.count - offset)
        if n <= 0 { return 0 }
        data.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + offset, byteCount: n)
        }
        offset += n
        return n
    }
}
