import Foundation
import Support

/// Reads a tar stream: ustar and GNU headers, PAX extended (`x`) and global (`g`) headers,
/// GNU long names (`L`, `K`). Checksums are verified; a truncated archive is an error.
///
/// Call `next()` for each header, then optionally `readContent`; unread content is skipped.
///
/// The stream may be hostile (a layer from any registry), so nothing in it is trusted: every
/// number is checked (content sizes lie in `0...maxEntrySize`, owners in `0...UInt32.max`, a
/// base-256 field that overflows Int64 is refused), PAX records are parsed strictly, and a
/// name, link target or owner name that holds a NUL byte (which a C call would cut short) is
/// refused. Each refusal is an `OCIError.malformedTar` naming the entry and where its header
/// starts; no input makes the reader trap.
public final class TarReader {
    /// The largest content an entry may declare: 2^56 bytes (64 PiB). Far above any real file,
    /// and low enough that a caller adding sizes up against a byte limit cannot overflow Int64.
    public static let maxEntrySize: Int64 = 1 << 56
    /// The largest extended header (PAX records, GNU long name) held in memory.
    static let maxExtendedHeaderSize: Int64 = 16 << 20

    private let source: ByteSource
    private var remaining: Int64 = 0
    private var padding: Int64 = 0
    private var block = [UInt8](repeating: 0, count: 512)
    private var globalPAX: [String: String] = [:]
    /// The entry being read (its path once known, and where its header starts), for errors.
    private var currentPath: String?
    private var currentOffset: Int64 = 0
    /// How many bytes of the stream were consumed.
    public private(set) var offset: Int64 = 0

    public init(source: ByteSource) {
        self.source = source
    }

    /// The next entry, or nil at the end of the archive.
    ///
    /// Throws `OCIError.malformedTar` for a header that cannot be read as written (see the type).
    public func next() throws -> TarEntry? {
        try skipRemaining()
        var pax: [String: String] = globalPAX
        var longName: String?
        var longLink: String?
        while true {
            currentPath = nil
            currentOffset = offset
            guard try readBlock() else { return nil } // EOF without end blocks: accepted, as GNU tar does
            if block.allSatisfy({ $0 == 0 }) {
                return nil
            }
            guard Self.checksumOK(block) else {
                throw fail("bad header checksum; the archive is corrupt or not a tar file")
            }
            let type = block[156]
            switch type {
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                let records: [String: String]
                do { records = try Self.parsePAX(try readExtended()) } catch let error as FieldError { throw fail("its PAX header is malformed: \(error.reason)") }
                if type == UInt8(ascii: "g") { globalPAX.merge(records) { $1 } }
                pax.merge(records) { $1 }
                continue
            case UInt8(ascii: "L"):
                longName = Self.cString(try readExtended())
                continue
            case UInt8(ascii: "K"):
                longLink = Self.cString(try readExtended())
                continue
            default:
                break
            }
            var name = Self.cString(Array(block[0..<100]))
            let magic = Array(block[257..<263])
            if magic == Array("ustar\0".utf8) || magic == Array("ustar ".utf8) {
                let prefix = Self.cString(Array(block[345..<500]))
                if !prefix.isEmpty && magic == Array("ustar\0".utf8) { name = prefix + "/" + name }
            }
            if let longName { name = longName }
            if let p = pax["path"] { name = p }
            currentPath = name
            var link = Self.cString(Array(block[157..<257]))
            if let longLink { link = longLink }
            if let l = pax["linkpath"] { link = l }
            let kind: TarEntry.Kind
            switch type {
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = name.hasSuffix("/") ? .directory : .regular
            case UInt8(ascii: "1"): kind = .hardlink
            case UInt8(ascii: "2"): kind = .symlink
            case UInt8(ascii: "3"): kind = .characterDevice
            case UInt8(ascii: "4"): kind = .blockDevice
            case UInt8(ascii: "5"): kind = .directory
            case UInt8(ascii: "6"): kind = .fifo
            default:
                throw fail("its type '\(Self.shown(String(Unicode.Scalar(type))))' is not one stackship reads")
            }
            try refuseNUL(name, "path")
            try refuseNUL(link, "link target")
            let mode = try number("mode", 100, 8)
            guard mode >= 0 else { throw fail("its mode is negative (\(mode))") }
            var entry = TarEntry(path: Self.cleanPath(name), kind: kind, mode: UInt32(truncatingIfNeeded: mode) & 0o7777)
            entry.uid = try owner("uid", number("uid", 108, 8))
            entry.gid = try owner("gid", number("gid", 116, 8))
            entry.mtime = try number("mtime", 136, 12)
            entry.size = try size(number("size", 124, 12))
            entry.linkTarget = link
            entry.uname = Self.cString(Array(block[265..<297]))
            entry.gname = Self.cString(Array(block[297..<329]))
            if kind == .characterDevice || kind == .blockDevice {
                entry.deviceMajor = try device("devmajor", number("devmajor", 329, 8))
                entry.deviceMinor = try device("devminor", number("devminor", 337, 8))
            }
            for (k, v) in pax {
                switch k {
                case "path", "linkpath": break
                case "size": entry.size = try size(paxInteger(k, v))
                case "uid": entry.uid = try owner(k, paxInteger(k, v))
                case "gid": entry.gid = try owner(k, paxInteger(k, v))
                case "uname": try refuseNUL(v, "PAX uname"); entry.uname = v
                case "gname": try refuseNUL(v, "PAX gname"); entry.gname = v
                case "mtime": entry.mtime = try paxTime(v)
                case "atime", "ctime": break
                default: entry.extraPAXRecords[k] = v
                }
            }
            // Links, directories, devices and FIFOs are header-only: any size they declare is ignored.
            let dataSize: Int64 = kind == .regular ? entry.size : 0
            if kind != .regular { entry.size = 0 }
            remaining = dataSize
            padding = (512 - dataSize % 512) % 512
            return entry
        }
    }

    /// Reads up to `buffer.count` bytes of the current entry's content; 0 at its end.
    public func readContent(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if remaining <= 0 || buffer.isEmpty { return 0 }
        let want = Int(min(Int64(buffer.count), remaining))
        let n = try source.readFully(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
        offset += Int64(n)
        guard n == want else {
            throw fail("the archive is truncated inside its content, \(remaining - Int64(n)) bytes short")
        }
        remaining -= Int64(n)
        return n
    }

    /// Copies the current entry's content to `sink` (without finishing the sink).
    public func copyContent(to sink: ByteSink) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try readContent(into: buffer)
            if n == 0 { return }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    /// The current entry's content as bytes (for small files such as manifests).
    public func readContentData(limit: Int64 = 64 << 20) throws -> Data {
        guard remaining <= limit else { throw fail("its content is \(remaining) bytes where a small file of at most \(limit) was expected") }
        let sink = DataSink()
        try copyContent(to: sink)
        return sink.data
    }

    private func skipRemaining() throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while remaining > 0 { _ = try readContent(into: buffer) }
        if padding > 0 {
            let want = Int(min(padding, 511))
            let n = try source.readFully(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
            offset += Int64(n)
            guard n == want else { throw fail("the archive is truncated inside the padding after its content") }
            padding = 0
        }
    }

    private func readBlock() throws -> Bool {
        let n = try block.withUnsafeMutableBytes { try source.readFully(into: $0) }
        if n == 0 { return false }
        guard n == 512 else { throw fail("the archive is truncated inside this header (\(n) of 512 bytes)") }
        offset += 512
        return true
    }

    /// The content of an extended header (PAX records, a GNU long name), which must be small.
    private func readExtended() throws -> [UInt8] {
        let size = try number("size", 124, 12)
        guard size >= 0 && size <= Self.maxExtendedHeaderSize else {
            throw fail("its extended header declares \(size) bytes; at most \(Self.maxExtendedHeaderSize) are read")
        }
        remaining = size
        padding = (512 - size % 512) % 512
        let data = try readContentData()
        try skipRemaining()
        return Array(data)
    }

    // MARK: Fields

    /// Why a field or record could not be read (the reader adds which entry).
    struct FieldError: Error, Equatable {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    private func fail(_ reason: String) -> OCIError {
        .malformedTar(entry: currentPath, offset: currentOffset, reason: reason)
    }

    private func number(_ field: String, _ at: Int, _ width: Int) throws -> Int64 {
        do { return try Self.number(block, at, width) } catch let error as FieldError { throw fail("its \(field) field \(error.reason)") }
    }

    private func size(_ value: Int64) throws -> Int64 {
        guard value >= 0 else { throw fail("its size is negative (\(value))") }
        guard value <= Self.maxEntrySize else { throw fail("its size \(value) is beyond the \(Self.maxEntrySize) bytes an entry may hold") }
        return value
    }

    private func owner(_ field: String, _ value: Int64) throws -> Int {
        guard value >= 0 && value <= Int64(UInt32.max) else { throw fail("its \(field) \(value) is outside 0...\(UInt32.max)") }
        return Int(value)
    }

    private func device(_ field: String, _ value: Int64) throws -> UInt32 {
        guard let small = UInt32(exactly: value) else { throw fail("its \(field) \(value) is outside 0...\(UInt32.max)") }
        return small
    }

    private func refuseNUL(_ value: String, _ what: String) throws {
        guard !value.utf8.contains(0) else { throw fail("its \(what) contains a NUL byte") }
    }

    /// A PAX decimal: digits only (no sign: every such field is a count).
    private func paxInteger(_ key: String, _ value: String) throws -> Int64 {
        guard !value.isEmpty, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw fail("its PAX \(key) '\(Self.shown(value))' is not a decimal number")
        }
        guard let n = Int64(value) else { throw fail("its PAX \(key) '\(Self.shown(value))' overflows a 64-bit integer") }
        return n
    }

    /// A PAX time: `[-]SECONDS[.[FRACTION]]`; the fraction is dropped.
    private func paxTime(_ value: String) throws -> Int64 {
        let parts = value.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0].hasPrefix("-") ? parts[0].dropFirst() : parts[0]
        let digits = { (s: Substring) in !s.isEmpty && s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        guard digits(whole), parts.count == 1 || parts[1].isEmpty || digits(parts[1]) else {
            throw fail("its PAX mtime '\(Self.shown(value))' is not a decimal time")
        }
        guard let seconds = Int64(parts[0]) else { throw fail("its PAX mtime '\(Self.shown(value))' overflows a 64-bit integer") }
        return seconds
    }

    /// Parses PAX records, `"%d %s=%s\n"` each, where `%d` counts the whole record.
    static func parsePAX(_ bytes: [UInt8]) throws -> [String: String] {
        var out: [String: String] = [:]
        var i = 0
        while i < bytes.count {
            var j = i
            var length = 0
            while j < bytes.count, bytes[j] >= 0x30 && bytes[j] <= 0x39 {
                // Ten digits are more than a header of at most maxExtendedHeaderSize needs.
                guard j - i < 10 else { throw FieldError("a record at byte \(i) declares a length of more than ten digits") }
                length = length * 10 + Int(bytes[j] - 0x30)
                j += 1
            }
            guard j > i, j < bytes.count, bytes[j] == UInt8(ascii: " ") else {
                throw FieldError("the record at byte \(i) does not start with its length and a space")
            }
            guard length >= j - i + 3, length <= bytes.count - i else {
                throw FieldError("the record at byte \(i) declares \(length) bytes, which does not fit its text or the \(bytes.count - i) bytes left")
            }
            let end = i + length
            guard bytes[end - 1] == UInt8(ascii: "\n") else { throw FieldError("the record at byte \(i) does not end with a newline") }
            let body = bytes[(j + 1)..<(end - 1)]
            guard let eq = body.firstIndex(of: UInt8(ascii: "=")), eq > body.startIndex else {
                throw FieldError("the record at byte \(i) is not KEY=VALUE")
            }
            guard !body[..<eq].contains(0) else { throw FieldError("the key of the record at byte \(i) contains a NUL byte") }
            out[String(decoding: body[..<eq], as: UTF8.self)] = String(decoding: body[(eq + 1)...], as: UTF8.self)
            i = end
        }
        return out
    }

    static func checksumOK(_ h: [UInt8]) -> Bool {
        guard let stored = try? number(h, 148, 8) else { return false }
        var unsigned = 0
        var signed = 0
        for (i, b) in h.enumerated() {
            let v = (148..<156).contains(i) ? 0x20 : b
            unsigned += Int(v)
            signed += Int(Int8(bitPattern: v))
        }
        return Int64(unsigned) == stored || Int64(signed) == stored
    }

    /// A numeric header field: octal digits (NUL or space padded), or GNU base-256 when the
    /// first byte's 0x80 bit is set (big-endian two's complement, 0x40 the sign bit).
    static func number(_ h: [UInt8], _ offset: Int, _ width: Int) throws -> Int64 {
        let field = h[offset..<(offset + width)]
        if let first = field.first, first & 0x80 != 0 {
            // -a-1 == ~a: a negative number is read inverted, then inverted back.
            let invert: UInt8 = first & 0x40 != 0 ? 0xff : 0
            var v: UInt64 = 0
            for (i, byte) in field.enumerated() {
                var b = byte ^ invert
                if i == 0 { b &= 0x7f }
                guard v >> 56 == 0 else { throw FieldError("holds a base-256 number that overflows a 64-bit integer") }
                v = v << 8 | UInt64(b)
            }
            guard v >> 63 == 0 else { throw FieldError("holds a base-256 number that overflows a 64-bit integer") }
            return invert == 0xff ? ~Int64(v) : Int64(v)
        }
        var v: Int64 = 0
        var seen = false
        for b in field {
            if b == 0 || b == 0x20 { if seen { break } else { continue } }
            guard b >= 0x30 && b <= 0x37 else {
                throw FieldError("'\(shown(cString(Array(field))))' is not an octal number")
            }
            let (times, o1) = v.multipliedReportingOverflow(by: 8)
            let (sum, o2) = times.addingReportingOverflow(Int64(b - 0x30))
            guard !o1 && !o2 else { throw FieldError("holds an octal number that overflows a 64-bit integer") }
            v = sum
            seen = true
        }
        return v
    }

    static func cString(_ bytes: [UInt8]) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[0..<end], as: UTF8.self)
    }

    /// `text` fit for a one-line message: control characters escaped, at most 200 characters.
    static func shown(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(200) {
            if scalar.value < 0x20 || scalar.value == 0x7f { out += "\\u{\(String(scalar.value, radix: 16))}" } else { out.unicodeScalars.append(scalar) }
        }
        return text.unicodeScalars.count > 200 ? out + "…" : out
    }

    /// Strips leading `./` and `/` and a trailing `/` (the writer's form).
    static func cleanPath(_ p: String) -> String {
        var s = Substring(p)
        while s.hasPrefix("./") { s = s.dropFirst(2) }
        while s.hasPrefix("/") { s = s.dropFirst() }
        while s.hasSuffix("/") { s = s.dropLast() }
        return String(s)
    }
}
