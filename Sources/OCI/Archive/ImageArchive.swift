import Foundation
import Support

/// Image archives: OCI archives (a tar of an OCI image layout, skopeo's `oci-archive:`) and
/// docker archives (`docker save` / `docker load`, skopeo's `docker-archive:`).
public enum ArchiveFormat: String, Sendable, CaseIterable, Codable {
    case oci
    case docker
}

/// An image found in an archive and copied into a store.
public struct LoadedImage: Sendable, Hashable {
    /// The references the archive names it by (may be empty).
    public var references: [ImageReference]
    /// The manifest or index now in the store.
    public var descriptor: Descriptor
    /// An OCI archive's `org.opencontainers.image.ref.name` values as written (often a bare
    /// tag such as `latest`), which skopeo's `oci-archive:PATH:NAME` matches literally.
    public var refNames: [String] = []

    public init(references: [ImageReference], descriptor: Descriptor, refNames: [String] = []) {
        self.references = references
        self.descriptor = descriptor
        self.refNames = refNames
    }
}

/// One image to put in an archive: its manifest in the store and the names to record.
public struct ArchiveImage: Sendable {
    public var descriptor: Descriptor
    public var references: [ImageReference]
    /// Ref names to write literally into an OCI archive (`oci-archive:PATH:latest` writes
    /// `latest`, as skopeo does); when empty, each reference's familiar form is written.
    public var refNames: [String] = []

    public init(descriptor: Descriptor, references: [ImageReference], refNames: [String] = []) {
        self.descriptor = descriptor
        self.references = references
        self.refNames = refNames
    }
}

/// Writes and reads image archives; every blob is verified against its digest on the way.
public enum ImageArchive {
    // MARK: Save

    /// Writes `images` from `store` into an archive at `path` (atomically) in `format`.
    /// Docker archives hold uncompressed layers, as `docker save` writes them; each one's
    /// diffID is checked against the image config before it is written.
    public static func save(_ images: [ArchiveImage], from store: OCILayoutStore, format: ArchiveFormat, to path: String) throws {
        let file = try AtomicFileWriter(destination: path)
        do {
            let tar = TarWriter(sink: file)
            switch format {
            case .oci: try writeOCI(images, from: store, tar: tar)
            case .docker: try writeDocker(images, from: store, tar: tar)
            }
            try tar.finish()
            try file.commit()
        } catch {
            file.abort()
            throw error
        }
    }

    private static func writeOCI(_ images: [ArchiveImage], from store: OCILayoutStore, tar: TarWriter) throws {
        var manifests: [Descriptor] = []
        var blobs: [Descriptor] = []
        var seen = Set<Digest>()
        for image in images {
            if !image.refNames.isEmpty {
                for refName in image.refNames {
                    var d = image.descriptor
                    d.annotations = [AnnotationKey.refName: refName]
                    manifests.append(d)
                }
            } else {
                let names = image.references.isEmpty ? [nil] : image.references.map { Optional($0) }
                for name in names {
                    var d = image.descriptor
                    d.annotations = d.annotations ?? [:]
                    if let name {
                        d.annotations?[AnnotationKey.refName] = name.familiar
                        d.annotations?[AnnotationKey.containerdImageName] = name.description
                    }
                    if d.annotations?.isEmpty ?? true { d.annotations = nil }
                    manifests.append(d)
                }
            }
            for blob in try reachableBlobs(from: image.descriptor, in: store) where seen.insert(blob.digest).inserted {
                blobs.append(blob)
            }
        }
        let layout = Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)
        try tar.write(TarEntry(path: "oci-layout", kind: .regular, mode: 0o644), content: Array(layout))
        try tar.write(TarEntry(path: "index.json", kind: .regular, mode: 0o644), content: Array(try CanonicalJSON.encode(Index(manifests: manifests))))
        try tar.write(TarEntry(path: "blobs", kind: .directory, mode: 0o755))
        try tar.write(TarEntry(path: "blobs/sha256", kind: .directory, mode: 0o755))
        for blob in blobs.sorted(by: { $0.digest < $1.digest }) {
            let source = try store.open(blob)
            try tar.writeHeader(TarEntry(path: "blobs/\(blob.digest.algorithm.rawValue)/\(blob.digest.encoded)", kind: .regular, mode: 0o644, size: blob.size))
            try source.copy(to: TarContentSink(tar))
            try tar.finishContent(size: blob.size)
        }
    }

    private static func writeDocker(_ images: [ArchiveImage], from store: OCILayoutStore, tar: TarWriter) throws {
        var entries: [DockerManifestEntry] = []
        var written = Set<String>()
        var files: [(path: String, write: () throws -> Void)] = []
        for image in images {
            let manifest = try store.manifest(for: image.descriptor)
            let config = try store.config(of: manifest)
            guard config.rootfs.diff_ids.count == manifest.layers.count else {
                throw OCIError.archive(path: "\(image.descriptor.digest)", reason: "the config lists \(config.rootfs.diff_ids.count) diffIDs for \(manifest.layers.count) layers")
            }
            let configPath = "blobs/sha256/\(manifest.config.digest.encoded)"
            if written.insert(configPath).inserted {
                files.append((configPath, {
                    try tar.write(TarEntry(path: configPath, kind: .regular, mode: 0o644), content: Array(try store.read(manifest.config)))
                }))
            }
            var layerPaths: [String] = []
            for (layer, diffID) in zip(manifest.layers, config.rootfs.diff_ids) {
                let layerPath = "blobs/sha256/\(diffID.encoded)"
                layerPaths.append(layerPath)
                guard written.insert(layerPath).inserted else { continue }
                files.append((layerPath, {
                    // First pass: size the uncompressed tar and check it is the diffID the config promises.
                    guard let compression = MediaType.layerCompression(layer.mediaType) else {
                        throw OCIError.unknownLayerType(layer: "layer \(layer.digest)", mediaType: layer.mediaType)
                    }
                    let size = try LayerVerification.verifyUncompressed(layer, compression: compression, diffID: diffID, in: store,
                                                      source: "the uncompressed layer \(layer.digest)")
                    try tar.writeHeader(TarEntry(path: layerPath, kind: .regular, mode: 0o644, size: size))
                    try Decompressor.source(compression, try store.open(layer)).copy(to: TarContentSink(tar))
                    try tar.finishContent(size: size)
                }))
            }
            let tags = image.references.filter { $0.tag != nil }.map { $0.withTag($0.tag!).familiar }
            entries.append(DockerManifestEntry(Config: configPath, RepoTags: tags.isEmpty ? nil : tags, Layers: layerPaths))
        }
        try tar.write(TarEntry(path: "blobs", kind: .directory, mode: 0o755))
        try tar.write(TarEntry(path: "blobs/sha256", kind: .directory, mode: 0o755))
        for f in files.sorted(by: { $0.path < $1.path }) { try f.write() }
        try tar.write(TarEntry(path: "manifest.json", kind: .regular, mode: 0o644), content: Array(try CanonicalJSON.encode(entries)))
    }

    /// Every blob an image needs: the manifest (or index), children, configs and layers.
    public static func reachableBlobs(from root: Descriptor, in store: OCILayoutStore) throws -> [Descriptor] {
        try ImageGraph.reachable(from: [root]) { try store.read($0) }
    }

    // MARK: Load

    /// Copies every image of the archive at `path` into `store`, verifying every blob against
    /// its digest and every layer against its config's diffID, and returns them. The archive is
    /// read into a staging store first and its blobs move into `store` only once all checks
    /// pass, so a lying or corrupt archive leaves nothing behind. Nothing is tagged here; the
    /// caller decides (`load` tags, a base does not), inside a write session.
    public static func load(_ path: String, into store: OCILayoutStore) throws -> (format: ArchiveFormat, images: [LoadedImage]) {
        let (directory, staging) = try store.makeStaging()
        defer { directory.remove() }
        let loaded = try loadUnstaged(path, into: staging)
        try store.adoptBlobs(from: staging)
        return loaded
    }

    private static func loadUnstaged(_ path: String, into store: OCILayoutStore) throws -> (format: ArchiveFormat, images: [LoadedImage]) {
        var small: [String: Data] = [:]
        var ingested: [String: (digest: Digest, size: Int64)] = [:]
        do {
            let reader = TarReader(source: try FileSource(path: path))
            while let entry = try reader.next() {
                let name = normalize(entry.path)
                guard entry.kind == .regular else { continue }
                if entry.size <= 1 << 20 {
                    small[name] = try reader.readContentData()
                } else {
                    let writer = try store.ingest()
                    try reader.copyContent(to: writer)
                    ingested[name] = try writer.commit()
                }
            }
        } catch let error as OCIError {
            if case .io = error { throw error }
            throw OCIError.archive(path: path, reason: "\(error.description); is it an image archive written by `stackship save`, `docker save` or skopeo?")
        }
        // A blob named by digest must hash to that digest; anything else is corrupt.
        func blob(_ name: String, expected: Digest?) throws -> (digest: Digest, size: Int64) {
            if let data = small[name] {
                let d = try store.write(data, mediaType: "application/octet-stream")
                if let expected, expected != d.digest {
                    throw OCIError.digestMismatch(expected: expected, actual: d.digest, source: "\(path):\(name)")
                }
                return (d.digest, d.size)
            }
            guard let found = ingested[name] else { throw OCIError.archive(path: path, reason: "it does not contain \(name)") }
            if let expected, expected != found.digest {
                throw OCIError.digestMismatch(expected: expected, actual: found.digest, source: "\(path):\(name)")
            }
            return found
        }
        if small["index.json"] != nil && small["oci-layout"] != nil {
            return (.oci, try loadOCI(path: path, small: small, blob: blob, store: store))
        }
        if let manifestData = small["manifest.json"] {
            return (.docker, try loadDocker(path: path, manifestData: manifestData, blob: blob, store: store))
        }
        throw OCIError.archive(path: path, reason: "neither an OCI archive (no oci-layout and index.json) nor a docker archive (no manifest.json)")
    }

    private static func loadOCI(path: String, small: [String: Data], blob: (String, Digest?) throws -> (digest: Digest, size: Int64),
                                store: OCILayoutStore) throws -> [LoadedImage] {
        let index = try CanonicalJSON.decode(Index.self, from: small["index.json"]!, what: "index.json in \(path)")
        var images: [LoadedImage] = []
        // Each blob named by digest must be in the archive and hash to that digest.
        let all = try ImageGraph.reachable(from: index.manifests) { d in
            let got = try blob("blobs/\(d.digest.algorithm.rawValue)/\(d.digest.encoded)", d.digest)
            guard got.size == d.size else { throw OCIError.sizeMismatch(digest: d.digest, expected: d.size, actual: got.size, source: path) }
            return try store.read(d)
        }
        for d in all where !MediaType.isManifest(d.mediaType) && !MediaType.isIndex(d.mediaType) {
            let got = try blob("blobs/\(d.digest.algorithm.rawValue)/\(d.digest.encoded)", d.digest)
            guard got.size == d.size else { throw OCIError.sizeMismatch(digest: d.digest, expected: d.size, actual: got.size, source: path) }
        }
        let manifests = all.filter { MediaType.isManifest($0.mediaType) }
        // Blobs are all in; now each image's layers must be the ones its config names.
        for d in manifests {
            let manifest = try store.manifest(for: d)
            try LayerVerification.verifyDiffIDs(of: manifest, in: store, source: "\(path): image \(d.digest)")
        }
        for d in index.manifests {
            var refs: [ImageReference] = []
            if let full = d.annotations?[AnnotationKey.containerdImageName], let r = try? ImageReference(parsing: full) {
                refs.append(r)
            } else if let name = d.annotations?[AnnotationKey.refName], name.contains(":") || name.contains("/"), let r = try? ImageReference(parsing: name) {
                refs.append(r)
            }
            let refNames = [d.annotations?[AnnotationKey.refName]].compactMap { $0 }
            var clean = d
            clean.annotations?.removeValue(forKey: AnnotationKey.refName)
            clean.annotations?.removeValue(forKey: AnnotationKey.containerdImageName)
            if clean.annotations?.isEmpty ?? false { clean.annotations = nil }
            if let i = images.firstIndex(where: { $0.descriptor.digest == d.digest }) {
                images[i].references.append(contentsOf: refs)
                images[i].refNames.append(contentsOf: refNames)
            } else {
                images.append(LoadedImage(references: refs, descriptor: clean, refNames: refNames))
            }
        }
        return images
    }

    private static func loadDocker(path: String, manifestData: Data, blob: (String, Digest?) throws -> (digest: Digest, size: Int64),
                                   store: OCILayoutStore) throws -> [LoadedImage] {
        let entries = try CanonicalJSON.decode([DockerManifestEntry].self, from: manifestData, what: "manifest.json in \(path)")
        var images: [LoadedImage] = []
        for entry in entries {
            let configBlob = try blob(normalize(entry.Config), nil)
            let configDescriptor = Descriptor(mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size)
            let config = try CanonicalJSON.decode(ImageConfig.self, from: try store.read(configDescriptor), what: "image config \(entry.Config) in \(path)")
            guard config.rootfs.diff_ids.count == entry.Layers.count else {
                throw OCIError.archive(path: path, reason: "\(entry.Config) lists \(config.rootfs.diff_ids.count) diffIDs for \(entry.Layers.count) layers")
            }
            var layers: [Descriptor] = []
            for (layerPath, diffID) in zip(entry.Layers, config.rootfs.diff_ids) {
                let got = try blob(normalize(layerPath), nil)
                var descriptor = Descriptor(mediaType: MediaType.ociLayer, digest: got.digest, size: got.size)
                let head = try store.open(descriptor)
                var prefix = [UInt8](repeating: 0, count: 4)
                let n = try prefix.withUnsafeMutableBytes { try head.readFully(into: $0) }
                let compression = Compression.sniff(prefix[0..<n])
                descriptor.mediaType = MediaType.ociLayer(compression)
                // The layer must be the one the config names, before anything uses it.
                try LayerVerification.verifyUncompressed(descriptor, compression: compression, diffID: diffID, in: store, source: "\(path):\(layerPath)")
                layers.append(descriptor)
            }
            let manifest = Manifest(config: configDescriptor, layers: layers)
            let manifestDescriptor = try store.writeJSON(manifest, mediaType: MediaType.ociManifest)
            let refs = (entry.RepoTags ?? []).compactMap { try? ImageReference(parsing: $0) }
            images.append(LoadedImage(references: refs, descriptor: manifestDescriptor))
        }
        return images
    }

    private static func normalize(_ p: String) -> String { TarReader.cleanPath(p) }
}

/// One image of a docker archive's `manifest.json`.
private struct DockerManifestEntry: Codable {
    var Config: String
    var RepoTags: [String]?
    var Layers: [String]
}

/// Writes file content into a tar writer (the header was already written).
final class TarContentSink: ByteSink {
    private let tar: TarWriter
    init(_ tar: TarWriter) { self.tar = tar }
    func write(_ bytes: UnsafeRawBufferPointer) throws { try tar.writeContent(bytes) }
    func finish() throws {}
}
