import Foundation
import Support
import FuzzSupport
import Testing
@testable import OCI

/// Hostile tar headers (issue 16, item 2): each is refused with an `OCIError.malformedTar` that
/// names the entry (or the header's offset) and what is wrong, in one line, where the reader
/// used to trap (SIGILL) or pass a bad value on to C calls.
@Suite struct TarHostileInputTests {
    /// Reads every entry and its content; the error, if any.
    static func readAll(_ bytes: [UInt8]) -> (entries: [TarEntry], error: OCIError?) {
        let reader = TarReader(source: DataSource(Data(bytes)))
        var entries: [TarEntry] = []
        do {
            while let entry = try reader.next() {
                entries.append(entry)
                _ = try reader.readContentData(limit: 1 << 20)
            }
            return (entries, nil)
        } catch {
            return (entries, error as? OCIError)
        }
    }

    /// The reason a malformed archive was refused, after checking that the error names `entry`
    /// (nil: the header's offset only) at header offset `offset`, and is one line.
    static func refusal(_ bytes: [UInt8], entry: String?, offset: Int64 = 0, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        guard case let .malformedTar(named, at, reason)? = readAll(bytes).error else {
            Issue.record("not refused as a malformed tar: \(readAll(bytes))", sourceLocation: sourceLocation)
            return ""
        }
        #expect(named == entry, sourceLocation: sourceLocation)
        #expect(at == offset, sourceLocation: sourceLocation)
        let text = OCIError.malformedTar(entry: named, offset: at, reason: reason).description
        #expect(!text.contains("\n") && text.contains("byte \(offset)"), "\(text)", sourceLocation: sourceLocation)
        return reason
    }

    static func archive(paxFor path: String, _ records: [(String, String)], type: Character = "0", size: Int64 = 0, content: [UInt8] = []) -> [UInt8] {
        var a = RawTarArchive()
        a.appendPAX(records)
        a.append(RawTarHeader(name: path, type: type, size: size), content: content)
        return a.finished()
    }

    static func archive(_ header: RawTarHeader, content: [UInt8] = []) -> [UInt8] {
        var a = RawTarArchive()
        a.append(header, content: content)
        return a.finished()
    }

    static func header(_ name: String, type: Character = "0", _ change: (inout RawTarHeader) -> Void) -> RawTarHeader {
        var h = RawTarHeader(name: name, type: type, format: .gnu)
        change(&h)
        h.fixChecksum()
        return h
    }

    @Test func negativePAXSizeIsRefused() {
        // Used to trap in readContent: buffer[0..<want] with want = -1.
        let reason = Self.refusal(Self.archive(paxFor: "evil", [("size", "-1")]), entry: "evil", offset: 1024)
        #expect(reason.contains("PAX size '-1' is not a decimal number"), "\(reason)")
    }

    @Test func paxSizesThatAreNotCountsAreRefused() {
        for value in ["", "abc", "+5", " 5", "5 ", "1e3", "0x10", "9223372036854775808", "99999999999999999999"] {
            #expect(Self.readAll(Self.archive(paxFor: "f", [("size", value)])).error != nil, "size=\(value)")
        }
        let huge = Self.refusal(Self.archive(paxFor: "f", [("size", "9223372036854775807")]), entry: "f", offset: 1024)
        #expect(huge.contains("beyond"), "\(huge)")
    }

    @Test func negativeBase256SizeIsRefused() {
        let reason = Self.refusal(Self.archive(Self.header("neg") { $0.set(.size, base256: -1) }), entry: "neg")
        #expect(reason.contains("size is negative (-1)"), "\(reason)")
    }

    @Test func base256NumbersThatOverflowAreRefused() {
        // 0x80 then eleven 0xff bytes: 2^88 - 1, far past Int64.
        let overflow = Self.refusal(Self.archive(Self.header("big") { $0.set(.size, raw: [0x80] + [UInt8](repeating: 0xff, count: 11)) }), entry: "big")
        #expect(overflow.contains("overflows a 64-bit integer"), "\(overflow)")
        // Exactly Int64.max fits the number but not an entry.
        let max = Self.refusal(Self.archive(Self.header("max") { $0.set(.size, base256: .max) }), entry: "max")
        #expect(max.contains("beyond"), "\(max)")
        // A negative number below Int64.min.
        let low = Self.refusal(Self.archive(Self.header("low") { $0.set(.mtime, raw: [0xff, 0x00] + [UInt8](repeating: 0, count: 10)) }), entry: "low")
        #expect(low.contains("mtime field"), "\(low)")
    }

    @Test func base256ValuesInRangeAreRead() throws {
        let bytes = Self.archive(Self.header("ok") {
            $0.set(.size, base256: 3)
            $0.set(.uid, base256: Int64(UInt32.max))
            $0.set(.mtime, base256: -1000)
        }, content: [1, 2, 3])
        let (entries, error) = Self.readAll(bytes)
        #expect(error == nil)
        #expect(entries.first?.size == 3 && entries.first?.uid == Int(UInt32.max) && entries.first?.mtime == -1000)
    }

    @Test func nonOctalNumbersAreRefused() {
        for (field, text) in [(RawTarHeader.Field.size, "12a"), (.mode, "-1"), (.uid, "8"), (.mtime, "0x10")] {
            let reason = Self.refusal(Self.archive(Self.header("f") { $0.set(field, text: text) }), entry: "f")
            #expect(reason.contains("is not an octal number"), "\(field): \(reason)")
        }
    }

    @Test func ownersOutsideUInt32AreRefused() {
        // Callers pass entry.uid to uid_t(...), which traps on a negative.
        for (key, value) in [("uid", "4294967296"), ("gid", "99999999999"), ("uid", "-1")] {
            #expect(Self.readAll(Self.archive(paxFor: "o", [(key, value)])).error != nil, "\(key)=\(value)")
        }
        let reason = Self.refusal(Self.archive(Self.header("o") { $0.set(.gid, base256: -2) }), entry: "o")
        #expect(reason.contains("gid -2 is outside 0...4294967295"), "\(reason)")
    }

    @Test func paxRecordLengthsThatLieAreRefused() {
        // parsePAX sliced bytes[(space + 1)..<(i + length - 1)], which traps when the bounds cross.
        let records: [[UInt8]] = [
            Array("3 size=5\n".utf8), Array("1 a=b\n".utf8), Array("0 a=b\n".utf8), Array("99 path=x\n".utf8),
            Array("9223372036854775807 path=x\n".utf8), Array("18446744073709551616 path=x\n".utf8),
            Array("-5 path=x\n".utf8), Array("11 path=x\u{0}".utf8), Array("10 path=x\n".utf8).dropLast() + [0x41],
            Array("6 =xy\n".utf8), Array("7 novalue\n".utf8), Array("path=x\n".utf8), Array("5 a=b\n5 a=b".utf8),
        ]
        for record in records {
            var a = RawTarArchive()
            a.appendExtended(type: "x", content: record)
            a.append(RawTarHeader(name: "after", type: "0"))
            let reason = Self.refusal(a.finished(), entry: nil)
            #expect(reason.contains("PAX header is malformed"), "\(String(decoding: record, as: UTF8.self).debugDescription): \(reason)")
        }
    }

    @Test func namesWithANULAreRefused() {
        let path = Self.refusal(Self.archive(paxFor: "short", [("path", "a\u{0}..")]), entry: "a\u{0}..", offset: 1024)
        #expect(path.contains("path contains a NUL byte"), "\(path)")
        let link = Self.refusal(Self.archive(paxFor: "l", [("linkpath", "/etc\u{0}x")], type: "2"), entry: "l", offset: 1024)
        #expect(link.contains("link target contains a NUL byte"), "\(link)")
        let owner = Self.refusal(Self.archive(paxFor: "u", [("uname", "ro\u{0}ot")]), entry: "u", offset: 1024)
        #expect(owner.contains("uname contains a NUL byte"), "\(owner)")
        // The message shows the NUL escaped: it stays one line and prints.
        #expect(OCIError.malformedTar(entry: "a\u{0}\n", offset: 0, reason: "r").description.contains("a\\u{0}\\u{a}"))
    }

    @Test func contentPastTheEndIsRefusedNamingTheEntry() {
        var a = RawTarArchive()
        a.append(RawTarHeader(name: "first", type: "0", size: 1), content: [1])
        a.append(RawTarHeader(name: "cut", type: "0", size: 5000))
        let reason = Self.refusal(a.bytes + [UInt8](repeating: 7, count: 100), entry: "cut", offset: 1024)
        #expect(reason.contains("truncated inside its content, 4900 bytes short"), "\(reason)")
        let header = Self.refusal(Array(a.bytes.prefix(1024 + 100)), entry: nil, offset: 1024)
        #expect(header.contains("truncated inside this header (100 of 512 bytes)"), "\(header)")
    }

    @Test func devicesOutsideUInt32AreRefused() {
        let reason = Self.refusal(Self.archive(Self.header("dev", type: "3") { $0.set(.devmajor, base256: 1 << 40) }), entry: "dev")
        #expect(reason.contains("devmajor"), "\(reason)")
        // A non-device's device fields are not read.
        #expect(Self.readAll(Self.archive(Self.header("file") { $0.set(.devmajor, text: "zz") })).error == nil)
    }

    @Test func paxTimesAreReadStrictly() {
        for (value, seconds) in [("1.5", Int64(1)), ("-12.5", -12), ("7.", 7), ("1700000000", 1_700_000_000)] {
            let (entries, error) = Self.readAll(Self.archive(paxFor: "t", [("mtime", value)]))
            #expect(error == nil && entries.first?.mtime == seconds, "mtime=\(value)")
        }
        for value in ["", "abc", ".5", "1.5.5", "--1", "1e9", "99999999999999999999"] {
            #expect(Self.readAll(Self.archive(paxFor: "t", [("mtime", value)])).error != nil, "mtime=\(value)")
        }
    }

    @Test func extendedHeadersBeyondTheLimitAreRefused() {
        var h = RawTarHeader(name: "L", type: "L", format: .gnu)
        h.set(.size, base256: 1 << 40)
        h.fixChecksum()
        let reason = Self.refusal(h.bytes + [UInt8](repeating: 0, count: 1024), entry: nil)
        #expect(reason.contains("extended header declares"), "\(reason)")
    }
}
