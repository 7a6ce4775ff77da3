import Foundation
import Support
import StackshipTesting
import Testing
@testable import OCI

@Suite struct LayerBuilderTests {
    func makeTree(_ t: TempDir) throws {
        try t.file("src/bin/app", "#!/bin/sh\necho hi\n", mode: 0o755)
        try t.file("src/etc/app.conf", "port=80\n")
        try t.file("src/etc/secret.tmp", "skip me\n")
        try t.dir("src/empty")
        try t.link("src/bin/app-link", to: "app")
        try t.file("src/" + String(repeating: "n", count: 120) + "/deep.txt", "long path\n")
    }

    func build(_ src: String, _ dest: String = "/app", compression: Compression = .gzip, exclude: [String] = [], store: OCILayoutStore) throws -> BuiltLayer {
        try LayerBuilder.build([LayerSource(source: src, destination: dest, exclude: exclude)], options: LayerOptions(compression: compression), into: store)
    }

    @Test func sameTreeSameDigestRegardlessOfMtimeAndCopy() throws {
        let t = TempDir("layer")
        try makeTree(t)
        let store = try OCILayoutStore(root: t.path + "/store")
        let first = try build(t.path + "/src", store: store)
        let again = try build(t.path + "/src", store: store)
        #expect(first == again)
        // A copy with other mtimes (and, as root, other owners) gives the same layer.
        #expect(try runProgram("cp", ["-a", t.path + "/src", t.path + "/copy"]).status == 0)
        #expect(try runProgram("touch", ["-d", "2001-02-03 04:05:06", t.path + "/copy/etc/app.conf", t.path + "/copy/bin"]).status == 0)
        if getuid() == 0 { #expect(try runProgram("chown", ["-R", "-h", "1234:5678", t.path + "/copy"]).status == 0) }
        let copy = try build(t.path + "/copy", store: store)
        #expect(copy.descriptor.digest == first.descriptor.digest)
        #expect(copy.diffID == first.diffID)
    }

    @Test func entriesAreSortedNormalisedAndComplete() throws {
        let t = TempDir("layer")
        try makeTree(t)
        let store = try OCILayoutStore(root: t.path + "/store")
        let layer = try build(t.path + "/src", "/opt/app", compression: .none, exclude: ["*.tmp"], store: store)
        #expect(layer.diffID == layer.descriptor.digest)
        let entries = try listTar(try store.read(layer.descriptor))
        let paths = entries.map(\.path)
        #expect(paths.first == "opt")
        #expect(paths.contains("opt/app/bin/app-link"))
        #expect(!paths.contains("opt/app/etc/secret.tmp"))
        #expect(paths == paths.sorted(by: tarPathPrecedes))
        #expect(entries.allSatisfy { $0.uid == 0 && $0.gid == 0 && $0.mtime == 0 && $0.uname.isEmpty })
        #expect(entries.first { $0.path == "opt/app/bin/app" }?.mode == 0o755)
        #expect(entries.first { $0.path == "opt/app/bin/app-link" }?.linkTarget == "app")
        #expect(entries.contains { $0.path == "opt/app/empty" && $0.kind == .directory })
        #expect(entries.contains { $0.path.hasSuffix("/deep.txt") && $0.path.utf8.count > 100 })
    }

    @Test func sourceDateEpochClampsMtimes() throws {
        let t = TempDir("layer")
        try t.file("src/f", "x")
        #expect(try runProgram("touch", ["-d", "@2000", t.path + "/src/f"]).status == 0)
        let sink = DataSink()
        let entries = try SourceTree.plan([LayerSource(source: t.path + "/src/f", destination: "/f")])
        _ = try LayerBuilder.writeTar(entries, epoch: 1000, to: sink)
        #expect(try listTar(sink.data).first { $0.path == "f" }?.mtime == 1000)
        let sink2 = DataSink()
        _ = try LayerBuilder.writeTar(entries, epoch: 5000, to: sink2)
        #expect(try listTar(sink2.data).first { $0.path == "f" }?.mtime == 2000)
        #expect(try LayerOptions.sourceDateEpoch(["SOURCE_DATE_EPOCH": "1700000000"]) == 1_700_000_000)
        #expect { try LayerOptions.sourceDateEpoch(["SOURCE_DATE_EPOCH": "yesterday"]) } throws: { "\($0)".contains("SOURCE_DATE_EPOCH") }
    }

    @Test func streamingWalkMatchesThePlan() throws {
        let t = TempDir("layer")
        try makeTree(t)
        #expect(link(t.path + "/src/bin/app", t.path + "/src/bin/app-hard") == 0)
        try t.file("src/a-b/x", "1")
        try t.file("src/a/b", "2")
        try t.file("src/a.c", "3")
        let source = LayerSource(source: t.path + "/src", destination: "/deep/dest", exclude: ["*.tmp"])
        var streamed: [TarEntry] = []
        try SourceTree.walk([source]) { streamed.append($0.entry) }
        let planned = try SourceTree.plan([source]).map(\.entry)
        #expect(streamed == planned)
        #expect(streamed.map(\.path) == streamed.map(\.path).sorted(by: tarPathPrecedes))
        #expect(streamed.prefix(3).map(\.path) == ["deep", "deep/dest", "deep/dest/a"])
        #expect(streamed.first { $0.path == "deep/dest/bin/app-hard" }?.kind == .hardlink)
        let counted = try SourceTree.measure([source])
        #expect(counted.entries == streamed.count)
        #expect(counted.bytes == streamed.filter { $0.kind == .regular }.reduce(0) { $0 + $1.size })
    }

    @Test func hardlinksBecomeLinksToTheFirstPath() throws {
        let t = TempDir("layer")
        try t.file("src/a", "same inode")
        #expect(link(t.path + "/src/a", t.path + "/src/b") == 0)
        let entries = try SourceTree.plan([LayerSource(source: t.path + "/src", destination: "/")])
        #expect(entries.first { $0.entry.path == "a" }?.entry.kind == .regular)
        let b = entries.first { $0.entry.path == "b" }?.entry
        #expect(b?.kind == .hardlink && b?.linkTarget == "a")
    }

    @Test func symlinkLoopsAreRefusedWithTheirPath() throws {
        let t = TempDir("layer")
        try t.dir("src/sub")
        try t.link("src/sub/up", to: "..")
        // Kept as a symlink, the loop is harmless and archived as is.
        let kept = try SourceTree.plan([LayerSource(source: t.path + "/src", destination: "/")])
        #expect(kept.contains { $0.entry.path == "sub/up" && $0.entry.kind == .symlink })
        // Followed, it is an error that names the link.
        #expect { try SourceTree.plan([LayerSource(source: t.path + "/src", destination: "/", followSymlinks: true)]) } throws: { error in
            "\(error)".contains("symlink loop") && "\(error)".contains("sub/up")
        }
        // A source path that is itself a loop.
        try t.link("a", to: "b")
        try t.link("b", to: "a")
        #expect { try SourceTree.plan([LayerSource(source: t.path + "/a", destination: "/x")]) } throws: { error in
            "\(error)".contains("symlink loop") && "\(error)".contains(t.path + "/a")
        }
    }

    @Test func missingSourceAndFailedBuildLeaveNoBlob() throws {
        let t = TempDir("layer")
        let store = try OCILayoutStore(root: t.path + "/store")
        #expect { try build(t.path + "/missing", store: store) } throws: { "\($0)".contains("does not exist") }
        let blobs = try FileManager.default.contentsOfDirectory(atPath: store.root + "/blobs/sha256")
        #expect(blobs.isEmpty)
    }

    @Test func zstdAndGzipLayersHaveTheSameDiffID() throws {
        let t = TempDir("layer")
        try makeTree(t)
        let store = try OCILayoutStore(root: t.path + "/store")
        let g = try build(t.path + "/src", compression: .gzip, store: store)
        let z = try build(t.path + "/src", compression: .zstd, store: store)
        #expect(g.diffID == z.diffID)
        #expect(g.descriptor.digest != z.descriptor.digest)
        #expect(z.descriptor.mediaType == MediaType.ociLayerZstd)
    }
}
