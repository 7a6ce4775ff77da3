import Foundation
import Support
import StackshipTesting
import Testing
@testable import OCI

@Suite struct CompressionTests {
    static func sample(_ n: Int) -> Data {
        var data = Data(capacity: n)
        var x: UInt32 = 12345
        let words = ["layer", "digest", "manifest", "config", "stack", "image", "tar", "zstd", "\n"]
        while data.count < n {
            x = x &* 1_103_515_245 &+ 12345
            data.append(contentsOf: words[Int(x >> 16) % words.count].utf8)
            data.append(0x20)
        }
        return data.prefix(n)
    }

    static func compress(_ data: Data, _ c: Compression, threads: Int) throws -> Data {
        let out = DataSink()
        let sink = try Compressor.sink(c, threads: threads, next: out)
        // Odd chunk sizes, so block boundaries never line up with writes.
        var i = 0
        while i < data.count {
            let n = min(9_999, data.count - i)
            try sink.write(contentsOf: data[data.startIndex + i ..< data.startIndex + i + n])
            i += n
        }
        try sink.finish()
        return out.data
    }

    static func decompress(_ data: Data, _ c: Compression) throws -> Data {
        let out = DataSink()
        try Decompressor.source(c, DataSource(data)).copy(to: out)
        return out.data
    }

    @Test(arguments: [Compression.gzip, .zstd])
    func outputDoesNotDependOnThreads(_ c: Compression) throws {
        let data = Self.sample(3 << 20)
        let one = try CompressionTests.compress(data, c, threads: 1)
        let two = try CompressionTests.compress(data, c, threads: 2)
        let eight = try CompressionTests.compress(data, c, threads: 8)
        #expect(one == two)
        #expect(two == eight)
        #expect(try CompressionTests.decompress(one, c) == data)
        #expect(one.count < data.count / 2)
    }

    @Test(arguments: [0, 1, 32 * 1024, 128 * 1024, 128 * 1024 + 1])
    func gzipEdgeSizesRoundTrip(_ size: Int) throws {
        let data = Self.sample(size)
        let gz = try CompressionTests.compress(data, .gzip, threads: 2)
        #expect(Array(gz.prefix(2)) == [0x1f, 0x8b])
        #expect(try CompressionTests.decompress(gz, .gzip) == data)
    }

    @Test func gzipIsReadableByGzip() throws {
        let data = Self.sample(1 << 20)
        let gz = try CompressionTests.compress(data, .gzip, threads: 2)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try gz.write(to: dir.appendingPathComponent("x.gz"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-t", dir.appendingPathComponent("x.gz").path]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    @Test func corruptInputIsAnError() throws {
        var gz = try CompressionTests.compress(Self.sample(100_000), .gzip, threads: 1)
        gz[gz.count / 2] ^= 0xff
        #expect { _ = try CompressionTests.decompress(gz, .gzip) } throws: { "\($0)".contains("gzip") }
        let zst = try CompressionTests.compress(Self.sample(100_000), .zstd, threads: 1)
        #expect { _ = try CompressionTests.decompress(zst.prefix(zst.count - 10), .zstd) } throws: { "\($0)".contains("zstd") }
    }

    @Test func sniffing() {
        #expect(Compression.sniff([0x1f, 0x8b, 8, 0]) == .gzip)
        #expect(Compression.sniff([0x28, 0xb5, 0x2f, 0xfd]) == .zstd)
        #expect(Compression.sniff(Array("ustar".utf8)) == .none)
    }

}

extension CompressionTests {
    /// The tests of this suite that start a real component or need root:
    /// `swift test --skip Integration` (the unit tier) leaves them out.
    @Suite struct Integration {
        /// zstd layers are independent 4 MiB frames: the same bytes with one thread or several, in
        /// the debug build or the static release one, and what the zstd tool decodes.
        @Test func zstdFramesDoNotDependOnThreadsAndTheZstdToolReadsThem() throws {
            let data = CompressionTests.sample(9 << 20 + 12345) // three frames, the last one short
            let one = try CompressionTests.compress(data, .zstd, threads: 1)
            #expect(try CompressionTests.compress(data, .zstd, threads: 3) == one)
            #expect(try CompressionTests.decompress(one, .zstd) == data)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stackship-zstd-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try one.write(to: URL(fileURLWithPath: dir + "/layer.zst"))
            let r = try runProgram("zstd", ["-d", "-q", dir + "/layer.zst", "-o", dir + "/layer"])
            #expect(r.status == 0, "zstd -d: \(r.err) (install it: scripts/setup, or apt-get install zstd)")
            #expect(FileManager.default.contents(atPath: dir + "/layer") == data)
            // An empty layer is one empty frame, which decodes to nothing.
            #expect(try CompressionTests.decompress(try CompressionTests.compress(Data(), .zstd, threads: 2), .zstd).isEmpty)
        }
    }
}
