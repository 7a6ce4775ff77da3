import Foundation
import OCI
import Testing
@testable import Registry

/// skopeo and umoci read what stackship pushes, and stackship pulls what skopeo pushes.
@Suite(.serialized) struct RegistryInteropIntegrationTests {
    /// Runs a tool through the fixtures' runner (files, not pipes: Foundation's pipe reads
    /// abort on EINTR on Linux), failing with its stderr.
    @discardableResult
    func tool(_ name: String, _ args: [String]) throws -> String {
        let result = try runSync("/usr/bin/env", [name] + args)
        guard result.status == 0 else {
            throw ToolFailure(description: "\(name) \(args.joined(separator: " ")) failed: \(result.stderr)")
        }
        return result.stdout
    }

    struct ToolFailure: Error, CustomStringConvertible { var description: String }

    @Test func skopeoCopiesOutWhatWePushedAndUmociUnpacksIt() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        let source = try ScratchStore()
        let image = try source.makeImage("i:1", layers: [40_000, 70_000])
        try await using(registry.client()) { client in
            try await ImageTransfer.push(image, from: source.store, to: try ImageReference(parsing: "\(registry.host)/interop/i:1"), client: client)
        }
        let layout = source.root + "/skopeo-layout"
        try tool("skopeo", ["copy", "--src-tls-verify=false", "docker://\(registry.host)/interop/i:1", "oci:\(layout):i"])
        let inspected = try tool("skopeo", ["inspect", "--tls-verify=false", "docker://\(registry.host)/interop/i:1"])
        #expect(inspected.contains(image.digest.description))
        // The manifest skopeo wrote is byte for byte ours.
        #expect(FileManager.default.fileExists(atPath: "\(layout)/blobs/sha256/\(image.digest.encoded)"))
        let bundle = source.root + "/bundle"
        try tool("umoci", ["unpack", "--image", "\(layout):i", bundle])
        #expect(FileManager.default.fileExists(atPath: bundle + "/rootfs/layer0/data.bin"))
        #expect((try FileManager.default.attributesOfItem(atPath: bundle + "/rootfs/layer1/data.bin")[.size] as? Int) == 70_000)
    }

    @Test func wePullWhatSkopeoPushedWithIdenticalDigests() async throws {
        let registry = try await RegistryFixture.start(.basic)
        defer { registry.stop() }
        let source = try ScratchStore()
        let image = try source.makeImage("k:1", layers: [30_000])
        try tool("skopeo", ["copy", "--dest-tls-verify=false", "--dest-creds", "\(registry.username ?? ""):\(registry.password ?? "")",
                            "oci:\(source.store.root):k:1", "docker://\(registry.host)/from-skopeo/k:2"])
        let destination = try ScratchStore()
        try await using(registry.client()) { client in
            let pulled = try await ImageTransfer.pull(try ImageReference(parsing: "\(registry.host)/from-skopeo/k:2"), client: client, into: destination.store)
            #expect(pulled.digest == image.digest)
        }
        let original = try source.store.manifest(for: image)
        let copied = try destination.store.manifest(for: try destination.store.resolve("\(registry.host)/from-skopeo/k:2").descriptor)
        #expect(original == copied)
    }

    @Test func dockerSchema2ImagesPushedBySkopeoArePulledAsTheyAre() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        let source = try ScratchStore()
        try source.makeImage("v2:1", layers: [12_000])
        try tool("skopeo", ["copy", "--format", "v2s2", "--dest-tls-verify=false", "oci:\(source.store.root):v2:1", "docker://\(registry.host)/docker/v2:1"])
        let destination = try ScratchStore()
        try await using(registry.client()) { client in
            let fetched = try await client.manifest("docker/v2", reference: "1")
            #expect(fetched.descriptor.mediaType == MediaType.dockerManifest)
            let pulled = try await ImageTransfer.pull(try ImageReference(parsing: "\(registry.host)/docker/v2:1"), client: client, into: destination.store)
            #expect(pulled.digest == fetched.descriptor.digest)
        }
        let manifest = try destination.store.manifest(for: try destination.store.resolve("\(registry.host)/docker/v2:1").descriptor)
        #expect(manifest.layers.first?.mediaType == MediaType.dockerLayerGzip)
        #expect(try destination.store.config(of: manifest).rootfs.diff_ids.count == 1)
        // And it goes back up unchanged, as a Docker manifest.
        try await using(registry.client()) { client in
            let entry = try destination.store.resolve("\(registry.host)/docker/v2:1")
            try await ImageTransfer.push(entry.descriptor, from: destination.store, to: try ImageReference(parsing: "\(registry.host)/docker/v2-again:1"), client: client)
            let again = try await client.manifest("docker/v2-again", reference: "1")
            #expect(again.descriptor.mediaType == MediaType.dockerManifest && again.descriptor.digest == entry.descriptor.digest)
        }
    }

    @Test func dockerManifestListsConvertedBySkopeoArePulledByPlatform() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        let source = try ScratchStore()
        let arm = Platform(os: "linux", architecture: "arm64")
        let index = try source.makeIndex("list:1", platforms: [.host, arm])
        try await using(registry.client()) { client in
            try await ImageTransfer.push(index, from: source.store, to: try ImageReference(parsing: "\(registry.host)/oci/list:1"), client: client)
        }
        try tool("skopeo", ["copy", "--all", "--format", "v2s2", "--src-tls-verify=false", "--dest-tls-verify=false",
                            "docker://\(registry.host)/oci/list:1", "docker://\(registry.host)/docker/list:1"])
        let destination = try ScratchStore()
        try await using(registry.client()) { client in
            let list = try await client.manifest("docker/list", reference: "1")
            #expect(list.descriptor.mediaType == MediaType.dockerManifestList)
            let pulled = try await ImageTransfer.pull(try ImageReference(parsing: "\(registry.host)/docker/list:1"), client: client,
                                                      into: destination.store, options: TransferOptions(platform: arm))
            #expect(try destination.store.config(of: try destination.store.manifest(for: pulled)).architecture == "arm64")
        }
    }
}
