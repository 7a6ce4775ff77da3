import Foundation
import OCI
import Support

/// The config fields the suite compares, normalised so that two builders that mean the same write
/// the same: an empty list, map or string is absent (BuildKit omits what buildah writes as `[]`,
/// `{}` or `""`), port and volume sets are sorted lists, zero health-check durations are absent.
struct NormalizedConfig: Sendable, Equatable {
    var architecture: String
    var os: String
    var user: String?
    var env: [String]?
    var entrypoint: [String]?
    var cmd: [String]?
    var workingDir: String?
    var exposedPorts: [String]?
    var volumes: [String]?
    var labels: [String: String]?
    var stopSignal: String?
    var healthcheck: Healthcheck?
    var shell: [String]?
    var onBuild: [String]?

    init(architecture: String, os: String) {
        self.architecture = architecture
        self.os = os
    }

    /// Reads the compared fields of an image config.
    init(_ image: ImageConfig) {
        self.init(architecture: image.architecture, os: image.os)
        guard let c = image.config else { return }
        user = c.User
        env = c.Env
        entrypoint = c.Entrypoint
        cmd = c.Cmd
        workingDir = c.WorkingDir
        exposedPorts = c.ExposedPorts.map { $0.keys.sorted() }
        volumes = c.Volumes.map { $0.keys.sorted() }
        labels = c.Labels
        stopSignal = c.StopSignal
        if let h = c.Healthcheck {
            healthcheck = Healthcheck(test: h.Test ?? [], interval: h.Interval, timeout: h.Timeout, startPeriod: h.StartPeriod, retries: h.Retries)
        }
        shell = c.Shell
        onBuild = c.OnBuild
        self = normalized()
    }

    func normalized() -> NormalizedConfig {
        func list(_ v: [String]?) -> [String]? { v?.isEmpty == false ? v : nil }
        func text(_ v: String?) -> String? { v?.isEmpty == false ? v : nil }
        func positive<T: BinaryInteger>(_ v: T?) -> T? { v.flatMap { $0 > 0 ? $0 : nil } }
        var c = self
        c.user = text(user)
        c.env = list(env)
        c.entrypoint = list(entrypoint)
        c.cmd = list(cmd)
        c.workingDir = text(workingDir)
        c.exposedPorts = list(exposedPorts?.sorted())
        c.volumes = list(volumes?.sorted())
        c.labels = labels?.isEmpty == false ? labels : nil
        c.stopSignal = text(stopSignal)
        if let h = healthcheck {
            c.healthcheck = Healthcheck(test: h.test, interval: positive(h.interval), timeout: positive(h.timeout),
                                        startPeriod: positive(h.startPeriod), retries: positive(h.retries))
            if h.test.isEmpty { c.healthcheck = nil }
        }
        c.shell = list(shell)
        c.onBuild = list(onBuild)
        return c
    }

    /// One field's value as text, for messages and comparisons.
    func describe(_ field: ConfigField) -> String {
        func show<T>(_ v: T?) -> String { v.map { "\($0)" } ?? "(none)" }
        switch field {
        case .architecture: return architecture
        case .os: return os
        case .User: return show(user)
        case .Env: return show(env)
        case .Entrypoint: return show(entrypoint)
        case .Cmd: return show(cmd)
        case .WorkingDir: return show(workingDir)
        case .ExposedPorts: return show(exposedPorts)
        case .Volumes: return show(volumes)
        case .Labels: return show(labels.map { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } })
        case .StopSignal: return show(stopSignal)
        case .Healthcheck: return show(healthcheck)
        case .Shell: return show(shell)
        case .OnBuild: return show(onBuild)
        }
    }

    /// The fields whose values differ, with both values.
    func differences(from other: NormalizedConfig, skipping: Set<ConfigField> = []) -> [(ConfigField, String, String)] {
        ConfigField.allCases.filter { !skipping.contains($0) && describe($0) != other.describe($0) }
            .map { ($0, describe($0), other.describe($0)) }
    }
}

/// One path of an image's merged file system, as its last layer to touch it left it.
struct ImageFile: Sendable, Equatable {
    enum Kind: String, Sendable {
        case file, directory, symlink, hardlink, device, fifo
    }

    var kind: Kind
    var mode: UInt32
    var uid: Int
    var gid: Int
    var size: Int64
    /// sha256 of a regular file's content.
    var digest: String?
    /// The content of a regular file up to `ImageFile.keptContent` bytes; nil above that.
    var content: Data?
    /// A symlink's target, or the path (absolute, in the image) a hardlink points to.
    var linkTarget: String?

    static let keptContent = 256 << 10

    /// Everything but content, for listings.
    var summary: String {
        var s = "\(kind.rawValue) \(String(mode, radix: 8)) \(uid):\(gid)"
        if kind == .file { s += " \(size) bytes sha256:\(digest?.prefix(12) ?? "?")" }
        if let linkTarget { s += " -> \(linkTarget)" }
        return s
    }
}

/// An image read back from an OCI layout: its config and its merged file system.
struct LayoutImage: Sendable {
    var config: ImageConfig
    var normalized: NormalizedConfig
    /// Absolute paths (`/bin/sh`) to what the layers, applied in order, leave there.
    var files: [String: ImageFile]
    var layerCount: Int

    /// The text of a regular file (following a hardlink), if it was kept.
    func text(at path: String) -> String? {
        guard var file = files[path] else { return nil }
        if file.kind == .hardlink, let target = file.linkTarget, let linked = files[target] { file = linked }
        return file.content.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Reads an image from an OCI image layout (what `stackship copy … oci:DIR:TAG` and
/// `buildah push … oci:DIR:TAG` write) with the OCI target's store, decompressor and tar reader,
/// and applies its layers in order: an entry replaces what was at its path (a non-directory
/// replacing a directory drops what was under it), `.wh.NAME` deletes NAME and what is under it
/// from the layers below, and `.wh..wh..opq` empties its directory of what the layers below put
/// there. The walk is the image spec's "applying changesets", kept in memory: the images here are
/// small, and a map is easier to compare than a tree on disk.
enum LayoutImageReader {
    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    static func read(layout: String, reference: String) throws -> LayoutImage {
        let store = try OCILayoutStore(root: layout, create: false)
        let entry = try store.resolve(reference)
        let manifest = try store.manifest(for: entry.descriptor)
        let config = try store.config(of: manifest)
        guard config.rootfs.diff_ids.count == manifest.layers.count else {
            throw ReadError(description: "\(layout):\(reference): \(manifest.layers.count) layers but \(config.rootfs.diff_ids.count) diffIDs")
        }
        var files: [String: ImageFile] = [:]
        for layer in manifest.layers {
            try apply(layer: layer, from: store, to: &files)
        }
        return LayoutImage(config: config, normalized: NormalizedConfig(config), files: files, layerCount: manifest.layers.count)
    }

    /// The image path of an archive path: `./etc/` and `etc` are both `/etc`; the root is `/`.
    static func imagePath(_ archivePath: String) -> String {
        let parts = archivePath.split(separator: "/").filter { $0 != "." && !$0.isEmpty }
        return "/" + parts.joined(separator: "/")
    }

    private static func apply(layer: Descriptor, from store: OCILayoutStore, to files: inout [String: ImageFile]) throws {
        let (_, source) = try Decompressor.sniffing(try store.open(layer))
        let reader = TarReader(source: source)
        var added: [(String, ImageFile)] = []
        var deleted: [String] = []
        var emptied: [String] = []
        while let entry = try reader.next() {
            let path = imagePath(entry.path)
            let name = (path as NSString).lastPathComponent
            let parent = (path as NSString).deletingLastPathComponent
            if name == ".wh..wh..opq" {
                emptied.append(parent)
                continue
            }
            if name.hasPrefix(".wh.") {
                deleted.append((parent == "/" ? "" : parent) + "/" + name.dropFirst(4))
                continue
            }
            if path == "/" { continue }
            var file = ImageFile(kind: .file, mode: entry.mode & 0o7777, uid: entry.uid, gid: entry.gid, size: entry.size)
            switch entry.kind {
            case .regular:
                let data = try reader.readContentData(limit: 1 << 30)
                file.digest = Digest.compute(data).encoded
                file.content = data.count <= ImageFile.keptContent ? data : nil
            case .directory: file.kind = .directory
            case .symlink:
                file.kind = .symlink
                file.linkTarget = entry.linkTarget
            case .hardlink:
                file.kind = .hardlink
                file.linkTarget = imagePath(entry.linkTarget)
            case .characterDevice, .blockDevice: file.kind = .device
            case .fifo: file.kind = .fifo
            }
            added.append((path, file))
        }
        // Whiteouts and opaque markers act on the layers below this one, whatever their order in
        // the archive; this layer's own entries are then laid over the result.
        for dir in emptied {
            let prefix = dir == "/" ? "/" : dir + "/"
            for key in files.keys where key.hasPrefix(prefix) { files.removeValue(forKey: key) }
        }
        for path in deleted { remove(path, from: &files) }
        for (path, file) in added {
            if let old = files[path], old.kind == .directory, file.kind != .directory {
                remove(path, from: &files)
            }
            files[path] = file
        }
    }

    private static func remove(_ path: String, from files: inout [String: ImageFile]) {
        files.removeValue(forKey: path)
        let prefix = path + "/"
        for key in files.keys where key.hasPrefix(prefix) { files.removeValue(forKey: key) }
    }
}
