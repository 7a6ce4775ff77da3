import Foundation
import Support
import OCI
import Testing
@testable import Registry

/// A registry can serve an image whose config lies about its layers (the registry checks blob
/// digests, never diffIDs). A pull checks every new layer against its diffID and leaves
/// nothing in the store when one does not match.
@Suite(.serialized) struct PullVerificationIntegrationTests {
    /// Pushes `name` to `registry`: one real layer, a config naming another diffID for it.
    func pushLyingImage(_ registry: RegistryFixture, name: String) async throws -> (ImageReference, Descriptor) {
        let source = try ScratchStore()
        let dir = source.root + "/src"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("real content\n".utf8).write(to: URL(fileURLWithPath: dir + "/file"))
        let built = try LayerBuilder.build([LayerSource(source: dir, destination: "/app")], options: LayerOptions(compression: .gzip), into: source.store)
        let lie = Digest.compute(Data("other content\n".utf8))
        let config = try source.store.writeJSON(ImageConfig(platform: .host, created: nil, config: nil, diffIDs: [lie], history: nil), mediaType: MediaType.ociConfig)
        let manifest = try source.store.writeJSON(Manifest(config: config, layers: [built.descriptor]), mediaType: MediaType.ociManifest)
        let target = try ImageReference(parsing: "\(registry.host)/\(name)")
        try await using(registry.client()) { client in
            try await ImageTransfer.push(manifest, from: source.store, to: target, client: client)
        }
        return (target, built.descriptor)
    }

    @Test func aLyingImageIsRefusedAndLeavesNothing() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        let (target, layer) = try await pushLyingImage(registry, name: "evil:1")
        let destination = try ScratchStore()
        await #expect {
            try await using(registry.client()) { client in
                try await ImageTransfer.pull(target, client: client, into: destination.store)
            }
        } throws: { error in
            guard case let OCIError.diffIDMismatch(source, _, _) = error else { return false }
            return source.contains(layer.digest.description)
        }
        #expect(try destination.store.index().manifests.isEmpty, "the image is not named")
        #expect(FileIO.names(inDirectory: destination.store.root + "/blobs/sha256") == [], "no blob of it is kept")
        #expect(FileIO.names(inDirectory: destination.store.root)?.filter { $0.hasPrefix(".tmp-") } == [], "no staging is left")
    }

    @Test func pullThroughTheCLIFailsInOneLine() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        let (target, layer) = try await pushLyingImage(registry, name: "evil:2")
        let cli = try RegistryCLIIntegrationTests()
        let r = try cli.stackship(["pull", target.description])
        #expect(r.status == 1, "\(r.err)")
        #expect(r.err.split(separator: "\n").filter { $0.hasPrefix("error: ") }.count == 1, "\(r.err)")
        #expect(r.err.contains(layer.digest.description) && r.err.contains("diffID"), "\(r.err)")
        #expect(try cli.stackship(["images", "-q"]).out.isEmpty)
        // A true image from the same registry still pulls, and a second pull finds its blobs local.
        let good = try ScratchStore()
        let image = try good.makeImage("good:1", layers: [1000])
        let goodTarget = try ImageReference(parsing: "\(registry.host)/good:1")
        try await using(registry.client()) { client in try await ImageTransfer.push(image, from: good.store, to: goodTarget, client: client) }
        #expect(try cli.stackship(["pull", goodTarget.description]).status == 0)
        #expect(try cli.stackship(["pull", goodTarget.description]).status == 0)
        #expect(try cli.stackship(["images", "-q"]).out.split(separator: "\n").count == 1)
    }
}
