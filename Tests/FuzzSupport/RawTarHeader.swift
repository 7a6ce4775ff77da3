/// A tar header block built field by field, so tests can write what no well-behaved writer
/// would (GNU base-256 numbers, negative values, NUL bytes in names) with a valid checksum.
public struct RawTarHeader {
    /// The header fields and where they lie in the 512-byte block.
    public enum Field: CaseIterable, Sendable {
        case name, mode, uid, gid, size, mtime, checksum, typeflag, linkname, magic, version, uname, gname, devmajor, devminor, prefix

        /// The field's bytes in the block.
        public var range: Range<Int> {
            switch self {
            case .name: return 0..<100
            case .mode: return 100..<108
            case .uid: return 108..<116
            case .gid: return 116..<124
            case .size: return 124..<136
            case .mtime: return 136..<148
            case .checksum: return 148..<156
            case .typeflag: return 156..<157
            case .linkname: return 157..<257
            case .magic: return 257..<263
            case .version: return 263..<265
            case .uname: return 265..<297
            case .gname: return 297..<329
            case .devmajor: return 329..<337
            case .devminor: return 337..<345
            case .prefix: return 345..<500
            }
        }

        /// Whether the field holds a number.
        public var isNumeric: Bool {
            switch self {
            case .mode, .uid, .gid, .size, .mtime, .checksum, .devmajor, .devminor: return true
            default: return false
            }
        }
    }

    /// The POSIX (`ustar\0` `00`) and GNU (`ustar ` ` \0`) magic, or none (v7).
    public enum Format: Sendable { case posix, gnu, v7 }

    /// The 512 bytes; `fixChecksum()` after changing them.
    public var bytes = [UInt8](repeating: 0, count: 512)

    /// A header with the usual fields set and its checksum fixed.
    public init(name: String, type: Character, size: Int64 = 0, mode: Int64 = 0o644, link: String = "", format: Format = .posix) {
        set(.name, text: name)
        set(.mode, octal: mode)
        set(.uid, octal: 0)
        set(.gid, octal: 0)
        set(.size, octal: size)
        set(.mtime, octal: 1_700_000_000)
        bytes[156] = type.asciiValue ?? 0x30
        set(.linkname, text: link)
        switch format {
        case .posix: set(.magic, raw: Array("ustar\0".utf8)); set(.version, raw: Array("00".utf8))
        case .gnu: set(.magic, raw: Array("ustar ".utf8)); set(.version, raw: [0x20, 0])
        case .v7: break
        }
        fixChecksum()
    }

    /// Replaces a field with `raw` (cut or NUL-padded to its width).
    public mutating func set(_ field: Field, raw: [UInt8]) {
        let r = field.range
        for i in r { bytes[i] = 0 }
        for (i, b) in raw.prefix(r.count).enumerated() { bytes[r.lowerBound + i] = b }
    }

    /// Writes text (UTF-8, cut to the field's width).
    public mutating func set(_ field: Field, text: String) { set(field, raw: Array(text.utf8)) }

    /// Writes zero-padded octal and a NUL terminator, as GNU tar does.
    public mutating func set(_ field: Field, octal value: Int64) { set(field, raw: Self.octal(value, width: field.range.count)) }

    /// Writes GNU base-256: the 0x80 marker, then two's complement big-endian.
    public mutating func set(_ field: Field, base256 value: Int64) { set(field, raw: Self.base256(value, width: field.range.count)) }

    /// Recomputes the checksum over the block as it now is.
    public mutating func fixChecksum() { Self.fixChecksum(&bytes, at: 0) }

    /// `value` in `width - 1` octal digits and a NUL (the high digits are lost if it does not fit).
    public static func octal(_ value: Int64, width: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0x30, count: width - 1)
        var v = UInt64(bitPattern: value)
        for i in stride(from: width - 2, through: 0, by: -1) {
            out[i] = 0x30 + UInt8(v & 7)
            v >>= 3
        }
        return out + [0]
    }

    /// `value` as GNU base-256 in `width` bytes: 0x80 (or 0xff for a negative number) first.
    public static func base256(_ value: Int64, width: Int) -> [UInt8] {
        var out = [UInt8](repeating: value < 0 ? 0xff : 0, count: width)
        var v = value
        for i in stride(from: width - 1, through: 1, by: -1) {
            out[i] = UInt8(truncatingIfNeeded: v)
            v >>= 8
        }
        out[0] = value < 0 ? 0xff : 0x80
        return out
    }

    /// Recomputes the checksum of the 512-byte block at `offset` of `archive`.
    public static func fixChecksum(_ archive: inout [UInt8], at offset: Int) {
        guard offset >= 0, offset + 512 <= archive.count else { return }
        for i in 148..<156 { archive[offset + i] = 0x20 }
        var sum = 0
        for i in 0..<512 { sum += Int(archive[offset + i]) }
        let digits = octal(Int64(sum), width: 7)
        for (i, b) in digits.enumerated() { archive[offset + 148 + i] = b }
        archive[offset + 155] = 0x20
    }

    /// A PAX record, `"%d %s=%s\n"`, whose length counts itself.
    public static func paxRecord(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let payload = Array(" \(key)=".utf8) + value + [0x0A]
        var length = payload.count + 1
        while String(length).utf8.count + payload.count != length { length += 1 }
        return Array(String(length).utf8) + payload
    }

    /// A PAX record with a text value.
    public static func paxRecord(_ key: String, _ value: String) -> [UInt8] { paxRecord(key, Array(value.utf8)) }
}
