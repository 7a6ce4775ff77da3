import Foundation

/// Reads a tar stream: ustar and GNU headers, PAX extended (`x`) and global (`g`) headers,
/// GNU long names (`L`, `K`). Checksums are verified; a truncated archive is an error.
///
/// Call `next()` for each header, then optionally `readContent`; unread content is skipped.
public final class TarReader {
    private let source: ByteSource
    private var remaining: Int64 = 0
    private var padding: Int64 = 0
    private var block = [UInt8](repeating: 0, count: 512)
    private var globalPAX: [String: String] = [:]
    /// How many bytes of the stream were consumed.
    public private(set) var offset: Int64 = 0

    public init(source: ByteSource) {
        self.source = source
    }

    /// The next entry, or nil at the end of the archive.
    public func next() throws -> TarEntry? {
        try skipRemaining()
        var pax: [String: String] = globalPAX
        var longName: String?
        var longLink: String?
        while true {
            guard try readBlock() else { return nil } // EOF without end blocks: accepted, as GNU tar does
            if block.allSatisfy({ $0 == 0 }) {
                return nil
            }
            guard Self.checksumOK(block) else {
                throw OCIError.tar("bad header checksum at offset \(offset - 512); the archive is corrupt or not a tar file")
            }
            let type = block[156]
            let size = try Self.number(block, 124, 12)
            switch type {
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                let data = try readSmall(size)
                let records = try Self.parsePAX(data)
                if type == UInt8(ascii: "g") { globalPAX.merge(records) { $1 }; pax.merge(records) { $1 } } else { pax.merge(records) { $1 } }
                continue
            case UInt8(ascii: "L"):
                longName = Self.cString(Array(try readSmall(size)))
                continue
            case UInt8(ascii: "K"):
                longLink = Self.cString(Array(try readSmall(size)))
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
                throw OCIError.tar("entry '\(name)' has unsupported type '\(Character(Unicode.Scalar(type)))'")
            }
            var entry = TarEntry(path: Self.cleanPath(name), kind: kind, mode: UInt32(truncatingIfNeeded: try Self.number(block, 100, 8)) & 0o7777)
            entry.uid = Int(try Self.number(block, 108, 8))
            entry.gid = Int(try Self.number(block, 116, 8))
            entry.mtime = try Self.number(block, 136, 12)
            entry.size = size
            entry.linkTarget = link
            entry.uname = Self.cString(Array(block[265..<297]))
            entry.gname = Self.cString(Array(block[297..<329]))
            entry.deviceMajor = UInt32(truncatingIfNeeded: (try? Self.number(block, 329, 8)) ?? 0)
            entry.deviceMinor = UInt32(truncatingIfNeeded: (try? Self.number(block, 337, 8)) ?? 0)
            for (k, v) in pax {
                switch k {
                case "path", "linkpath": break
                case "size": if let s = Int64(v) { entry.size = s } else { throw OCIError.tar("bad PAX size '\(v)' for '\(name)'") }
                case "uid": entry.uid = Int(v) ?? entry.uid
                case "gid": entry.gid = Int(v) ?? entry.gid
                case "uname": entry.uname = v
                case "gname": entry.gname = v
                case "mtime": entry.mtime = Int64(v.split(separator: ".").first ?? "") ?? entry.mtime
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
        if remaining == 0 { return 0 }
        let want = Int(min(Int64(buffer.count), remaining))
        let n = try source.readFully(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
        guard n == want else { throw OCIError.tar("archive truncated inside an entry's content") }
        remaining -= Int64(n)
        offset += Int64(n)
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
        guard remaining <= limit else { throw OCIError.tar("entry larger than \(limit) bytes where a small file was expected") }
        let sink = DataSink()
        try copyContent(to: sink)
        return sink.data
    }

    private func skipRemaining() throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while remaining > 0 { _ = try readContent(into: buffer) }
        while padding > 0 {
            let n = try source.readFully(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(padding)]))
            guard n == Int(padding) else { throw OCIError.tar("archive truncated in padding") }
            offset += Int64(n)
            padding = 0
        }
    }

    private func readBlock() throws -> Bool {
        let n = try block.withUnsafeMutableBytes { try source.readFully(into: $0) }
        if n == 0 { return false }
        guard n == 512 else { throw OCIError.tar("archive truncated: a header is cut short at offset \(offset)") }
        offset += 512
        return true
    }

    private func readSmall(_ size: Int64) throws -> Data {
        guard size >= 0 && size < 16 << 20 else { throw OCIError.tar("extended header of \(size) bytes is too large") }
        remaining = size
        padding = (512 - size % 512) % 512
        let data = try readContentData()
        try skipRemaining()
        return data
    }

    static func parsePAX(_ data: Data) throws -> [String: String] {
        var out: [String: String] = [:]
        let bytes = Array(data)
        var i = 0
        while i < bytes.count {
            guard let space = bytes[i...].firstIndex(of: UInt8(ascii: " ")),
                  let length = Int(String(decoding: bytes[i..<space], as: UTF8.self)), length > 0, i + length <= bytes.count else {
                throw OCIError.tar("malformed PAX extended header")
            }
            let record = bytes[(space + 1)..<(i + length - 1)]
            if let eq = record.firstIndex(of: UInt8(ascii: "=")) {
                out[String(decoding: record[record.startIndex..<eq], as: UTF8.self)] = String(decoding: record[(eq + 1)...], as: UTF8.self)
            }
            i += length
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

    static func number(_ h: [UInt8], _ offset: Int, _ width: Int) throws -> Int64 {
        let field = h[offset..<(offset + width)]
        if let first = field.first, first & 0x80 != 0 {
            // GNU base-256 for large values.
            var v: Int64 = Int64(first & 0x7f)
            for b in field.dropFirst() { v = (v << 8) | Int64(b) }
            return v
        }
        var v: Int64 = 0
        var seen = false
        for b in field {
            if b == 0 || b == 0x20 { if seen { break } else { continue } }
            guard b >= 0x30 && b <= 0x37 else { throw OCIError.tar("bad octal number in header") }
            v = v * 8 + Int64(b - 0x30)
            seen = true
        }
        return v
    }

    static func cString(_ bytes: [UInt8]) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[0..<end], as: UTF8.self)
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
