import Foundation
import Support

/// Writes a deterministic tar stream (POSIX ustar, with PAX extended headers for long names,
/// long link targets, large files and non-ASCII names) to a sink.
///
/// Owners are written as given (the layer builder normalises them to 0); the PAX headers carry
/// no times or process IDs, so the same entries always give the same bytes.
public final class TarWriter {
    private let sink: ByteSink
    private var header = [UInt8](repeating: 0, count: 512)
    private static let zeros = [UInt8](repeating: 0, count: 1024)
    /// Bytes written so far.
    public private(set) var bytesWritten: Int64 = 0

    public init(sink: ByteSink) {
        self.sink = sink
    }

    /// Writes an entry header; for a regular file, follow with exactly `entry.size` bytes
    /// through `writeContent` and then `finishContent`.
    public func writeHeader(_ entry: TarEntry) throws {
        var name = entry.path
        if entry.kind == .directory && !name.hasSuffix("/") { name += "/" }
        var pax: [(String, String)] = []
        let nameBytes = Array(name.utf8)
        let isASCII = nameBytes.allSatisfy { $0 < 0x80 }
        if nameBytes.count > 100 || !isASCII { pax.append(("path", name)) }
        let linkBytes = Array(entry.linkTarget.utf8)
        if linkBytes.count > 100 || !linkBytes.allSatisfy({ $0 < 0x80 }) { pax.append(("linkpath", entry.linkTarget)) }
        if entry.size > 0o77777777777 { pax.append(("size", String(entry.size))) }
        if entry.uid > 0o7777777 { pax.append(("uid", String(entry.uid))) }
        if entry.gid > 0o7777777 { pax.append(("gid", String(entry.gid))) }
        if entry.mtime < 0 || entry.mtime > 0o77777777777 { pax.append(("mtime", String(entry.mtime))) }
        for (k, v) in entry.extraPAXRecords.sorted(by: { $0.key < $1.key }) { pax.append((k, v)) }

        if !pax.isEmpty {
            var body = [UInt8]()
            for (key, value) in pax { body += Self.paxRecord(key, value) }
            let base = (name as NSString).lastPathComponent
            try writeRawHeader(name: Array(("PaxHeaders/" + base).utf8.prefix(100)), mode: 0o644, uid: 0, gid: 0,
                               size: Int64(body.count), mtime: 0, type: UInt8(ascii: "x"), link: [], uname: [], gname: [], major: 0, minor: 0)
            try emit(body)
            try pad(Int64(body.count))
        }
        let size: Int64 = entry.kind == .regular ? entry.size : 0
        try writeRawHeader(
            name: Array(nameBytes.prefix(100)), mode: entry.mode & 0o7777, uid: min(entry.uid, 0o7777777), gid: min(entry.gid, 0o7777777),
            size: min(size, 0o77777777777), mtime: max(0, min(entry.mtime, 0o77777777777)), type: entry.kind.rawValue,
            link: Array(linkBytes.prefix(100)), uname: Array(entry.uname.utf8.prefix(32)), gname: Array(entry.gname.utf8.prefix(32)),
            major: entry.deviceMajor, minor: entry.deviceMinor)
    }

    /// Writes file content (the caller writes exactly the size it declared).
    @inline(__always)
    public func writeContent(_ bytes: UnsafeRawBufferPointer) throws {
        try sink.write(bytes)
        bytesWritten += Int64(bytes.count)
    }

    /// Pads the content of an entry of `size` bytes to the 512-byte boundary.
    public func finishContent(size: Int64) throws { try pad(size) }

    /// Writes a whole entry whose content is in memory.
    public func write(_ entry: TarEntry, content: [UInt8] = []) throws {
        var e = entry
        if e.kind == .regular { e.size = Int64(content.count) }
        try writeHeader(e)
        if !content.isEmpty {
            try content.withUnsafeBytes { try writeContent($0) }
            try pad(Int64(content.count))
        }
    }

    /// Writes the two zero blocks that end an archive, then finishes the sink.
    public func finish() throws {
        try emit(Self.zeros)
        try sink.finish()
    }

    private func pad(_ size: Int64) throws {
        let rem = Int(size % 512)
        if rem != 0 { try emit(Self.zeros[0..<(512 - rem)]) }
    }

    private func emit<C: Collection<UInt8>>(_ bytes: C) throws {
        try bytes.withContiguousStorageIfAvailable { try sink.write(UnsafeRawBufferPointer($0)) } ?? {
            try Array(bytes).withUnsafeBytes { try sink.write($0) }
        }()
        bytesWritten += Int64(bytes.count)
    }

    static func paxRecord(_ key: String, _ value: String) -> [UInt8] {
        // "%d %s=%s\n" where %d counts the whole record, itself included.
        let payload = Array(" \(key)=\(value)\n".utf8)
        var length = payload.count + 1
        while String(length).utf8.count + payload.count != length { length += 1 }
        return Array(String(length).utf8) + payload
    }

    private func writeRawHeader(name: [UInt8], mode: UInt32, uid: Int, gid: Int, size: Int64, mtime: Int64, type: UInt8,
                                link: [UInt8], uname: [UInt8], gname: [UInt8], major: UInt32, minor: UInt32) throws {
        for i in 0..<512 { header[i] = 0 }
        Self.put(&header, 0, name)
        Self.octal(&header, 100, 8, Int64(mode))
        Self.octal(&header, 108, 8, Int64(uid))
        Self.octal(&header, 116, 8, Int64(gid))
        Self.octal(&header, 124, 12, size)
        Self.octal(&header, 136, 12, mtime)
        for i in 148..<156 { header[i] = 0x20 }
        header[156] = type
        Self.put(&header, 157, link)
        Self.put(&header, 257, Array("ustar\0".utf8))
        Self.put(&header, 263, Array("00".utf8))
        Self.put(&header, 265, uname)
        Self.put(&header, 297, gname)
        if type == TarEntry.Kind.characterDevice.rawValue || type == TarEntry.Kind.blockDevice.rawValue {
            Self.octal(&header, 329, 8, Int64(major))
            Self.octal(&header, 337, 8, Int64(minor))
        }
        var sum = 0
        for b in header { sum += Int(b) }
        Self.octal(&header, 148, 7, Int64(sum))
        header[155] = 0x20
        try emit(header)
    }

    private static func put(_ h: inout [UInt8], _ offset: Int, _ bytes: [UInt8]) {
        for (i, b) in bytes.enumerated() { h[offset + i] = b }
    }

    /// Zero-padded octal in `width - 1` digits plus a NUL, as GNU tar and bsdtar write.
    private static func octal(_ h: inout [UInt8], _ offset: Int, _ width: Int, _ value: Int64) {
        var v = value
        var i = offset + width - 2
        h[offset + width - 1] = 0
        while i >= offset {
            h[i] = UInt8(ascii: "0") + UInt8(v & 7)
            v >>= 3
            i -= 1
        }
    }
}
