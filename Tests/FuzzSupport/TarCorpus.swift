import Foundation
import Support
import OCI

/// Valid archives that between them reach every header form the tar reader knows: what
/// TarWriter writes, GNU long names and base-256 numbers, PAX local and global records, ustar
/// prefixes, v7 headers, devices, whiteouts, and the same streams gzip- and zstd-compressed.
/// The seeds of every tar fuzz test and of Fuzz/'s libFuzzer corpus.
public enum TarCorpus {
    /// Each seed archive, named.
    public static func archives() throws -> [(name: String, bytes: [UInt8])] {
        let kinds = try writerKinds()
        return [
            ("writer-kinds", kinds),
            ("writer-no-end-blocks", try writerNoEndBlocks()),
            ("gnu-long-names", gnuLongNames()),
            ("gnu-base256", gnuBase256()),
            ("pax-records", paxRecords()),
            ("ustar-prefix", ustarPrefix()),
            ("v7-old", v7Old()),
            ("whiteouts", try whiteouts()),
            ("empty", [UInt8](repeating: 0, count: 1024)),
            ("gzip-writer-kinds", try compressed(kinds, .gzip)),
            ("zstd-writer-kinds", try compressed(kinds, .zstd)),
        ]
    }

    /// What TarWriter writes for every kind of entry, with long names and link targets (PAX).
    static func writerKinds(finish: Bool = true) throws -> [UInt8] {
        let sink = DataSink()
        let w = TarWriter(sink: sink)
        try w.write(TarEntry(path: "dir", kind: .directory, mode: 0o755, mtime: 1_700_000_000))
        try w.write(TarEntry(path: "dir/file", kind: .regular, mode: 0o4755), content: Array("hello\n".utf8))
        try w.write(TarEntry(path: "dir/empty", kind: .regular, mode: 0o644))
        try w.write(TarEntry(path: "dir/blocks", kind: .regular, mode: 0o600), content: (0..<1500).map { UInt8($0 % 251) })
        try w.write(TarEntry(path: "dir/link", kind: .symlink, mode: 0o777, linkTarget: "file"))
        try w.write(TarEntry(path: "dir/hard", kind: .hardlink, mode: 0o644, linkTarget: "dir/file"))
        try w.write(TarEntry(path: String(repeating: "long/", count: 25) + "name", kind: .regular, mode: 0o644), content: [1, 2, 3])
        try w.write(TarEntry(path: "dir/longlink", kind: .symlink, mode: 0o777, linkTarget: String(repeating: "t", count: 150)))
        try w.write(TarEntry(path: "dir/ünïcode", kind: .regular, mode: 0o644), content: [4])
        try w.write(TarEntry(path: "dir/fifo", kind: .fifo, mode: 0o600))
        var chr = TarEntry(path: "dir/null", kind: .characterDevice, mode: 0o666)
        chr.deviceMajor = 1
        chr.deviceMinor = 3
        try w.write(chr)
        var blk = TarEntry(path: "dir/loop", kind: .blockDevice, mode: 0o660)
        blk.deviceMajor = 7
        blk.deviceMinor = 300
        try w.write(blk)
        var owned = TarEntry(path: "dir/owned", kind: .regular, mode: 0o640, mtime: -5)
        owned.uid = 1000
        owned.gid = 3_000_000
        owned.uname = "user"
        owned.gname = "group"
        owned.extraPAXRecords = ["SCHILY.xattr.user.note": "x"]
        try w.write(owned, content: [5, 6])
        if finish { try w.finish() }
        return [UInt8](sink.data)
    }

    static func writerNoEndBlocks() throws -> [UInt8] { try writerKinds(finish: false) }

    /// GNU tar's own format: `L`/`K` long names, the GNU magic.
    static func gnuLongNames() -> [UInt8] {
        var a = RawTarArchive()
        let longName = String(repeating: "gnu/", count: 40) + "file"
        a.appendExtended(type: "L", content: Array(longName.utf8) + [0], format: .gnu)
        a.append(RawTarHeader(name: String(longName.prefix(99)), type: "0", size: 4, format: .gnu), content: Array("gnu\n".utf8))
        let longTarget = String(repeating: "target/", count: 20)
        a.appendExtended(type: "K", content: Array(longTarget.utf8) + [0], format: .gnu)
        a.append(RawTarHeader(name: "gnu-symlink", type: "2", mode: 0o777, link: String(longTarget.prefix(99)), format: .gnu))
        a.appendExtended(type: "K", content: Array(longName.utf8) + [0], format: .gnu)
        a.append(RawTarHeader(name: "gnu-hardlink", type: "1", link: "x", format: .gnu))
        a.append(RawTarHeader(name: "gnu-dir/", type: "5", mode: 0o755, format: .gnu))
        return a.finished()
    }

    /// GNU base-256 numbers where octal does not reach: sizes, owners, a negative mtime.
    static func gnuBase256() -> [UInt8] {
        var a = RawTarArchive()
        var h = RawTarHeader(name: "b256-size", type: "0", format: .gnu)
        h.set(.size, base256: 700)
        h.set(.uid, base256: 70_000)
        h.set(.gid, base256: Int64(UInt32.max))
        h.set(.mtime, base256: -1_000)
        h.fixChecksum()
        a.append(h, content: [UInt8](repeating: 0x62, count: 700))
        var d = RawTarHeader(name: "b256-dev", type: "3", format: .gnu)
        d.set(.devmajor, base256: 259)
        d.set(.devminor, base256: 300_000)
        d.set(.mode, base256: 0o600)
        d.fixChecksum()
        a.append(d)
        return a.finished()
    }

    /// PAX local and global records for every key the reader maps, plus ones it keeps.
    static func paxRecords() -> [UInt8] {
        var a = RawTarArchive()
        a.appendPAX([("mtime", "1700000000.25"), ("comment", "global")], global: true)
        a.appendPAX([("path", "pax/ρath-with-ünicode"), ("size", "5"), ("uid", "123456789"), ("gid", "42"),
                     ("uname", "paxuser"), ("gname", "paxgroup"), ("mtime", "-12.5"), ("atime", "1"), ("ctime", "2"),
                     ("SCHILY.xattr.security.capability", "\u{1}cap")])
        a.append(RawTarHeader(name: "placeholder", type: "0", size: 0), content: Array("pax!\n".utf8))
        a.appendPAX([("linkpath", String(repeating: "l", count: 120))])
        a.append(RawTarHeader(name: "pax-symlink", type: "2", mode: 0o777))
        a.appendPAX([("path", "pax/dir/")])
        a.append(RawTarHeader(name: "ignored", type: "5", mode: 0o755))
        return a.finished()
    }

    /// ustar's prefix field carrying the directory part of a long path.
    static func ustarPrefix() -> [UInt8] {
        var a = RawTarArchive()
        var h = RawTarHeader(name: "file-in-prefix", type: "0", size: 3)
        h.set(.prefix, text: String(repeating: "p", count: 60) + "/" + String(repeating: "q", count: 60))
        h.fixChecksum()
        a.append(h, content: [7, 8, 9])
        return a.finished()
    }

    /// Pre-POSIX headers: no magic, NUL type for files, a trailing slash for directories, `7`.
    static func v7Old() -> [UInt8] {
        var a = RawTarArchive()
        var f = RawTarHeader(name: "v7-file", type: "0", size: 2, format: .v7)
        f.bytes[156] = 0
        f.fixChecksum()
        a.append(f, content: [1, 2])
        var d = RawTarHeader(name: "v7-dir/", type: "0", format: .v7)
        d.bytes[156] = 0
        d.fixChecksum()
        a.append(d)
        a.append(RawTarHeader(name: "contiguous", type: "7", size: 1), content: [3])
        return a.finished()
    }

    /// Whiteouts and opaque directories over the paths `UnpackFuzzTarget`'s base layer holds.
    static func whiteouts() throws -> [UInt8] {
        let sink = DataSink()
        let w = TarWriter(sink: sink)
        try w.write(TarEntry(path: "base/.wh.file", kind: .regular, mode: 0o644))
        try w.write(TarEntry(path: "base/sub/.wh..wh..opq", kind: .regular, mode: 0o644))
        try w.write(TarEntry(path: "base/sub/new", kind: .regular, mode: 0o644), content: [1])
        try w.write(TarEntry(path: "base/.wh.gone-dir", kind: .regular, mode: 0o644))
        try w.write(TarEntry(path: "base/file", kind: .regular, mode: 0o600), content: Array("again".utf8))
        try w.write(TarEntry(path: "base/deep/er/still", kind: .directory, mode: 0o700))
        try w.finish()
        return [UInt8](sink.data)
    }

    static func compressed(_ bytes: [UInt8], _ compression: Compression) throws -> [UInt8] {
        let sink = DataSink()
        let compressor: ByteSink = compression == .gzip ? GzipCompressor(next: sink) : try ZstdCompressor(next: sink)
        try bytes.withUnsafeBytes { try compressor.write($0) }
        try compressor.finish()
        return [UInt8](sink.data)
    }
}
