import Foundation
import Support
import OCI
import Testing
@testable import Runtime

/// A sandbox holding the root and, beside it, things an escape would hit.
final class Sandbox {
    let path: String
    var root: String { path + "/root" }
    var victim: String { path + "/victim" }

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("stackship-unpack-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
        try Data("keep me\n".utf8).write(to: URL(fileURLWithPath: victim + "/keep"))
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Everything outside the root (path, type, size, content digest) and the host files an escape would target.
    func outside() throws -> [String] {
        var out: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let rel = enumerator?.nextObject() as? String {
            if rel == "root" || rel.hasPrefix("root/") { continue }
            let full = path + "/" + rel
            let data = FileManager.default.contents(atPath: full) ?? Data()
            out.append("\(rel) \(Digest.compute(data))")
        }
        for hostFile in ["/etc/passwd", "/etc/hostname"] {
            var st = stat()
            lstat(hostFile, &st)
            out.append("\(hostFile) \(Digest.compute(FileManager.default.contents(atPath: hostFile) ?? Data())) links=\(st.st_nlink)")
        }
        return out.sorted()
    }

    func unpack(_ layers: [Data], limits: ExtractionLimits = ExtractionLimits(), devices: ExtractionPolicy.Devices = .create) throws {
        let extractor = try SafeExtractor(root: root, policy: .imageLayers(devices: devices, limits: limits))
        for (i, layer) in layers.enumerated() { try extractor.apply(DataSource(layer), name: "layer \(i)") }
    }

    func exists(_ rel: String) -> Bool {
        var st = stat()
        return lstat(root + "/" + rel, &st) == 0
    }

    func content(_ rel: String) -> String? {
        FileManager.default.contents(atPath: root + "/" + rel).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// A layer from entries; regular files get `content`.
func layer(_ entries: [(String, TarEntry.Kind, String)]) throws -> Data {
    let sink = DataSink()
    let w = TarWriter(sink: sink)
    for (path, kind, value) in entries {
        switch kind {
        case .regular: try w.write(TarEntry(path: path, kind: .regular, mode: 0o644), content: Array(value.utf8))
        case .directory: try w.write(TarEntry(path: path, kind: .directory, mode: 0o755))
        case .symlink, .hardlink: try w.write(TarEntry(path: path, kind: kind, mode: 0o777, linkTarget: value))
        default: try w.write(TarEntry(path: path, kind: kind, mode: 0o644))
        }
    }
    try w.finish()
    return sink.data
}

@Suite struct WhiteoutTests {
    @Test func whiteoutOfAFileAndOfADirectory() throws {
        let s = try Sandbox()
        try s.unpack([
            try layer([("a", .directory, ""), ("a/file", .regular, "1"), ("a/other", .regular, "2"), ("d", .directory, ""), ("d/x", .regular, "x"), ("d/sub/y", .regular, "y")]),
            try layer([("a/.wh.file", .regular, ""), (".wh.d", .regular, "")]),
        ])
        #expect(!s.exists("a/file") && s.content("a/other") == "2")
        #expect(!s.exists("d"))
        #expect(!s.exists("a/.wh.file") && !s.exists(".wh.d"))
    }

    @Test func opaqueDirectoryHidesLowerLayersOnly() throws {
        let s = try Sandbox()
        try s.unpack([
            try layer([("o/old", .regular, "old"), ("o/sub/deep", .regular, "deep"), ("keep/me", .regular, "k")]),
            try layer([("o/before", .regular, "b"), ("o/.wh..wh..opq", .regular, ""), ("o/after", .regular, "a")]),
        ])
        #expect(!s.exists("o/old") && !s.exists("o/sub"))
        #expect(s.content("o/before") == "b" && s.content("o/after") == "a")
        #expect(s.content("keep/me") == "k")
        #expect(!s.exists("o/.wh..wh..opq"))
    }

    @Test func aWhiteoutDoesNotHideItsOwnLayer() throws {
        let s = try Sandbox()
        try s.unpack([try layer([("same", .regular, "stays"), (".wh.same", .regular, "")])])
        #expect(s.content("same") == "stays")
    }

    @Test func hardlinkAcrossLayersAndReplacedEntries() throws {
        let s = try Sandbox()
        try s.unpack([
            try layer([("bin/tool", .regular, "tool v1"), ("etc/conf", .directory, "")]),
            try layer([("bin/alias", .hardlink, "bin/tool"), ("etc/conf", .regular, "now a file")]),
        ])
        var a = stat(), b = stat()
        lstat(s.root + "/bin/tool", &a)
        lstat(s.root + "/bin/alias", &b)
        #expect(a.st_ino == b.st_ino && s.content("bin/alias") == "tool v1")
        #expect(s.content("etc/conf") == "now a file")
    }

    @Test func modesOwnersAndTimesAreKept() throws {
        let s = try Sandbox()
        let sink = DataSink()
        let w = TarWriter(sink: sink)
        var e = TarEntry(path: "usr/bin/suid", kind: .regular, mode: 0o4755, mtime: 1_000_000)
        e.uid = 1234
        e.gid = 5678
        try w.write(e, content: [1, 2, 3])
        try w.finish()
        try s.unpack([sink.data])
        var st = stat()
        lstat(s.root + "/usr/bin/suid", &st)
        #expect(st.st_mode & 0o7777 == 0o4755)
        #expect(st.st_mtim.tv_sec == 1_000_000)
        if geteuid() == 0 { #expect(st.st_uid == 1234 && st.st_gid == 5678) }
    }
}

@Suite struct EscapeTests {
    /// Applies `layers` and checks nothing outside the root changed, whether or not it threw.
    func attempt(_ layers: [Data], _ check: (Sandbox, Error?) throws -> Void = { _, _ in }) throws {
        let s = try Sandbox()
        let before = try s.outside()
        var thrown: Error?
        do { try s.unpack(layers) } catch { thrown = error }
        #expect(try s.outside() == before, "something outside the root changed")
        try check(s, thrown)
    }

    @Test func symlinkToTheParentThenAFileThroughIt() throws {
        try attempt([try layer([("loophole", .symlink, "../victim"), ("loophole/file", .regular, "pwned")])]) { s, error in
            #expect(!FileManager.default.fileExists(atPath: s.victim + "/file"))
            #expect(error == nil || "\(error!)".contains("loophole"))
        }
    }

    @Test func nestedSymlinkClimbingTwiceThenDeepWrites() throws {
        try attempt([try layer([("dir", .directory, ""), ("dir/loophole", .symlink, "../../victim"), ("dir/loophole/newdir/newfile", .regular, "pwned")])]) { s, _ in
            #expect(!FileManager.default.fileExists(atPath: s.victim + "/newdir"))
        }
    }

    @Test func symlinkToSlashDotThenWritesThroughIt() throws {
        try attempt([try layer([("rootlink", .symlink, "/."), ("rootlink/etc/written", .regular, "inside")])]) { s, error in
            #expect(error == nil)
            #expect(s.content("etc/written") == "inside", "the write landed inside the root")
        }
    }

    @Test func absoluteSymlinkThenAWriteThroughIt() throws {
        try attempt([try layer([("etc", .directory, ""), ("abs", .symlink, "/etc"), ("abs/hostname", .regular, "container")])]) { s, error in
            #expect(error == nil)
            #expect(s.content("etc/hostname") == "container")
        }
    }

    @Test func hardlinksToOutsideTheRootAreRefused() throws {
        try attempt([try layer([("hl", .hardlink, "../../victim/keep")])]) { _, error in
            #expect("\(error.map { "\($0)" } ?? "no error")".contains("climbs out"))
        }
        try attempt([try layer([("hl", .hardlink, "/etc/passwd")])]) { _, error in
            #expect("\(error.map { "\($0)" } ?? "no error")".contains("is not in the content before it"))
        }
    }

    @Test func dotDotEntriesAreRefused() throws {
        try attempt([try layer([("../x", .regular, "pwned")])]) { s, error in
            #expect("\(error.map { "\($0)" } ?? "no error")".contains("climbs out"))
            #expect(!FileManager.default.fileExists(atPath: s.path + "/x"))
        }
        try attempt([try layer([("a/../../x", .regular, "pwned")])]) { _, error in #expect(error != nil) }
    }

    @Test func aFileOverAPlantedSymlinkReplacesTheLinkNotItsTarget() throws {
        try attempt([
            try layer([("f", .symlink, "../victim/keep")]),
            try layer([("f", .regular, "replaced")]),
        ]) { s, error in
            #expect(error == nil)
            #expect(s.content("f") == "replaced")
            var st = stat()
            lstat(s.root + "/f", &st)
            #expect(st.st_mode & S_IFMT == S_IFREG)
        }
    }

    @Test func decompressionBombsAreBounded() throws {
        let s = try Sandbox()
        #expect(throws: OCIError.extractionLimit(layer: "layer 0", what: "bytes", limit: 1000)) {
            try s.unpack([try layer([("big", .regular, String(repeating: "z", count: 2000))])], limits: ExtractionLimits(maxBytes: 1000))
        }
        let t = try Sandbox()
        #expect(throws: OCIError.extractionLimit(layer: "layer 0", what: "entries", limit: 3)) {
            try t.unpack([try layer((0..<10).map { ("f\($0)", .regular, "") })], limits: ExtractionLimits(maxEntries: 3))
        }
    }
}

@Suite struct ImageUnpackTests {
    /// Builds an image of two layers (the second replacing and whiting out parts of the first).
    func makeImage(_ s: Sandbox) throws -> (OCILayoutStore, Manifest, ImageConfig) {
        let store = try OCILayoutStore(root: s.path + "/store")
        var descriptors: [Descriptor] = []
        var diffIDs: [Digest] = []
        for data in [
            try layer([("usr/bin/app", .regular, "v1"), ("usr/lib", .directory, ""), ("usr/lib/old.so", .regular, "old"), ("lib", .symlink, "usr/lib")]),
            try layer([("usr/bin/app", .regular, "v2"), ("usr/lib/.wh.old.so", .regular, ""), ("lib/new.so", .regular, "new"), ("usr/bin/app2", .hardlink, "usr/bin/app")]),
        ] {
            let writer = try store.ingest()
            let gzip = GzipCompressor(next: writer)
            try gzip.write(contentsOf: data)
            try gzip.finish()
            let (digest, size) = try writer.commit()
            descriptors.append(Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: size))
            diffIDs.append(Digest.compute(data))
        }
        let config = ImageConfig(platform: .host, created: nil, config: nil, diffIDs: diffIDs, history: nil)
        let manifest = Manifest(config: try store.writeJSON(config, mediaType: MediaType.ociConfig), layers: descriptors)
        return (store, manifest, config)
    }

    @Test func unpacksLikeGNUTarAndCachesByChainID() throws {
        let s = try Sandbox()
        let (store, manifest, config) = try makeImage(s)
        let cache = s.path + "/cache"
        let first = try ImageUnpacker.cachedRoot(manifest, config: config, from: store, cacheDirectory: cache)
        #expect(!first.reused)
        #expect(first.path.contains(ImageUnpacker.chainIDs(config.rootfs.diff_ids).last!.encoded))
        #expect(FileManager.default.contents(atPath: first.path + "/usr/bin/app") == Data("v2".utf8))
        #expect(FileManager.default.contents(atPath: first.path + "/usr/lib/new.so") == Data("new".utf8), "written through the in-root symlink lib -> usr/lib")
        #expect(!FileManager.default.fileExists(atPath: first.path + "/usr/lib/old.so"))
        let again = try ImageUnpacker.cachedRoot(manifest, config: config, from: store, cacheDirectory: cache)
        #expect(again.reused && again.path == first.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).allSatisfy { !$0.hasPrefix(".tmp-") })

        // GNU tar, extracting the same layers in order, gives the same regular files.
        let tarRoot = s.path + "/tar-root"
        try FileManager.default.createDirectory(atPath: tarRoot, withIntermediateDirectories: true)
        for layer in manifest.layers {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/tar")
            p.arguments = ["-xzf", store.path(of: layer.digest), "-C", tarRoot]
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
        }
        // tar does not apply whiteouts: remove its whiteout files and what they hide, then compare.
        try? FileManager.default.removeItem(atPath: tarRoot + "/usr/lib/.wh.old.so")
        try? FileManager.default.removeItem(atPath: tarRoot + "/usr/lib/old.so")
        for file in ["usr/bin/app", "usr/bin/app2", "usr/lib/new.so"] {
            #expect(FileManager.default.contents(atPath: first.path + "/" + file) == FileManager.default.contents(atPath: tarRoot + "/" + file), "\(file)")
        }
    }

    @Test func aTamperedLayerIsRefusedAndNothingIsCached() throws {
        let s = try Sandbox()
        let (store, manifest, config) = try makeImage(s)
        let path = store.path(of: manifest.layers[1].digest)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 9] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: path))
        let cache = s.path + "/cache"
        #expect { _ = try ImageUnpacker.cachedRoot(manifest, config: config, from: store, cacheDirectory: cache) } throws: { error in
            "\(error)".contains(manifest.layers[1].digest.description) || "\(error)".contains("gzip")
        }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).isEmpty)
    }

    @Test func chainIDsFollowTheSpec() {
        let a = Digest.compute(Data("a".utf8)), b = Digest.compute(Data("b".utf8))
        let ids = ImageUnpacker.chainIDs([a, b])
        #expect(ids[0] == a)
        #expect(ids[1] == Digest.compute(Data("\(a) \(b)".utf8)))
    }
}
