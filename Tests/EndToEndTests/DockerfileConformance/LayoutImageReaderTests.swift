import Foundation
import OCI
import Support
import Testing

/// The conformance suite's reader on layers written here: what it gets wrong, every case would
/// get wrong with it, so its merge rules are pinned on their own (no root, no tools).
struct LayoutImageReaderTests {
    /// One layer: entries and their content, written as tar (gzip when `gzip`).
    struct Layer {
        var entries: [(TarEntry, String)]
        var gzip = true
    }

    static func entry(_ path: String, _ kind: TarEntry.Kind, mode: UInt32 = 0o644, link: String = "", uid: Int = 0) -> TarEntry {
        var e = TarEntry(path: path, kind: kind, mode: mode, linkTarget: link)
        e.uid = uid
        e.gid = uid
        return e
    }

    /// Writes `layers` as an image tagged `t:1` into a new layout; returns its path.
    static func layout(_ layers: [Layer]) throws -> String {
        let path = NSTemporaryDirectory() + "reader-\(UUID().uuidString.prefix(8))"
        let store = try OCILayoutStore(root: path)
        var descriptors: [Descriptor] = []
        var diffIDs: [Digest] = []
        for layer in layers {
            let blob = try store.ingest()
            let compressed = layer.gzip ? try Compressor.sink(.gzip, next: blob) : PassthroughSink(next: blob)
            let diff = DigestingSink(next: compressed)
            let tar = TarWriter(sink: diff)
            for (e, content) in layer.entries { try tar.write(e, content: Array(content.utf8)) }
            try tar.finish()
            let (digest, size) = try blob.commit()
            descriptors.append(Descriptor(mediaType: layer.gzip ? MediaType.ociLayerGzip : MediaType.ociLayer, digest: digest, size: size))
            diffIDs.append(diff.digest)
        }
        var config = ImageConfig.Config()
        config.Env = ["A=1"]
        config.Healthcheck = .init(Test: ["CMD", "true"], Interval: 0, Timeout: 5)
        config.Entrypoint = []
        let image = ImageConfig(platform: .host, created: nil, config: config, diffIDs: diffIDs, history: nil)
        let manifest = Manifest(config: try store.writeJSON(image, mediaType: MediaType.ociConfig), layers: descriptors)
        try store.tag(try store.writeJSON(manifest, mediaType: MediaType.ociManifest), as: try ImageReference(parsing: "t:1"))
        return path
    }

    @Test func layersApplyInOrderWithWhiteoutsAndOpaqueDirectories() throws {
        let path = try Self.layout([
            Layer(entries: [
                (Self.entry("./", .directory, mode: 0o755), ""),
                (Self.entry("./etc/", .directory, mode: 0o755), ""),
                (Self.entry("./etc/keep", .regular), "keep\n"),
                (Self.entry("./etc/gone", .regular), "gone\n"),
                (Self.entry("opt", .directory, mode: 0o755), ""),
                (Self.entry("opt/old", .regular), "old\n"),
                (Self.entry("opt/sub", .directory, mode: 0o755), ""),
                (Self.entry("opt/sub/deep", .regular), "deep\n"),
                (Self.entry("tree", .directory, mode: 0o755), ""),
                (Self.entry("tree/leaf", .regular), "leaf\n"),
                (Self.entry("was-dir", .directory, mode: 0o755), ""),
                (Self.entry("was-dir/child", .regular), "child\n"),
            ], gzip: false),
            Layer(entries: [
                (Self.entry("etc/.wh.gone", .regular, mode: 0), ""),
                (Self.entry("opt/.wh..wh..opq", .regular, mode: 0), ""),
                (Self.entry("opt/new", .regular, mode: 0o600, uid: 1000), "new\n"),
                (Self.entry(".wh.tree", .regular, mode: 0), ""),
                (Self.entry("was-dir", .symlink, mode: 0o777, link: "/etc"), ""),
                (Self.entry("etc/hard", .hardlink, mode: 0o644, link: "etc/keep"), ""),
            ]),
        ])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let image = try LayoutImageReader.read(layout: path, reference: "t:1")
        #expect(image.layerCount == 2)
        #expect(image.files["/"] == nil, "the root is not a path of the list")
        #expect(image.text(at: "/etc/keep") == "keep\n")
        #expect(image.files["/etc/gone"] == nil, "a whiteout deletes the file below it")
        #expect(image.files["/opt/old"] == nil && image.files["/opt/sub"] == nil && image.files["/opt/sub/deep"] == nil,
                "an opaque directory hides everything the layers below put in it")
        #expect(image.files["/opt"]?.kind == .directory, "the opaque directory itself stays")
        #expect(image.files["/opt/new"] == ImageFile(kind: .file, mode: 0o600, uid: 1000, gid: 1000, size: 4,
                                                     digest: Digest.compute(Data("new\n".utf8)).encoded, content: Data("new\n".utf8)),
                "the opaque layer's own entries stay")
        #expect(image.files["/tree"] == nil && image.files["/tree/leaf"] == nil, "a whiteout of a directory deletes what is under it")
        #expect(image.files["/was-dir"]?.kind == .symlink && image.files["/was-dir"]?.linkTarget == "/etc")
        #expect(image.files["/was-dir/child"] == nil, "a non-directory replacing a directory drops its children")
        #expect(image.files["/etc/hard"]?.linkTarget == "/etc/keep" && image.text(at: "/etc/hard") == "keep\n")
        #expect(!image.files.keys.contains { $0.contains(".wh.") }, "no whiteout marker is a path of the image")
    }

    @Test func configIsNormalisedSoEmptyAndAbsentAgree() throws {
        let path = try Self.layout([Layer(entries: [(Self.entry("f", .regular), "f\n")])])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let c = try LayoutImageReader.read(layout: path, reference: "t:1").normalized
        #expect(c.env == ["A=1"])
        #expect(c.entrypoint == nil, "an empty list is no list")
        #expect(c.healthcheck == Healthcheck(test: ["CMD", "true"], timeout: 5), "a zero duration is no duration")
        var other = c
        other.cmd = ["x"]
        #expect(c.differences(from: other).map(\.0) == [.Cmd])
        #expect(c.differences(from: other, skipping: [.Cmd]).isEmpty)
    }

    @Test func expectationsFailOnWhatTheyName() throws {
        let path = try Self.layout([Layer(entries: [
            (Self.entry("tmp", .directory, mode: 0o1777), ""), (Self.entry("tmp/x", .regular, mode: 0o640, uid: 7), "secret-ish\n"),
        ])])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let image = try LayoutImageReader.read(layout: path, reference: "t:1")
        let c = ConformanceCase(name: "probe", dockerfile: "", startsFrom: .scratch,
                                files: [.file("/tmp/x", "other\n", mode: 0o644), .directory("/tmp", mode: 0o1777), .file("/missing", nil)],
                                absent: ["/tmp"], forbiddenContent: ["secret"])
        let failures = ConformanceCheck.failures(of: image, against: c)
        #expect(failures.contains { $0.hasPrefix("/tmp/x: expected content") })
        #expect(failures.contains("/tmp/x: expected mode 644, got 640"))
        #expect(failures.contains("/tmp/x: expected owner 0:0, got 7:7"))
        #expect(failures.contains("/missing: missing"))
        #expect(failures.contains { $0.hasPrefix("/tmp: expected absent") })
        #expect(failures.contains { $0.hasPrefix("/tmp/x: holds") })
        #expect(failures.contains { $0.hasPrefix("config Env:") }, "scratch expects PATH; this image has A=1")
        #expect(!failures.contains { $0.hasPrefix("/tmp: expected mode") })
        #expect(ConformanceCheck.failures(of: image, against: c, skippingFields: Set(ConfigField.allCases), skippingPaths: ["/tmp", "/missing"])
            .isEmpty, "skipped fields and paths are not checked")
    }
}
