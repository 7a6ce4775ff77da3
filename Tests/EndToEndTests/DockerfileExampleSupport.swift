import Foundation
import StackshipTesting
import Testing

// What the Dockerfile example tests share: a loopback registry holding the real Debian base,
// copies of Examples/docker-cloud, and buildah (the peer) on its own storage.

/// Examples/docker-cloud in this checkout.
let dockerCloudExample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path + "/Examples/docker-cloud"

/// Runs `body` with a fresh loopback registry holding ``DebianBaseImage`` as `debian:bookworm`
/// (made first when this machine has none cached: minutes), and stops the registry afterwards.
func withDebianRegistry<T>(_ body: (LocalRegistry) async throws -> T) async throws -> T {
    try requireTool("skopeo", package: "skopeo")
    let base = try DebianBaseImage.layout()
    return try await LocalRegistry.with { registry in
        try registry.push(layout: base.path, ref: base.reference, as: "debian:bookworm")
        return try await body(registry)
    }
}

/// Copies Examples/docker-cloud into `project/name` and sets every file's and directory's
/// mtime to `mtime` (a `touch -d` date), so two copies differ in nothing but their times.
@discardableResult
func copyDockerCloudExample(into project: Project, as name: String = "docker-cloud", mtime: String? = nil) throws -> String {
    let destination = project.path + "/" + name
    let copy = try run("cp", ["-a", dockerCloudExample, destination])
    guard copy.status == 0 else { throw ToolMissing(tool: "a copy of \(dockerCloudExample)", hint: copy.err) }
    if let mtime {
        let touch = try run("find", [destination, "-exec", "touch", "-h", "-d", mtime, "{}", "+"])
        guard touch.status == 0 else { throw ToolMissing(tool: "touch -d \(mtime)", hint: touch.err) }
    }
    return destination
}

/// buildah with its own vfs storage in a temp dir (nothing shared with the machine's storage,
/// no daemon), chroot isolation, plain HTTP to registries. The storage is removed by `remove()`.
final class Buildah {
    let directory: String

    init() throws {
        try requireTool("buildah", package: "buildah")
        let made = FileManager.default.temporaryDirectory.appendingPathComponent("stackship-buildah-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: made, withIntermediateDirectories: true)
        directory = made
    }

    var storageOptions: [String] {
        ["--storage-driver", "vfs", "--root", directory + "/root", "--runroot", directory + "/runroot"]
    }

    /// `buildah OPTIONS…` on this storage.
    @discardableResult
    func callAsFunction(_ arguments: [String], cwd: String? = nil) throws -> Result {
        try run("buildah", storageOptions + arguments, cwd: cwd, env: ["BUILDAH_ISOLATION": "chroot"])
    }

    /// `buildah bud --isolation chroot --tls-verify=false ARGS… CONTEXT`.
    func bud(_ arguments: [String], context: String) throws -> Result {
        try self(["bud", "--isolation", "chroot", "--tls-verify=false"] + arguments + [context], cwd: context)
    }

    /// Removes its working containers, unmounts what it mounted and deletes the storage.
    func remove() {
        _ = try? self(["rm", "--all"])
        _ = try? self(["umount", "--all"])
        // vfs leaves no mounts, but a crashed RUN could leave its /proc or /dev mounts in a layer.
        for line in (try? HostMounts.lines(containing: directory)) ?? [] {
            let fields = line.split(separator: " ")
            if fields.count > 4 { _ = try? run("umount", ["-l", String(fields[4])]) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { remove() }
}

/// GETs `http://127.0.0.1:PORT/PATH` with curl, retrying for up to `seconds` while nothing
/// answers (a server still starting); returns the body of the first answer, nil if none came.
func getWhenUp(port: Int, path: String, seconds: Double = 20) throws -> String? {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        let c = try run("curl", ["-fsS", "--max-time", "5", "http://127.0.0.1:\(port)\(path)"])
        if c.status == 0 { return c.out }
        if Date() >= deadline { return nil }
        usleep(100_000)
    }
}
