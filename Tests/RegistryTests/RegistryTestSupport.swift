import Foundation
import HTTPCore
import OCI
@testable import Registry

/// A temporary OCI layout store with images made of random layers.
final class ScratchStore: @unchecked Sendable {
    let root: String
    let store: OCILayoutStore

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("stackship-reg-\(UUID().uuidString)").path
        store = try OCILayoutStore(root: root + "/store")
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Builds an image whose layers hold `sizes` bytes of random data each; tags it `name`.
    @discardableResult
    func makeImage(_ name: String, layers sizes: [Int], compression: Compression = .gzip, platform: Platform = .host) throws -> Descriptor {
        var layers: [Descriptor] = []
        var diffIDs: [Digest] = []
        for (i, size) in sizes.enumerated() {
            let dir = root + "/src-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var bytes = [UInt8](repeating: 0, count: size)
            for j in stride(from: 0, to: size, by: 8) {
                var r = UInt64.random(in: 0...UInt64.max)
                withUnsafeBytes(of: &r) { raw in for k in 0..<min(8, size - j) { bytes[j + k] = raw[k] } }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: dir + "/data.bin"))
            let built = try LayerBuilder.build([LayerSource(source: dir, destination: "/layer\(i)")], options: LayerOptions(compression: compression), into: store)
            layers.append(built.descriptor)
            diffIDs.append(built.diffID)
        }
        var config = ImageConfig(platform: platform, created: "1970-01-01T00:00:00Z", config: ImageConfig.Config(), diffIDs: diffIDs, history: nil)
        config.config?.Env = ["IMAGE=\(name)"]
        let configDescriptor = try store.writeJSON(config, mediaType: MediaType.ociConfig)
        let manifest = try store.writeJSON(Manifest(config: configDescriptor, layers: layers), mediaType: MediaType.ociManifest)
        try store.tag(manifest, as: try ImageReference(parsing: name))
        return manifest
    }

    /// An index over images for `platforms`, tagged `name`.
    @discardableResult
    func makeIndex(_ name: String, platforms: [Platform]) throws -> Descriptor {
        var children: [Descriptor] = []
        for (i, platform) in platforms.enumerated() {
            var child = try makeImage("\(name)-part\(i)", layers: [1000 + i], platform: platform)
            child.platform = platform
            child.annotations = nil
            children.append(child)
        }
        let index = try store.writeJSON(Index(manifests: children), mediaType: MediaType.ociIndex)
        try store.tag(index, as: try ImageReference(parsing: name))
        return index
    }
}

extension RegistryFixture {
    /// A client with this registry's credentials and CA, retrying quickly.
    func client(password: String? = nil, retry: RetryPolicy = .fastTests, caCertificates: [String]? = nil) -> RegistryClient {
        let credential = username.map { RegistryCredential(username: $0, password: password ?? self.password ?? "") }
        return RegistryClient(registry: host, credential: credential,
                              options: TransportOptions(caCertificates: caCertificates ?? caCertificatePath.map { [$0] } ?? [], retry: retry))
    }
}

extension RetryPolicy {
    /// Short waits, so fault tests take seconds.
    static let fastTests = RetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(50), maxDelay: .seconds(2))
}

/// Runs `body` with `client`, shutting it down afterwards.
@discardableResult
func using<T>(_ client: RegistryClient, _ body: (RegistryClient) async throws -> T) async throws -> T {
    try await client.withShutdown(body)
}
