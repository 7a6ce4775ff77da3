import Foundation
import Support
import Testing
@testable import OCI

@Suite struct TarTests {
    @Test func roundTripsEveryKind() throws {
        let sink = DataSink()
        let w = TarWriter(sink: sink)
        let longName = String(repeating: "d/", count: 60) + "file-with-a-long-name.txt"
        let longLink = "/" + String(repeating: "x", count: 150)
        try w.write(TarEntry(path: "dir", kind: .directory, mode: 0o755))
        try w.write(TarEntry(path: "dir/file", kind: .regular, mode: 0o4755), content: Array("hello".utf8))
        try w.write(TarEntry(path: "dir/link", kind: .symlink, mode: 0o777, linkTarget: "file"))
        try w.write(TarEntry(path: "dir/hard", kind: .hardlink, mode: 0o644, linkTarget: "dir/file"))
        try w.write(TarEntry(path: longName, kind: .regular, mode: 0o600), content: Array(repeating: 7, count: 1000))
        try w.write(TarEntry(path: "longlink", kind: .symlink, mode: 0o777, linkTarget: longLink))
        try w.write(TarEntry(path: "ünïcode", kind: .regular, mode: 0o644), content: [1])
        try w.finish()
        #expect(sink.data.count % 512 == 0)

        let r = TarReader(source: DataSource(sink.data))
        var seen: [TarEntry] = []
        var contents: [String: Data] = [:]
        while let e = try r.next() {
            seen.append(e)
            if e.kind == .regular { contents[e.path] = try r.readContentData() }
        }
        #expect(seen.map(\.path) == ["dir", "dir/file", "dir/link", "dir/hard", longName, "longlink", "ünïcode"])
        #expect(seen[0].kind == .directory)
        #expect(seen[1].mode == 0o4755)
        #expect(contents["dir/file"] == Data("hello".utf8))
        #expect(seen[2].linkTarget == "file")
        #expect(seen[3].kind == .hardlink && seen[3].linkTarget == "dir/file")
        #expect(contents[longName]?.count == 1000)
        #expect(seen[5].linkTarget == longLink)
        #expect(contents["ünïcode"] == Data([1]))
    }

    @Test func headerOnlyEntriesIgnoreADeclaredSize() throws {
        // Some writers put the target's size on a hardlink header; the entry still has no data.
        let sink = DataSink()
        let w = TarWriter(sink: sink)
        try w.writeHeader(TarEntry(path: "dir", kind: .directory, mode: 0o755))
        try w.write(TarEntry(path: "next", kind: .regular, mode: 0o644), content: [9])
        try w.finish()
        var bytes = [UInt8](sink.data)
        // Declare a size of 1000 on the directory header and fix its checksum.
        let size = Array(String(format: "%011o", 1000).utf8)
        for (i, b) in size.enumerated() { bytes[124 + i] = b }
        for i in 148..<156 { bytes[i] = 0x20 }
        let sum = bytes[0..<512].reduce(0) { $0 + Int($1) }
        for (i, b) in Array(String(format: "%06o", sum).utf8).enumerated() { bytes[148 + i] = b }
        bytes[154] = 0
        let entries = try listTar(Data(bytes))
        #expect(entries.map(\.path) == ["dir", "next"])
        #expect(entries[0].size == 0)
    }

    @Test func largeSizesUsePAX() throws {
        let sink = DataSink()
        let w = TarWriter(sink: sink)
        try w.writeHeader(TarEntry(path: "big", kind: .regular, mode: 0o644, size: 10 << 30))
        let text = String(decoding: sink.data, as: UTF8.self)
        #expect(text.contains("size=\(10 << 30)"))
    }

    @Test func paxRecordLengthCountsItself() {
        for value in ["", "a", String(repeating: "v", count: 88), String(repeating: "v", count: 993)] {
            let record = TarWriter.paxRecord("path", value)
            let declared = Int(String(decoding: record.prefix { $0 != 0x20 }, as: UTF8.self))
            #expect(declared == record.count)
        }
    }

    @Test func corruptHeaderIsRefused() throws {
        let sink = DataSink()
        let w = TarWriter(sink: sink)
        try w.write(TarEntry(path: "f", kind: .regular, mode: 0o644), content: [1, 2, 3])
        try w.finish()
        var bytes = sink.data
        bytes[0] = UInt8(ascii: "g")
        #expect { _ = try TarReader(source: DataSource(bytes)).next() } throws: { "\($0)".contains("checksum") }
        let truncated = sink.data.prefix(600)
        #expect {
            let r = TarReader(source: DataSource(Data(truncated)))
            _ = try r.next()
            _ = try r.readContentData()
            _ = try r.next()
        } throws: { "\($0)".contains("truncated") }
    }

    @Test func pathOrderIsDepthFirst() {
        let paths = ["a-c", "a/b", "a", "a/b/c", "b", "a.d"]
        #expect(paths.sorted(by: tarPathPrecedes) == ["a", "a/b", "a/b/c", "a-c", "a.d", "b"])
    }
}
