import Foundation
import OCI
import StackshipTesting
import Support
import Testing

/// Examples/docker-cloud: a Go service built from a two-stage Dockerfile on a real Debian base
/// (bookworm, from a loopback registry), its toolchain installed by apt-get from Debian's mirror.
@Suite(.serialized) struct DockerfileGoExampleIntegrationTests {
    /// The README's way: `stackship build -t docker-cloud --build-arg REGISTRY=…` in the example,
    /// `stackship run -d -p PORT:80`, curl; stop and rm leave nothing mounted. A second build
    /// with nothing changed takes every step from the cache and runs no RUN.
    @Test func buildRunAnswerAndRebuildFromTheCache() async throws {
        try requireTool("runc", package: "runc")
        try requireTool("curl", package: "curl")
        try await withDebianRegistry { registry in
            let p = Project()
            let context = try copyDockerCloudExample(into: p)
            let first = try buildDockerCloud(context, store: p.store, registry: registry)
            #expect(first.status == 0, "\(first.out)\n\(first.err.suffix(4000))")
            guard first.status == 0 else { return }
            let firstCounts = stepCounts(first)
            // Every step ran: the golang stage's apt-get RUN and the build stage's go build.
            #expect(firstCounts?.cached == 0 && firstCounts?.runs == 2, "\(first.out)")
            #expect(first.err.contains("pulling base \(registry.host)/debian:bookworm"), "\(first.err.prefix(2000))")
            // A RUN's output is shown as "  | LINE" (apt-get's, here): the rebuild below must show none.
            #expect(first.err.contains("  | Setting up golang-go"), "\(first.err.suffix(2000))")

            let image = try imageDigest(store: p.store, "docker-cloud")
            #expect(image == manifestDigest(first), "\(first.out)")
            let config = try imageConfig(store: p.store, "docker-cloud")
            #expect(config.config?.Entrypoint == ["/server"])
            #expect(config.config?.ExposedPorts?.keys.sorted() == ["80/tcp"])
            #expect(config.rootfs.diff_ids.count == 1) // scratch plus the binary

            let port = try Loopback.freePort()
            let started = try stackship(["run", "-d", "-p", "\(port):80", "--store", p.store, "docker-cloud"], cwd: p.path)
            #expect(started.status == 0, "\(started.err)")
            let id = started.out.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(id.count == 64, "\(started.out)")
            if started.status == 0 {
                #expect(try getWhenUp(port: port, path: "/") == "Hello, world.\n")
                #expect(try getWhenUp(port: port, path: "/ping") == "pong\n")
                let logs = try stackship(["logs", "--store", p.store, id], cwd: p.path)
                #expect(logs.out.contains("listening on :80") || logs.err.contains("listening on :80"), "\(logs.out) \(logs.err)")
                let stop = try stackship(["stop", "--store", p.store, id], cwd: p.path)
                #expect(stop.status == 0, "\(stop.err)")
                #expect(try run("curl", ["-fsS", "--max-time", "2", "http://127.0.0.1:\(port)/ping"]).status != 0)
                let rm = try stackship(["rm", "--store", p.store, id], cwd: p.path)
                #expect(rm.status == 0, "\(rm.err)")
            }
            let mounts = try HostMounts.lines(containing: p.path)
            #expect(mounts.isEmpty, "\(mounts)")

            // Nothing changed: every step is cached, no RUN runs, the same image comes out.
            let second = try buildDockerCloud(context, store: p.store, registry: registry)
            #expect(second.status == 0, "\(second.err.suffix(4000))")
            let secondCounts = stepCounts(second)
            #expect(secondCounts != nil && secondCounts?.runs == 0 && secondCounts?.cached == secondCounts?.steps, "\(second.out)")
            #expect(secondCounts?.steps == firstCounts?.steps, "\(first.out)\n\(second.out)")
            #expect(!second.err.contains("  | "), "a RUN printed output in the cached rebuild: \(second.err.suffix(2000))")
            #expect(manifestDigest(second) == image)
            #expect(try HostMounts.lines(containing: p.path).isEmpty)
        }
    }

    /// Two fresh copies of the example with other file times, each built into a new store from the
    /// same registry, give the same image. The golang stage's apt-get is not reproducible (dpkg
    /// writes dates into its logs), so its layer differs between the stores; the scratch image
    /// holding only the binary must not.
    @Test func twoCopiesWithOtherFileTimesGiveTheSameImage() async throws {
        try requireTool("runc", package: "runc")
        try await withDebianRegistry { registry in
            var digests: [String] = []
            for (name, mtime) in [("old", "2001-02-03 04:05:06"), ("new", "2024-10-11 12:13:14")] {
                let p = Project()
                let context = try copyDockerCloudExample(into: p, as: "docker-cloud-\(name)", mtime: mtime)
                let built = try buildDockerCloud(context, store: p.store, registry: registry)
                #expect(built.status == 0, "\(built.out)\n\(built.err.suffix(4000))")
                #expect(stepCounts(built)?.cached == 0, "a new store has no cache: \(built.out)")
                let digest = try imageDigest(store: p.store, "docker-cloud")
                #expect(manifestDigest(built) == digest, "\(built.out)")
                digests.append(digest)
            }
            #expect(digests.count == 2 && digests[0] == digests[1], "\(digests)")
        }
    }

    /// The example is right on its own: buildah (the peer) builds it, the image's /server
    /// answers, and our build makes the very same /server.
    @Test func buildahBuildsTheExampleAndItsServerAnswersAndIsOurs() async throws {
        try requireTool("curl", package: "curl")
        try requireTool("runc", package: "runc")
        let buildah = try Buildah()
        defer { buildah.remove() }
        try await withDebianRegistry { registry in
            let p = Project()
            let context = try copyDockerCloudExample(into: p)
            let build = try buildah.bud(["-t", "docker-cloud", "--build-arg", "REGISTRY=\(registry.host)"], context: context)
            #expect(build.status == 0, "\(build.out.suffix(3000))\n\(build.err.suffix(3000))")
            guard build.status == 0 else { return }

            let inspect = try buildah(["inspect", "--type", "image", "docker-cloud"])
            struct Image: Decodable {
                struct OCIv1: Decodable {
                    struct Config: Decodable { var Entrypoint: [String]?; var ExposedPorts: [String: EmptyObject]? }
                    struct RootFS: Decodable { var diff_ids: [String] }
                    var config: Config?
                    var rootfs: RootFS
                }
                var OCIv1: OCIv1
            }
            let image = try JSONDecoder().decode(Image.self, from: Data(inspect.out.utf8))
            #expect(image.OCIv1.config?.Entrypoint == ["/server"])
            #expect(image.OCIv1.config?.ExposedPorts?.keys.sorted() == ["80/tcp"])
            #expect(image.OCIv1.rootfs.diff_ids.count == 1) // scratch plus the binary

            // The image holds a static binary: run it straight from the image's root.
            #expect(try buildah(["from", "--pull=never", "--name", "docker-cloud-check", "docker-cloud"]).status == 0)
            let mount = try buildah(["mount", "docker-cloud-check"])
            let root = mount.out.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(mount.status == 0 && FileManager.default.isExecutableFile(atPath: root + "/server"), "\(mount.err)")
            let names = try FileManager.default.contentsOfDirectory(atPath: root)
            #expect(names == ["server"], "\(names)")
            let port = try Loopback.freePort()
            var environment = ProcessInfo.processInfo.environment
            environment["HTTP_PORT"] = String(port)
            let null = open("/dev/null", O_RDWR | O_CLOEXEC)
            let server = try ChildProcess.spawn(root + "/server", [], environment: environment, fds: [null, null, null])
            close(null)
            defer {
                kill(server, SIGTERM)
                _ = ChildProcess.wait(server)
            }
            #expect(try getWhenUp(port: port, path: "/") == "Hello, world.\n")
            #expect(try getWhenUp(port: port, path: "/ping") == "pong\n")
            #expect(try run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/nothing"]).out == "404")

            // Our build of the same copy makes the same binary, byte for byte: its RUN steps see
            // what buildah's see, as far as the Go toolchain can tell.
            let ours = try buildDockerCloud(context, store: p.store, registry: registry)
            #expect(ours.status == 0, "\(ours.err.suffix(4000))")
            let layout = try OCILayoutStore(root: p.store, create: false)
            let manifest = try layout.manifest(for: try layout.resolve("docker-cloud").descriptor)
            let layer = try #require(manifest.layers.first)
            let unpacked = p.path + "/ours"
            try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
            let tar = try run("tar", ["-xzf", layout.path(of: layer.digest), "-C", unpacked])
            #expect(tar.status == 0, "\(tar.err)")
            let theirs = Digest.compute(try Data(contentsOf: URL(fileURLWithPath: root + "/server")))
            #expect(Digest.compute(try Data(contentsOf: URL(fileURLWithPath: unpacked + "/server"))) == theirs)
        }
    }

    // MARK: Helpers

    /// `stackship build -t docker-cloud --build-arg REGISTRY=HOST --store STORE .` in `context`.
    func buildDockerCloud(_ context: String, store: String, registry: LocalRegistry) throws -> Result {
        try stackship(["build", "-t", "docker-cloud", "--build-arg", "REGISTRY=\(registry.host)", "--store", store, "."], cwd: context)
    }

    /// `N of M steps cached, R RUN executed` from the build's summary line.
    func stepCounts(_ r: Result) -> (cached: Int, steps: Int, runs: Int)? {
        guard let range = r.out.range(of: #"(\d+) of (\d+) steps cached, (\d+) RUN executed"#, options: .regularExpression) else { return nil }
        let numbers = r.out[range].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        return numbers.count == 3 ? (numbers[0], numbers[1], numbers[2]) : nil
    }

    /// The manifest digest the build's summary line names.
    func manifestDigest(_ r: Result) -> String? {
        r.out.range(of: #"sha256:[0-9a-f]{64}"#, options: .regularExpression).map { String(r.out[$0]) }
    }

    /// The manifest digest of `reference` in the store, read with our OCI library.
    func imageDigest(store: String, _ reference: String) throws -> String {
        try OCILayoutStore(root: store, create: false).resolve(reference).descriptor.digest.description
    }

    func imageConfig(store: String, _ reference: String) throws -> ImageConfig {
        let layout = try OCILayoutStore(root: store, create: false)
        return try layout.config(of: try layout.manifest(for: try layout.resolve(reference).descriptor))
    }
}
