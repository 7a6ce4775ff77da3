import Foundation
import OCI
import StackshipTesting
import Testing

/// The shared Debian base (StackshipTesting.DebianBaseImage, made by debootstrap and packed by
/// our OCI library) and the loopback registry fixture, proved with a real peer: buildah pulls the
/// base from the registry and runs a command in it.
@Suite struct DebianBaseImageIntegrationTests {
    @Test func buildahRunsOnTheDebianBaseFromTheLocalRegistry() async throws {
        let buildah = try Buildah()
        defer { buildah.remove() }
        try await withDebianRegistry { registry in
            let p = Project()
            try p.write("Dockerfile", """
            FROM \(registry.host)/debian:bookworm
            RUN cat /etc/debian_version

            """)
            let r = try buildah.bud(["-t", "debian-check", "-f", p.path + "/Dockerfile"], context: p.path)
            #expect(r.status == 0, "\(r.out)\n\(r.err)")
            // bookworm is Debian 12.x
            #expect(r.out.contains("\n12.") || r.out.hasPrefix("12."), "\(r.out)\n\(r.err)")

            // Owners are kept as numbers: /etc/shadow belongs to the shadow group (gid 42).
            let from = try buildah(["from", "--tls-verify=false", "--pull=never", "--name", "debian-owners", "\(registry.host)/debian:bookworm"])
            #expect(from.status == 0, "\(from.err)")
            let stat = try buildah(["run", "--isolation", "chroot", "debian-owners", "--", "stat", "-c", "%u:%g %a", "/etc/shadow"])
            #expect(stat.out.trimmingCharacters(in: .whitespacesAndNewlines) == "0:42 640", "\(stat.out) \(stat.err)")
            // apt is there (the Go example installs its toolchain with it), PATH is Docker's.
            let tools = try buildah(["run", "--isolation", "chroot", "debian-owners", "--", "sh", "-c", "apt-get --version | head -1; echo PATH=$PATH"])
            #expect(tools.out.contains("apt 2.6"), "\(tools.out) \(tools.err)")
            #expect(tools.out.contains("PATH=\(DebianBaseImage.path)"), "\(tools.out)")
        }
    }

    @Test func theBaseIsOneLayerWithConfigAndIsMadeOnce() throws {
        let first = try DebianBaseImage.layout()
        let again = try DebianBaseImage.layout()
        #expect(first == again)
        #expect(first.path == DebianBaseImage.directory)
        let store = try OCILayoutStore(root: first.path, create: false)
        let manifest = try store.manifest(for: first.manifest)
        #expect(manifest.layers.count == 1)
        let config = try store.config(of: manifest)
        #expect(config.platform == Platform.host)
        #expect(config.config?.Cmd == ["bash"])
        #expect(config.config?.Env == ["PATH=\(DebianBaseImage.path)"])
        #expect(config.rootfs.diff_ids == [first.diffID])
    }
}
