import Foundation
import OCI
import StackshipTesting
import Testing
@testable import Registry

/// `base:` naming an image in a registry that the store lacks is pulled, as `docker build` does,
/// under `--pull missing|always|never`.
@Suite(.serialized) struct BaseImagePullIntegrationTests {
    @Test func aMissingBaseIsPulledUnlessPullingIsOff() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        // The base: an image with one layer, pushed to the registry only.
        let source = try ScratchStore()
        let base = try source.makeImage("base:1", layers: [2000])
        let baseReference = try ImageReference(parsing: "\(registry.host)/team/base:1")
        try await using(registry.client()) { client in try await ImageTransfer.push(base, from: source.store, to: baseReference, client: client) }
        let baseLayers = try source.store.manifest(for: base).layers.map(\.digest)

        let cli = try RegistryCLIIntegrationTests()
        let project = cli.home + "/child"
        try FileManager.default.createDirectory(atPath: project + "/app", withIntermediateDirectories: true)
        try Data("child\n".utf8).write(to: URL(fileURLWithPath: project + "/app/child.txt"))
        try Data("images:\n  child:\n    base: \(baseReference)\n    tags: [child:1]\n    layers:\n      - {source: ./app, destination: /app}\n".utf8)
            .write(to: URL(fileURLWithPath: project + "/stack.yaml"))

        // --pull never: the store lacks it, so the build fails naming the base and the fix.
        let never = try cli.stackship(["build", project + "/stack.yaml", "--pull", "never"])
        #expect(never.status == 1, "\(never.err)")
        #expect(never.err.contains(baseReference.familiar) && never.err.contains("stackship pull"), "\(never.err)")
        #expect(never.err.split(separator: "\n").filter { $0.hasPrefix("error: ") }.count == 1)

        // The default pulls it, then builds on it.
        let built = try cli.stackship(["build", project + "/stack.yaml"])
        #expect(built.status == 0, "\(built.err)")
        #expect(built.err.contains("pulling base \(baseReference.familiar)"), "\(built.err)")
        let store = try OCILayoutStore(root: cli.home + "/store", create: false)
        let child = try store.manifest(for: try store.resolve("child:1").descriptor)
        #expect(Array(child.layers.map(\.digest).prefix(baseLayers.count)) == baseLayers, "the child starts with the base's layers")
        #expect((try? store.resolve(baseReference.description)) != nil, "the base stays tagged, as docker build leaves it")

        // Present now: a second build does not pull; --pull always does.
        let again = try cli.stackship(["build", project + "/stack.yaml"])
        #expect(again.status == 0 && !again.err.contains("pulling base"), "\(again.err)")
        let always = try cli.stackship(["build", project + "/stack.yaml", "--pull", "always"])
        #expect(always.status == 0 && always.err.contains("pulling base"), "\(always.err)")
    }

    @Test func anUnreachableBaseIsNamedWithItsImage() async throws {
        let cli = try RegistryCLIIntegrationTests()
        let project = cli.home + "/child"
        try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
        // A loopback port nothing listens on.
        let port = try Loopback.freePort()
        try Data("images:\n  child:\n    base: 127.0.0.1:\(port)/nothing/here:1\n".utf8).write(to: URL(fileURLWithPath: project + "/stack.yaml"))
        let r = try cli.stackship(["build", project + "/stack.yaml"])
        #expect(r.status == 1, "\(r.err)")
        #expect(r.err.contains("image 'child'") && r.err.contains("cannot pull base '127.0.0.1:\(port)/nothing/here:1'"), "\(r.err)")
    }
}
