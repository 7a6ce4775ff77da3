#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support
import OCI
import Runtime
import StackshipTesting
import Testing

/// A store holding a busybox image (the static binary from Debian's busybox-static, with the
/// applets it needs as symlinks), for container tests.
final class BusyboxStore: @unchecked Sendable {
    let path: String
    let store: OCILayoutStore

    init(config: ImageConfig.Config = BusyboxStore.defaultConfig, extraFiles: [String: String] = [:]) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/busybox") else {
            throw StoreSetupError(message: "busybox is not installed: run scripts/setup, or apt-get install busybox-static")
        }
        // The real path: the kernel names mounts by it, and TMPDIR may lead through a symlink.
        path = (realpath(NSTemporaryDirectory(), nil).map { p in defer { free(p) }; return String(cString: p) } ?? "/tmp") + "/stackship-rt-\(UUID().uuidString.prefix(8))"
        let tree = path + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/usr/bin/busybox", toPath: tree + "/bin/busybox")
        for applet in ["sh", "echo", "cat", "ls", "sleep", "httpd", "id", "env", "hostname", "touch", "grep", "pwd", "wc", "nc"] {
            try FileManager.default.createSymbolicLink(atPath: tree + "/bin/" + applet, withDestinationPath: "busybox")
        }
        try FileManager.default.createDirectory(atPath: tree + "/www", withIntermediateDirectories: true)
        try Data("hello from busybox".utf8).write(to: URL(fileURLWithPath: tree + "/www/index.html"))
        try FileManager.default.createDirectory(atPath: tree + "/etc", withIntermediateDirectories: true)
        try Data("root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/www:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n".utf8)
            .write(to: URL(fileURLWithPath: tree + "/etc/passwd"))
        try Data("root:x:0:\nwww:x:33:\nstaff:x:50:www\nnogroup:x:65534:\n".utf8).write(to: URL(fileURLWithPath: tree + "/etc/group"))
        for (rel, content) in extraFiles {
            let full = tree + "/" + rel
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(content.utf8).write(to: URL(fileURLWithPath: full))
        }
        store = try OCILayoutStore(root: path + "/store")
        let built = try LayerBuilder.build([LayerSource(source: tree, destination: "/")], options: LayerOptions(), into: store)
        let image = ImageConfig(platform: .host, created: nil, config: config, diffIDs: [built.diffID], history: nil)
        let manifest = Manifest(config: try store.writeJSON(image, mediaType: MediaType.ociConfig), layers: [built.descriptor])
        let descriptor = try store.writeJSON(manifest, mediaType: MediaType.ociManifest)
        try store.tag(descriptor, as: try ImageReference(parsing: "busybox:test"))
    }

    static var defaultConfig: ImageConfig.Config {
        var c = ImageConfig.Config()
        c.Cmd = ["/bin/httpd", "-f", "-p", "80", "-h", "/www"]
        c.Env = ["PATH=/bin", "GREETING=from-image"]
        return c
    }

    /// The host state of this box's containers: a folder of its own, never the machine's.
    var state: String { path + "/state" }

    func engine() throws -> ContainerEngine {
        ContainerEngine(store: store, stateDirectory: state, monitorExecutable: try StackshipTesting.stackshipExecutable())
    }

    func request(_ command: [String]? = nil, ports: [Int] = [], wait: WaitStrategy = .none) -> ContainerRequest {
        var request = ContainerRequest(image: "busybox:test", store: store.root, exposedPorts: ports, command: command, waitStrategy: wait, startupTimeout: 30)
        request.stateDirectory = state
        return request
    }

    /// What a container may leave behind on the host: its directory, mounts under the store, runc state.
    func leftovers() -> [String] {
        var found: [String] = []
        let containers = state + "/containers"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: containers)) ?? [] where !name.hasPrefix(".") {
            found.append("container directory \(name)")
        }
        for line in (try? HostMounts.lines(containing: path)) ?? [] { found.append("mount: \(line)") }
        let oci = state + "/oci"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: oci)) ?? [] { found.append("runtime state \(name)") }
        return found
    }

    deinit {
        // Anything still mounted under the scratch directory is unmounted before it is deleted.
        for line in (try? HostMounts.lines(containing: path)) ?? [] {
            let fields = line.split(separator: " ")
            if fields.count > 4 { umount2(String(fields[4]), Int32(MNT_DETACH)) }
        }
        try? FileManager.default.removeItem(atPath: path)
    }
}

struct StoreSetupError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Processes whose command line mentions `fragment` (to prove none is left).
func processes(mentioning fragment: String) -> [String] {
    var out: [String] = []
    for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(pid) != nil {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
        let cmd = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        if cmd.contains(fragment) { out.append("\(pid): \(cmd)") }
    }
    return out
}
