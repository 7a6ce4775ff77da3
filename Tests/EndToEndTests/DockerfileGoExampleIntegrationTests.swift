import Foundation
import OCI
import StackshipTesting
import Support
import Testing

/// Examples/docker-cloud: a Go service built from a two-stage Dockerfile on a real Debian base
/// (bookworm, from a loopback registry), its toolchain installed by apt-get from Debian's mirror.
@Suite(.serialized) struct DockerfileGoExampleIntegrationTests {
    /// The example is right on its own: buildah (the peer) builds it, and the image's /server
    /// answers.
    @Test func buildahBuildsTheExampleAndItsServerAnswers() async throws {
        try requireTool("curl", package: "curl")
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
        }
    }
}
