import Foundation
import HTTPCore
import NIOCore
import OCI
import StackshipTesting
import Testing
@testable import Registry

/// Credentials go only to the origin that asked for them, on every request path: upload
/// locations (PUT and PATCH), mounts, redirects, pagination links and token realms. Each test
/// has a second loopback origin (another port) that must see no Authorization header, and
/// checks that the registry itself did get one.
@Suite(.serialized) struct CredentialOriginIntegrationTests {
    /// The Authorization header a scripted server logged for a request, if any.
    static func authorization(_ request: [String: Any]) -> String? {
        let headers = request["headers"] as? [String: Any] ?? [:]
        return headers.first { $0.key.lowercased() == "authorization" }?.value as? String
    }

    static func credential(_ registry: RegistryFixture) -> RegistryCredential {
        RegistryCredential(username: registry.username ?? "", password: registry.password ?? "")
    }

    /// A client for `host` with `credential`, retrying quickly.
    static func client(_ host: String, _ credential: RegistryCredential?) -> RegistryClient {
        RegistryClient(registry: host, credential: credential, options: TransportOptions(retry: .fastTests))
    }

    /// A descriptor and replayable body for `size` bytes of one value.
    static func blob(_ size: Int) -> (Descriptor, @Sendable (Int64, Int64) async throws -> HTTPRequestBody) {
        let data = Data(repeating: 0x5a, count: size)
        let descriptor = Descriptor(mediaType: MediaType.ociLayerGzip, digest: Digest.compute(data), size: Int64(size))
        return (descriptor, { offset, length in .bytes(ByteBuffer(bytes: data[Int(offset)..<Int(offset + length)])) })
    }

    @Test func anUploadLocationOnAnotherOriginGetsNoCredentials() async throws {
        try await withRegistry(.basic) { registry in
            try await ScriptedServer.with([.init(status: 201)]) { storage in
                // The registry hands the upload to a storage origin, as some do with S3.
                let front = try await FaultProxy.start(upstream: registry.url, rules: [
                    FaultRule(method: "POST", path: "^/v2/r/blobs/uploads/$",
                              action: .status(202, body: "", headers: ["Location": "\(storage.endpoint)/upload/1?state=x"]), times: FaultRule.always),
                ])
                defer { front.stop() }
                let (descriptor, body) = Self.blob(1000)
                let result = try await using(Self.client(front.host, Self.credential(registry))) { client in
                    try await client.uploadBlob("r", descriptor: descriptor, checkFirst: false, body: body)
                }
                #expect(result == .uploaded)
                let posts = front.requests().filter { $0.method == "POST" }
                #expect(!posts.isEmpty && posts.allSatisfy { $0.authorization }, "the registry itself got the credentials")
                let puts = storage.requests()
                #expect(puts.count == 1 && puts.first?["method"] as? String == "PUT")
                #expect(puts.allSatisfy { Self.authorization($0) == nil }, "the storage origin got \(puts.compactMap(Self.authorization))")
            }
        }
    }

    @Test func aStreamedPatchUploadToAnotherOriginGetsNoCredentials() async throws {
        try await withRegistry(.basic) { registry in
            // PATCH, whose answer moves the session on (a relative Location, on the storage
            // origin), then the closing PUT.
            try await ScriptedServer.with([.init(status: 202, headers: ["Location": "/upload/2?state=y"]), .init(status: 201)]) { storage in
                let front = try await FaultProxy.start(upstream: registry.url, rules: [
                    FaultRule(method: "POST", path: "^/v2/big/blobs/uploads/$",
                              action: .status(202, body: "", headers: ["Location": "\(storage.endpoint)/upload/1"]), times: FaultRule.always),
                ])
                defer { front.stop() }
                // Above the monolithic limit, so the bytes go in a PATCH.
                let (descriptor, body) = Self.blob(Int(RegistryClient.monolithicUploadLimit) + 1000)
                let result = try await using(Self.client(front.host, Self.credential(registry))) { client in
                    try await client.uploadBlob("big", descriptor: descriptor, checkFirst: false, body: body)
                }
                #expect(result == .uploaded)
                #expect(front.requests().filter { $0.method == "POST" }.allSatisfy { $0.authorization })
                let seen = storage.requests()
                #expect(seen.map { $0["method"] as? String } == ["PATCH", "PUT"])
                #expect(seen.allSatisfy { Self.authorization($0) == nil }, "the storage origin got \(seen.compactMap(Self.authorization))")
            }
        }
    }

    @Test func aMountCarriesCredentialsAndTheUploadItFallsBackToOnAnotherOriginDoesNot() async throws {
        try await withRegistry(.basic) { registry in
            try await ScriptedServer.with([.init(status: 201)]) { storage in
                let (descriptor, body) = Self.blob(3000)
                // The blob is in repository "a"; a mount into "b" works on the registry itself.
                try await using(registry.client()) { client in
                    let result = try await client.uploadBlob("a", descriptor: descriptor, body: body)
                    #expect(result == .uploaded)
                }
                let front = try await FaultProxy.start(upstream: registry.url, rules: [
                    // A mount into "c" is refused: the registry starts an upload elsewhere.
                    FaultRule(method: "POST", path: "^/v2/c/blobs/uploads/$",
                              action: .status(202, body: "", headers: ["Location": "\(storage.endpoint)/upload/3"]), times: FaultRule.always),
                ])
                defer { front.stop() }
                try await using(Self.client(front.host, Self.credential(registry))) { client in
                    let mounted = try await client.uploadBlob("b", descriptor: descriptor, mountFrom: "a", checkFirst: false, body: body)
                    #expect(mounted == .mounted)
                    let result = try await client.uploadBlob("c", descriptor: descriptor, mountFrom: "a", checkFirst: false, body: body)
                    #expect(result == .uploaded)
                }
                let mounts = front.requests().filter { $0.method == "POST" && $0.query.contains("mount=") }
                #expect(mounts.count == 2 && mounts.allSatisfy { $0.authorization }, "mount requests go to the registry with credentials")
                let seen = storage.requests()
                #expect(seen.count == 1 && seen.allSatisfy { Self.authorization($0) == nil })
            }
        }
    }

    @Test func blobRedirectsToAnotherOriginGetNoCredentials() async throws {
        try await withRegistry(.basic) { registry in
            let (descriptor, body) = Self.blob(2000)
            try await using(registry.client()) { client in
                let result = try await client.uploadBlob("r", descriptor: descriptor, body: body)
                #expect(result == .uploaded)
            }
            // A CDN in front of the same storage (a plain proxy to the registry: it forwards
            // whatever Authorization it gets, and logs it).
            let cdn = try await FaultProxy.start(upstream: registry.url, rules: [
                FaultRule(method: "HEAD", path: "/blobs/", action: .status(200, body: ""), times: FaultRule.always),
                FaultRule(method: "GET", path: "/blobs/", action: .status(200, body: String(repeating: "Z", count: 2000)), times: FaultRule.always),
            ])
            defer { cdn.stop() }
            let front = try await FaultProxy.start(upstream: registry.url, rules: [
                FaultRule(method: "HEAD", path: "^/v2/r/blobs/", action: .redirect(to: cdn.url, code: 307), times: FaultRule.always),
                FaultRule(method: "GET", path: "^/v2/r/blobs/", action: .redirect(to: cdn.url), times: FaultRule.always),
            ])
            defer { front.stop() }
            let destination = try ScratchStore()
            try await using(Self.client(front.host, Self.credential(registry))) { client in
                let exists = try await client.blobExists("r", digest: descriptor.digest)
                #expect(exists)
                try await client.fetchBlob("r", descriptor: descriptor, into: destination.store)
            }
            #expect(destination.store.contains(descriptor.digest))
            #expect(front.requests().filter { $0.path.contains("/blobs/") }.allSatisfy { $0.authorization }, "the registry got the credentials")
            let followed = cdn.requests()
            #expect(Set(followed.map(\.method)) == ["HEAD", "GET"])
            #expect(followed.allSatisfy { !$0.authorization }, "HEAD and GET redirects to another origin carry no credentials")
        }
    }

    @Test func aPaginationLinkToAnotherOriginIsRefusedBeforeAnyRequest() async throws {
        try await withRegistry(.basic) { registry in
            try await ScriptedServer.with([.init(status: 200, body: #"{"tags":["stolen"]}"#)]) { other in
                let front = try await FaultProxy.start(upstream: registry.url, rules: [
                    FaultRule(method: "GET", path: "^/v2/r/tags/list$",
                              action: .status(200, body: #"{"name":"r","tags":["1"]}"#,
                                              headers: ["Link": "<\(other.endpoint)/v2/r/tags/list?n=1&last=1>; rel=\"next\""]), times: FaultRule.always),
                ])
                defer { front.stop() }
                await #expect {
                    try await using(Self.client(front.host, Self.credential(registry))) { try await $0.tags("r", pageSize: 1) }
                } throws: { error in
                    guard case RegistryError.paginationLeftOrigin = error else { return false }
                    return "\(error)".contains(other.endpoint) && !"\(error)".contains(registry.password ?? "-")
                }
                #expect(front.requests().filter { $0.path.hasSuffix("/tags/list") }.allSatisfy { $0.authorization })
                #expect(other.requests().isEmpty, "the other origin was never asked")
            }
        }
    }

    @Test func theTokenRealmGetsBasicCredentialsTheRegistryTheTokenAndAnotherOriginNothing() async throws {
        try await withRegistry(.token) { registry in
            try await ScriptedServer.with([.init(status: 201)]) { storage in
                let front = try await FaultProxy.start(upstream: registry.url, rules: [
                    FaultRule(method: "POST", path: "^/v2/t/blobs/uploads/$",
                              action: .status(202, body: "", headers: ["Location": "\(storage.endpoint)/upload/t"]), times: FaultRule.always),
                ])
                defer { front.stop() }
                let (descriptor, body) = Self.blob(1500)
                let result = try await using(Self.client(front.host, Self.credential(registry))) { client in
                    try await client.uploadBlob("t", descriptor: descriptor, checkFirst: false, body: body)
                }
                #expect(result == .uploaded)
                let tokenRequests = registry.tokenServer?.requests() ?? []
                #expect(!tokenRequests.isEmpty && tokenRequests.allSatisfy(\.basicAuth), "the realm the registry named got Basic credentials")
                let posts = front.requests().filter { $0.method == "POST" }
                #expect(!posts.isEmpty && posts.allSatisfy { $0.headers["authorization"]?.hasPrefix("Bearer ") == true }, "the registry got the token")
                let seen = storage.requests()
                #expect(seen.count == 1 && seen.allSatisfy { Self.authorization($0) == nil }, "neither credentials nor token left the registry's origin")
            }
        }
    }

    @Test func aRealmThatRedirectsDoesNotGetItsCredentialsForwarded() async throws {
        try await ScriptedServer.with([.init(status: 200, body: #"{"token":"elsewhere"}"#)]) { elsewhere in
            try await ScriptedServer.with([.init(status: 302, headers: ["Location": "\(elsewhere.endpoint)/token"])]) { realm in
                let challenge = #"Bearer realm="\#(realm.endpoint)/token",service="svc""#
                try await ScriptedServer.with([.init(status: 401, headers: ["WWW-Authenticate": challenge])]) { registry in
                    let client = Self.client("127.0.0.1:\(registry.port)", RegistryCredential(username: "u", password: "secret-pw-1"))
                    await #expect {
                        try await using(client) { try await $0.tags("r") }
                    } throws: { error in
                        guard case let RegistryError.tokenRequestFailed(_, status, _) = error else { return false }
                        return status == 302 && "\(error)".contains("not followed") && !"\(error)".contains("secret-pw-1")
                    }
                    #expect(realm.requests().count == 1 && realm.requests().allSatisfy { Self.authorization($0)?.hasPrefix("Basic ") == true },
                            "the realm the registry named got the credentials")
                    #expect(elsewhere.requests().isEmpty, "the realm's redirect was not followed")
                }
            }
        }
    }

    @Test func aRealmOverPlainHTTPOnAnotherHostGetsNoCredentials() async throws {
        let challenge = #"Bearer realm="http://token.stackship.test/token",service="svc""#
        try await ScriptedServer.with([.init(status: 401, headers: ["WWW-Authenticate": challenge])]) { registry in
            let client = Self.client("127.0.0.1:\(registry.port)", RegistryCredential(username: "u", password: "secret-pw-2"))
            await #expect {
                try await using(client) { try await $0.tags("r") }
            } throws: { error in
                guard case RegistryError.insecureCredentials = error else { return false }
                return "\(error)".contains("token server") && "\(error)".contains("token.stackship.test") && !"\(error)".contains("secret-pw-2")
            }
            // The ping and the tag request; no token request went anywhere.
            #expect(registry.requests().allSatisfy { Self.authorization($0) == nil })
        }
    }
}
