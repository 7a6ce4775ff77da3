import Foundation
import OCI
import Support

/// The base image every case builds on: Debian's busybox-static (`/bin/busybox` and a symlink to
/// it for each applet it lists), `/etc/passwd` and `/etc/group` with root, nobody and `app`
/// (1000:1000), `/root`, `/tmp` (1777) and `/home/app` (owned by app). One gzip layer written with
/// the OCI target's tar writer, so owners other than root survive (the layer builder normalises
/// them to 0:0), in an OCI layout tagged `busybox:1`.
enum BusyboxBase {
    static let path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    static let cmd = ["sh"]
    static let platform = Platform.host
    static let passwd = """
    root:x:0:0:root:/root:/bin/sh
    nobody:x:65534:65534:nobody:/nonexistent:/bin/false
    app:x:1000:1000:app:/home/app:/bin/sh

    """
    static let group = "root:x:0:\nnogroup:x:65534:\napp:x:1000:\n"

    struct SetupError: Error, CustomStringConvertible {
        var description: String
    }

    /// The busybox-static binary on this machine.
    static func binary() throws -> String {
        guard let path = ["/bin/busybox", "/usr/bin/busybox"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ToolMissing(tool: "busybox", hint: "run scripts/setup, or apt-get install busybox-static")
        }
        return path
    }

    /// The applets' paths as busybox lists them (`usr/bin/awk`), without itself and `linuxrc`.
    static func applets(_ busybox: String) throws -> [String] {
        let r = try run(busybox, ["--list-full"])
        guard r.status == 0 else { throw SetupError(description: "busybox --list-full failed: \(r.err)") }
        return r.out.split(separator: "\n").map(String.init).filter { $0 != "bin/busybox" && $0 != "linuxrc" && !$0.isEmpty }
    }

    /// Writes the image into a new OCI layout at `layout`, tagged `busybox:1`.
    static func write(layout: String) throws {
        let busybox = try binary()
        let applets = try applets(busybox)
        let store = try OCILayoutStore(root: layout)

        var entries: [(TarEntry, [UInt8])] = []
        func dir(_ path: String, _ mode: UInt32 = 0o755, owner: Int = 0) {
            var e = TarEntry(path: path, kind: .directory, mode: mode)
            e.uid = owner
            e.gid = owner
            entries.append((e, []))
        }
        func file(_ path: String, _ content: [UInt8], _ mode: UInt32 = 0o644) {
            entries.append((TarEntry(path: path, kind: .regular, mode: mode, size: Int64(content.count)), content))
        }
        var dirs: Set<String> = ["bin", "etc", "home", "root", "tmp"]
        for applet in applets {
            var parent = (applet as NSString).deletingLastPathComponent
            while !parent.isEmpty {
                dirs.insert(parent)
                parent = (parent as NSString).deletingLastPathComponent
            }
        }
        for d in dirs { dir(d, d == "root" ? 0o700 : d == "tmp" ? 0o1777 : 0o755) }
        dir("home/app", owner: 1000)
        file("bin/busybox", Array(try FileIO.readFile(busybox)), 0o755)
        for applet in applets { entries.append((TarEntry(path: applet, kind: .symlink, mode: 0o777, linkTarget: "/bin/busybox"), [])) }
        file("etc/passwd", Array(passwd.utf8))
        file("etc/group", Array(group.utf8))
        entries.sort { tarPathPrecedes($0.0.path, $1.0.path) }

        let blob = try store.ingest()
        let gzip = try Compressor.sink(.gzip, next: blob)
        let diff = DigestingSink(next: gzip)
        let tar = TarWriter(sink: diff)
        for (entry, content) in entries { try tar.write(entry, content: content) }
        try tar.finish()
        let (digest, size) = try blob.commit()
        let layer = Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: size)

        var config = ImageConfig.Config()
        config.Env = [path]
        config.Cmd = cmd
        let image = ImageConfig(platform: platform, created: "1970-01-01T00:00:00Z", config: config, diffIDs: [diff.digest],
                                history: [ImageConfig.History(created: "1970-01-01T00:00:00Z", createdBy: "busybox-static and its applets")])
        let manifest = Manifest(config: try store.writeJSON(image, mediaType: MediaType.ociConfig), layers: [layer])
        let descriptor = try store.writeJSON(manifest, mediaType: MediaType.ociManifest)
        try store.tag(descriptor, as: try ImageReference(parsing: "busybox:1"))
    }
}
