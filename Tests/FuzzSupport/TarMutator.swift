/// Mutates tar streams the way an attacker or a broken disk would, while getting past the
/// header checksum often enough to reach the code behind it: bit flips, bytes set to 0x00,
/// 0x80, 0xff or '-', truncations, block splices, and header fields rewritten with hostile
/// values (negative and overflowing numbers in octal and base-256, NUL bytes and `..` in names,
/// bad PAX records) with the checksum fixed up.
public enum TarMutator {
    /// `input` with one to four mutations.
    public static func mutate(_ input: [UInt8], using rng: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + rng.below(4)) {
            mutateOnce(&bytes, using: &rng)
        }
        return bytes
    }

    static func mutateOnce(_ bytes: inout [UInt8], using rng: inout SeededGenerator) {
        let headers = headerOffsets(bytes)
        switch rng.below(100) {
        case 0..<15: // bit flip, the checksum fixed half the time
            guard !bytes.isEmpty else { return }
            let i = rng.below(bytes.count)
            bytes[i] ^= 1 << UInt8(rng.below(8))
            if rng.chance(50) { RawTarHeader.fixChecksum(&bytes, at: i - i % 512) }
        case 15..<25: // an interesting byte
            guard !bytes.isEmpty else { return }
            let i = rng.below(bytes.count)
            bytes[i] = rng.pick([0x00, 0x80, 0xff, UInt8(ascii: "-"), UInt8(ascii: " "), UInt8(ascii: "8"), UInt8(ascii: "/"), UInt8(ascii: ".")])
            if rng.chance(50) { RawTarHeader.fixChecksum(&bytes, at: i - i % 512) }
        case 25..<32: // truncation, often at or near a block boundary
            guard !bytes.isEmpty else { return }
            var cut = rng.below(bytes.count)
            if rng.chance(50) { cut = min(bytes.count, max(0, cut - cut % 512 + rng.pick([0, 1, 100, 511]))) }
            bytes.removeSubrange(cut...)
        case 32..<70: // a header field rewritten, checksum fixed
            guard let at = headers.isEmpty ? nil : rng.pick(headers) else { return }
            rewriteField(&bytes, header: at, using: &rng)
            RawTarHeader.fixChecksum(&bytes, at: at)
        case 70..<85: // an extended header inserted before an entry
            guard let at = headers.isEmpty ? nil : rng.pick(headers) else { return }
            bytes.insert(contentsOf: extendedHeader(using: &rng), at: at)
        case 85..<92: // a block copied over another (entries crossed with content)
            let blocks = bytes.count / 512
            guard blocks >= 2 else { return }
            let from = rng.below(blocks) * 512, to = rng.below(blocks) * 512
            let block = Array(bytes[from..<(from + 512)])
            bytes.replaceSubrange(to..<(to + 512), with: block)
        case 92..<96: // a block removed
            let blocks = bytes.count / 512
            guard blocks >= 1 else { return }
            let at = rng.below(blocks) * 512
            bytes.removeSubrange(at..<(at + 512))
        default: // a header duplicated
            guard let at = headers.isEmpty ? nil : rng.pick(headers) else { return }
            bytes.insert(contentsOf: Array(bytes[at..<(at + 512)]), at: at)
        }
    }

    /// Offsets of blocks that look like headers (the ustar magic, or a valid v7 checksum).
    static func headerOffsets(_ bytes: [UInt8]) -> [Int] {
        var out: [Int] = []
        var at = 0
        while at + 512 <= bytes.count {
            if bytes[at + 257] == UInt8(ascii: "u") && bytes[at + 258] == UInt8(ascii: "s") || (bytes[at] != 0 && bytes[at + 148] >= 0x30 && bytes[at + 148] <= 0x37) {
                out.append(at)
            }
            at += 512
        }
        return out
    }

    static func rewriteField(_ bytes: inout [UInt8], header at: Int, using rng: inout SeededGenerator) {
        let field = rng.pick(RawTarHeader.Field.allCases.filter { $0 != .checksum })
        let r = field.range
        let value: [UInt8]
        if field.isNumeric {
            value = number(width: r.count, using: &rng)
        } else if field == .typeflag {
            value = [rng.pick(Array("0123456789xgLKSVMDA\0".utf8))]
        } else if field == .magic {
            value = rng.pick([Array("ustar\0".utf8), Array("ustar ".utf8), [0, 0, 0, 0, 0, 0], Array("ustaR\0".utf8)])
        } else {
            value = name(using: &rng)
        }
        for i in r { bytes[at + i] = 0 }
        for (i, b) in value.prefix(r.count).enumerated() { bytes[at + r.lowerBound + i] = b }
    }

    /// A hostile number for a field of `width` bytes.
    static func number(width: Int, using rng: inout SeededGenerator) -> [UInt8] {
        let interesting: [Int64] = [0, 1, -1, 511, 512, 513, 1 << 20, Int64(UInt32.max), Int64(UInt32.max) + 1, 1 << 33, 1 << 56, (1 << 56) + 1,
                                    Int64.max, Int64.min, Int64.max - 511, -512]
        let v = rng.chance(80) ? rng.pick(interesting) : Int64(bitPattern: rng.next())
        switch rng.below(6) {
        case 0, 1: return RawTarHeader.octal(v, width: width)
        case 2, 3: return RawTarHeader.base256(v, width: width)
        case 4: // base-256 that overflows Int64: a marker and all bits set
            return [rng.pick([0x80, 0xbf, 0xc0, 0xff])] + [UInt8](repeating: rng.pick([0xff, 0x7f, 0x80, 0x00]), count: width - 1)
        default: // text where digits belong
            return Array(rng.pick(["-1", "-0", "+7", "9", "0x10", "1e3", " 17 ", "\u{0}17", "777777777777777777", "nan", ""]).utf8)
        }
    }

    /// A hostile name or link target.
    static func name(using rng: inout SeededGenerator) -> [UInt8] {
        let names = ["..", ".", "/", "../escape", "a/../../b", "/etc/passwd", ".wh...", ".wh..", ".wh.", ".wh..wh..opq", "dir/.wh..wh..opq",
                     "dir/.wh.file", "dir/file", "dir/link/through", "dir", "dir/", "./dir/./file", "a\u{0}b", String(repeating: "n", count: 100),
                     String(repeating: "x/", count: 50), "\u{FF}\u{FE}", "dir/link", "base/file", "base/sub", "base/.wh.file"]
        var out = Array(rng.pick(names).utf8)
        if rng.chance(10) { out = [UInt8](repeating: 0xff, count: 1 + rng.below(99)) }
        return out
    }

    /// An extended header (PAX `x`/`g`, GNU `L`/`K`) with hostile records.
    static func extendedHeader(using rng: inout SeededGenerator) -> [UInt8] {
        var archive = RawTarArchive()
        let type = rng.pick(["x", "x", "x", "g", "L", "K"] as [Character])
        if type == "L" || type == "K" {
            archive.appendExtended(type: type, content: name(using: &rng) + (rng.chance(70) ? [0] : []), format: .gnu)
            return archive.bytes
        }
        var content: [UInt8] = []
        for _ in 0..<(1 + rng.below(3)) {
            let key = rng.pick(["size", "size", "path", "linkpath", "uid", "gid", "mtime", "uname", "gname", "atime", "SCHILY.xattr.user.a", "hdrcharset"])
            let value: [UInt8]
            switch key {
            case "path", "linkpath", "uname", "gname": value = name(using: &rng)
            default: value = Array(rng.pick(["-1", "0", "5", "512", "9223372036854775807", "9223372036854775808", "72057594037927937",
                                             "4294967296", "-4294967296", "1.5", "-1.5", "1.", ".5", "", "abc", "1e9", "+3", " 4"]).utf8)
            }
            var record = RawTarHeader.paxRecord(key, value)
            switch rng.below(10) {
            case 0: // a length that points before the '=' or past the end
                let lie = rng.pick(["1", "2", "3", "0", "-5", "99999", "18446744073709551616", "9223372036854775807", ""])
                let space = record.firstIndex(of: 0x20) ?? 0
                record = Array(lie.utf8) + record[space...]
            case 1: // no newline at the end
                record.removeLast()
            case 2: // no space after the length
                if let space = record.firstIndex(of: 0x20) { record.remove(at: space) }
            default: break
            }
            content += record
        }
        if rng.chance(5) { content += [0, 0, 0] }
        archive.appendExtended(type: type, content: content)
        return archive.bytes
    }
}
