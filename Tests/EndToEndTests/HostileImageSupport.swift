import Foundation
import Support
import OCI

/// Builds hostile images the way an attacker would publish them: layers of hand-made tar
/// bytes, packed with their true digests (and, unless told to lie, their true diffIDs) into an
/// OCI archive that `stackship load` reads.
enum HostileImage {
    /// A layer's raw (uncompressed) bytes and the media type it is published under.
    struct Layer {
        var bytes: Data
        var mediaType: String = MediaType.ociLayer
        /// The diffID its config claims; nil for the true one.
        var claimedDiffID: Digest?
    }

    /// Writes an OCI archive at `path` holding one image tagged `name` (`evil:latest`).
    static func archive(at path: String, name: String = "evil:latest", layers: [Layer]) throws {
        let sink = DataSink()
        let tar = TarWriter(sink: sink)
        var blobs: [(Digest, Data)] = []
        var descriptors: [Descriptor] = []
        var diffIDs: [Digest] = []
        for layer in layers {
            let digest = Digest.compute(layer.bytes)
            blobs.append((digest, layer.bytes))
            descriptors.append(Descriptor(mediaType: layer.mediaType, digest: digest, size: Int64(layer.bytes.count)))
            diffIDs.append(layer.claimedDiffID ?? digest)
        }
        let config = try CanonicalJSON.encode(ImageConfig(platform: .host, created: nil, config: nil, diffIDs: diffIDs, history: nil))
        let configDescriptor = Descriptor(mediaType: MediaType.ociConfig, digest: Digest.compute(config), size: Int64(config.count))
        let manifest = try CanonicalJSON.encode(Manifest(config: configDescriptor, layers: descriptors))
        var top = Descriptor(mediaType: MediaType.ociManifest, digest: Digest.compute(manifest), size: Int64(manifest.count))
        top.annotations = [AnnotationKey.refName: name]
        blobs += [(configDescriptor.digest, config), (top.digest, manifest)]
        try tar.write(TarEntry(path: "oci-layout", kind: .regular, mode: 0o644), content: Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        try tar.write(TarEntry(path: "index.json", kind: .regular, mode: 0o644), content: Array(try CanonicalJSON.encode(Index(manifests: [top]))))
        for (digest, data) in blobs {
            try tar.write(TarEntry(path: "blobs/sha256/\(digest.encoded)", kind: .regular, mode: 0o644), content: Array(data))
        }
        try tar.finish()
        try sink.data.write(to: URL(fileURLWithPath: path))
    }

    /// A tar of `entries` (regular files get `content[path]`).
    static func tar(_ entries: [TarEntry], content: [String: String] = [:]) throws -> Data {
        let sink = DataSink()
        let writer = TarWriter(sink: sink)
        for var entry in entries {
            let bytes = Array((content[entry.path] ?? "").utf8)
            if entry.kind == .regular { entry.size = Int64(bytes.count) }
            try writer.write(entry, content: bytes)
        }
        try writer.finish()
        return sink.data
    }

    /// A layer with a static busybox as /bin/busybox and /bin/true, so the image runs.
    static func busyboxLayer() throws -> Data {
        let busybox = ["/bin/busybox", "/usr/bin/busybox"].first { FileManager.default.fileExists(atPath: $0) }!
        let bytes = try Data(contentsOf: URL(fileURLWithPath: busybox))
        let sink = DataSink()
        let writer = TarWriter(sink: sink)
        try writer.write(TarEntry(path: "bin", kind: .directory, mode: 0o755))
        try writer.write(TarEntry(path: "bin/busybox", kind: .regular, mode: 0o755, size: Int64(bytes.count)), content: Array(bytes))
        try writer.write(TarEntry(path: "bin/true", kind: .symlink, mode: 0o777, linkTarget: "busybox"))
        try writer.finish()
        return sink.data
    }

    // MARK: Raw headers, for what TarWriter refuses to write

    /// One 512-byte ustar header with a correct checksum. `size` is written as given (octal),
    /// or, when `base256Size` is set, as GNU base-256 bytes.
    static func header(_ name: String, type: Character = "0", size: Int = 0, mode: Int = 0o644, base256Size: [UInt8]? = nil) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, _ offset: Int, _ width: Int) {
            for (i, b) in text.utf8.prefix(width).enumerated() { h[offset + i] = b }
        }
        put(name, 0, 100)
        put(String(format: "%07o", mode), 100, 8)
        put("0000000", 108, 8)
        put("0000000", 116, 8)
        if let base256Size {
            for (i, b) in base256Size.prefix(12).enumerated() { h[124 + i] = b }
        } else {
            put(String(format: "%011o", size), 124, 12)
        }
        put("00000000000", 136, 12)
        h[156] = type.asciiValue!
        put("ustar\0", 257, 6)
        put("00", 263, 2)
        for i in 148..<156 { h[i] = 0x20 }
        let sum = h.reduce(0) { $0 + Int($1) }
        put(String(format: "%06o", sum) + "\0 ", 148, 8)
        return h
    }

    /// A PAX extended header block ("x") holding `records`, padded to 512 bytes.
    static func pax(_ records: [(String, String)]) -> [UInt8] {
        var body = ""
        for (key, value) in records {
            let payload = " \(key)=\(value)\n"
            var length = payload.utf8.count + 1
            while "\(length)".utf8.count + payload.utf8.count != length { length += 1 }
            body += "\(length)\(payload)"
        }
        var bytes = header("PaxHeaders/x", type: "x", size: body.utf8.count) + Array(body.utf8)
        bytes += [UInt8](repeating: 0, count: (512 - body.utf8.count % 512) % 512)
        return bytes
    }

    /// Blocks, then the two zero blocks that end an archive.
    static func raw(_ blocks: [[UInt8]]) -> Data {
        Data(blocks.flatMap { $0 } + [UInt8](repeating: 0, count: 1024))
    }
}
