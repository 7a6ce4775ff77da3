import Foundation
import Support
import OCI

/// One tar fuzz case: the input is decompressed if it looks compressed (so gzip and zstd are
/// fuzzed too), then every entry is read, with its content read whole, in small pieces, as
/// Data or skipped (chosen by the input, so a case always runs the same way).
///
/// It holds the reader to "an error or a valid entry": it may throw only an `OCIError`, and an
/// entry it returns has a size in `0...TarReader.maxEntrySize` (0 unless a regular file), owners
/// in `0...UInt32.max`, no NUL in its path or link target, and exactly `size` bytes of content.
/// A trap is the other failure, and ends the process.
public enum TarFuzzTarget {
    /// What one case did: the entries read, and the error that ended it, if any.
    public struct Outcome: Sendable {
        public var entries = 0
        public var error: OCIError?
        /// Each broken invariant, in words; empty when the reader behaved.
        public var violations: [String] = []
    }

    /// Runs one case.
    public static func run(_ bytes: [UInt8]) -> Outcome {
        var outcome = Outcome()
        let style = bytes.reduce(0) { $0 &+ Int($1) } & 3
        do {
            let (_, source) = try Decompressor.sniffing(DataSource(Data(bytes)))
            let reader = TarReader(source: source)
            while let entry = try reader.next() {
                outcome.entries += 1
                check(entry, &outcome.violations)
                guard entry.kind == .regular else {
                    if try readAll(reader, style: 0) != 0 { outcome.violations.append("'\(entry.path)' is a \(entry.kind) with content") }
                    continue
                }
                if style == 3 { continue } // skipped: next() must still find the next header
                let read = try readAll(reader, style: style)
                if read != entry.size { outcome.violations.append("'\(entry.path)' declares \(entry.size) bytes but \(read) were read") }
            }
        } catch let error as OCIError {
            outcome.error = error
            if error.description.contains("\n") { outcome.violations.append("an error of more than one line: \(error.description.debugDescription)") }
        } catch {
            outcome.violations.append("an error that is not an OCIError: \(type(of: error)) \(error)")
        }
        return outcome
    }

    static func check(_ entry: TarEntry, _ violations: inout [String]) {
        if entry.size < 0 || entry.size > TarReader.maxEntrySize { violations.append("'\(entry.path)' has size \(entry.size)") }
        if entry.kind != .regular && entry.size != 0 { violations.append("'\(entry.path)', a \(entry.kind), has size \(entry.size)") }
        if entry.uid < 0 || entry.uid > Int(UInt32.max) { violations.append("'\(entry.path)' has uid \(entry.uid)") }
        if entry.gid < 0 || entry.gid > Int(UInt32.max) { violations.append("'\(entry.path)' has gid \(entry.gid)") }
        if entry.path.utf8.contains(0) { violations.append("a path holds a NUL byte: \(entry.path.debugDescription)") }
        if entry.linkTarget.utf8.contains(0) { violations.append("a link target holds a NUL byte: \(entry.linkTarget.debugDescription)") }
        if entry.mode & ~0o7777 != 0 { violations.append("'\(entry.path)' has mode \(String(entry.mode, radix: 8))") }
    }

    /// Reads the current entry's content to its end; returns the bytes read.
    static func readAll(_ reader: TarReader, style: Int) throws -> Int64 {
        switch style {
        case 1:
            var total: Int64 = 0
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 7, alignment: 1)
            defer { buffer.deallocate() }
            while true {
                let n = try reader.readContent(into: buffer)
                if n == 0 { return total }
                total += Int64(n)
            }
        case 2:
            return Int64(try reader.readContentData(limit: 1 << 20).count)
        default:
            let sink = CountingSink()
            try reader.copyContent(to: sink)
            return sink.count
        }
    }
}

/// Counts what is written to it.
final class CountingSink: ByteSink {
    private(set) var count: Int64 = 0
    func write(_ bytes: UnsafeRawBufferPointer) throws { count += Int64(bytes.count) }
    func finish() throws {}
}
