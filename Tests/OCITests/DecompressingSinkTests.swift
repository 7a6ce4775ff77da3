import Foundation
import Support
import Testing
@testable import OCI

/// The push-style decompressor gives what the pull-style one gives, whatever the chunking, and
/// tells a cut-short or damaged stream apart.
@Suite struct DecompressingSinkTests {
    static func payload() -> Data {
        var g = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 300_000)
        for i in stride(from: 0, to: bytes.count, by: 1) { bytes[i] = i % 7 == 0 ? UInt8.random(in: 0...255, using: &g) : UInt8(i % 251) }
        return Data(bytes)
    }

    static func compress(_ data: Data, _ compression: Compression) throws -> Data {
        let sink = DataSink()
        let compressor: ByteSink = compression == .gzip ? GzipCompressor(next: sink) : try ZstdCompressor(next: sink)
        try compressor.write(contentsOf: data)
        try compressor.finish()
        return sink.data
    }

    /// Writes `data` into a sink in chunks of `size`, returns what came out (or the error).
    static func push(_ data: Data, _ compression: Compression, chunk size: Int) throws -> Data {
        let out = DataSink()
        let sink = try DecompressingSink(compression, next: out)
        var offset = 0
        while offset < data.count {
            let end = min(data.count, offset + size)
            try data[offset..<end].withUnsafeBytes { try sink.write($0) }
            offset = end
        }
        try sink.finish()
        return out.data
    }

    @Test(arguments: [Compression.gzip, .zstd])
    func matchesThePullStyleDecompressor(_ compression: Compression) throws {
        let data = Self.payload()
        let compressed = try Self.compress(data, compression)
        for size in [1, 7, 4096, 65_536, 1 << 20] {
            #expect(try Self.push(compressed, compression, chunk: size) == data, "chunks of \(size)")
        }
    }

    @Test func concatenatedGzipMembersAreOneStream() throws {
        let a = Data("first member\n".utf8), b = Data("second member\n".utf8)
        let both = try Self.compress(a, .gzip) + Self.compress(b, .gzip)
        #expect(try Self.push(both, .gzip, chunk: 5) == a + b)
    }

    @Test(arguments: [Compression.gzip, .zstd])
    func aTruncatedStreamFailsAtTheEnd(_ compression: Compression) throws {
        let compressed = try Self.compress(Self.payload(), compression)
        #expect(throws: OCIError.self) { try Self.push(compressed.prefix(compressed.count - 9), compression, chunk: 1000) }
        #expect(throws: OCIError.self) { try Self.push(Data(), compression, chunk: 1000) }
    }

    @Test func damagedGzipFails() throws {
        var compressed = try Self.compress(Self.payload(), .gzip)
        compressed[compressed.count / 2] ^= 0xff
        #expect(throws: OCIError.self) { try Self.push(compressed, .gzip, chunk: 4096) }
    }
}
