import Foundation
import HTTPCore
import OCI
import StackshipTesting
import Testing
@testable import Registry

/// The registry client against the in-process scripted server: protocol paths no real registry
/// here produces on cue, with no Python and no registry process.
@Suite struct RegistryOnScriptedServerTests {
    static let fast = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .seconds(2))
    static let blob = Data("a layer that lives on a CDN".utf8)

    /// A registry that wants Basic credentials and sends blob reads to `cdn`, another origin.
    static func registry(redirectingTo cdn: String, user: String, password: String) -> ScriptedServer.Handler {
        let expected = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        return { request in
            guard request.authorization == expected else {
                return .init(status: 401, headers: ["WWW-Authenticate": #"Basic realm="scripted""#])
            }
            if request.path.hasPrefix("/v2/r/blobs/") { return .init(status: 307, headers: ["Location": "\(cdn)/storage/blob?signature=abc"]) }
            return .init(status: 200, body: "{}")
        }
    }

    @Test func aRedirectToAnotherOriginIsFollowedWithoutTheCredentials() async throws {
        let password = "registry-password-\(UUID().uuidString.prefix(8))"
        let digest = Digest.compute(Self.blob)
        try await ScriptedServer.with([.init(status: 200, data: Self.blob)]) { cdn in
            try await ScriptedServer.with(handler: Self.registry(redirectingTo: cdn.endpoint, user: "ci", password: password)) { front in
                let client = RegistryClient(registry: front.host, credential: RegistryCredential(username: "ci", password: password),
                                            options: TransportOptions(environment: [:], retry: Self.fast))
                let bytes = try await client.withShutdown { client in
                    try await client.blobStream("r", digest: digest).collect(upTo: 1 << 20)
                }
                #expect(Data(bytes.readableBytesView) == Self.blob)
                let blobRequests = front.received().filter { $0.path.hasPrefix("/v2/r/blobs/") }
                #expect(!blobRequests.isEmpty && blobRequests.allSatisfy { $0.authorization?.hasPrefix("Basic ") == true },
                        "the registry's own origin got the credentials")
                let followed = cdn.received()
                #expect(followed.count == 1 && followed.first?.path == "/storage/blob?signature=abc")
                #expect(followed.allSatisfy { $0.authorization == nil }, "credentials never follow a redirect to another origin")
                #expect(followed.allSatisfy { request in !request.headers.contains { $0.value.contains(password) } })
            }
        }
    }

    @Test func aRedirectToTheSameOriginKeepsTheCredentials() async throws {
        let digest = Digest.compute(Self.blob)
        let expected = "Basic " + Data("ci:pw".utf8).base64EncodedString()
        try await ScriptedServer.with(handler: { request in
            guard request.authorization == expected else { return .init(status: 401, headers: ["WWW-Authenticate": #"Basic realm="scripted""#]) }
            if request.path.hasPrefix("/v2/r/blobs/") { return .init(status: 307, headers: ["Location": "/mirror/blob"]) }
            if request.path == "/mirror/blob" { return .init(status: 200, data: Self.blob) }
            return .init(status: 200, body: "{}")
        }) { server in
            let client = RegistryClient(registry: server.host, credential: RegistryCredential(username: "ci", password: "pw"),
                                        options: TransportOptions(environment: [:], retry: Self.fast))
            let bytes = try await client.withShutdown { try await $0.blobStream("r", digest: digest).collect(upTo: 1 << 20) }
            #expect(Data(bytes.readableBytesView) == Self.blob)
            #expect(server.received().filter { $0.path == "/mirror/blob" }.allSatisfy { $0.authorization == expected })
        }
    }

    @Test func aBlobThatBreaksOffIsResumedWithARange() async throws {
        let digest = Digest.compute(Self.blob)
        let half = Self.blob.count / 2
        let broken = ScriptedServer.Response(status: 200, headers: ["Content-Length": "\(Self.blob.count)", "Connection": "close"],
                                             data: Self.blob.prefix(half))
        let rest = ScriptedServer.Response(status: 206, data: Self.blob.suffix(from: half))
        let answers = Answers([broken, rest])
        try await ScriptedServer.with(handler: { request in
            request.path == "/v2/" ? .init(status: 200) : answers.next()
        }) { server in
            let store = try OCILayoutStore(root: NSTemporaryDirectory() + "scripted-store-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(atPath: store.root) }
            let client = RegistryClient(registry: server.host, credential: nil, options: TransportOptions(environment: [:], retry: Self.fast))
            try await client.withShutdown { client in
                try await client.fetchBlob("r", descriptor: Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: Int64(Self.blob.count)), into: store)
            }
            #expect(store.contains(digest))
            let ranges = server.received().filter { $0.path.hasPrefix("/v2/r/blobs/") }.map { $0.header("Range") }
            #expect(ranges == [nil, "bytes=\(half)-"], "\(ranges)")
        }
    }
}

/// Scripted answers handed out in order, the last repeating.
final class Answers: @unchecked Sendable {
    private let lock = NSLock()
    private let all: [ScriptedServer.Response]
    private var index = 0
    init(_ all: [ScriptedServer.Response]) { self.all = all }
    func next() -> ScriptedServer.Response { lock.withLock { defer { index += 1 }; return all[min(index, all.count - 1)] } }
}
