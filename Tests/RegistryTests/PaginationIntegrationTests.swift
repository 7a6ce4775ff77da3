import Foundation
import HTTPCore
import StackshipTesting
import Testing
@testable import Registry

/// Tag-list pagination: each `next` link is followed once, only on the registry's origin, and
/// only for so many pages; a real registry's pagination works as before.
@Suite(.serialized) struct PaginationIntegrationTests {
    static let ping = ScriptedServer.Response(status: 200, body: "{}")

    static func page(_ tags: [String], next: String?) -> ScriptedServer.Response {
        let body = #"{"name":"r","tags":[\#(tags.map { "\"\($0)\"" }.joined(separator: ","))]}"#
        return ScriptedServer.Response(status: 200, headers: next.map { ["Link": "<\($0)>; rel=\"next\""] } ?? [:], body: body)
    }

    static func client(_ server: ScriptedServer) -> RegistryClient {
        RegistryClient(registry: "127.0.0.1:\(server.port)", credential: nil, options: TransportOptions(retry: .fastTests))
    }

    @Test func aNextLinkBackToTheSamePageIsAnErrorNotALoop() async throws {
        // The issue's registry: every page links to itself.
        try await ScriptedServer.with([Self.ping, Self.page(["a"], next: "/v2/r/tags/list?n=1")]) { server in
            await #expect {
                try await using(Self.client(server)) { try await $0.tags("r", pageSize: 1) }
            } throws: { error in
                guard case RegistryError.paginationLoop = error else { return false }
                return "\(error)".contains("links back to a page it already gave")
            }
            #expect(server.requests().count == 2, "the ping and one page")
        }
    }

    @Test func aLoopThroughSeveralPagesIsFoundToo() async throws {
        // a → b → (back to) a; the first link is relative to the page, not the origin.
        try await ScriptedServer.with([Self.ping, Self.page(["a"], next: "list?n=1&last=a"), Self.page(["b"], next: "/v2/r/tags/list?n=1")]) { server in
            await #expect {
                try await using(Self.client(server)) { try await $0.tags("r", pageSize: 1) }
            } throws: { error in
                if case RegistryError.paginationLoop = error { return true }
                return false
            }
            let paths = server.requests().compactMap { $0["path"] as? String }
            #expect(paths == ["/v2/", "/v2/r/tags/list?n=1", "/v2/r/tags/list?n=1&last=a"], "a relative link resolves against the page")
        }
    }

    @Test func pagesStopAtTheLimit() async throws {
        let script = [Self.ping] + (0..<10).map { Self.page(["t\($0)"], next: "/v2/r/tags/list?n=1&last=t\($0)") }
        try await ScriptedServer.with(script) { server in
            await #expect {
                try await using(Self.client(server)) { try await $0.tags("r", pageSize: 1, pageLimit: 3) }
            } throws: { error in
                guard case let RegistryError.tooManyPages(_, repository, limit) = error else { return false }
                return repository == "r" && limit == 3
            }
            #expect(server.requests().count == 1 + 3)
        }
    }

    @Test func aSchemeChangeIsAnotherOrigin() async throws {
        _ = try await ScriptedServer.with([Self.ping, Self.page(["a"], next: "https://127.0.0.1:1/v2/r/tags/list?n=1&last=a")]) { server in
            await #expect {
                try await using(Self.client(server)) { try await $0.tags("r", pageSize: 1) }
            } throws: { error in
                if case RegistryError.paginationLeftOrigin = error { return true }
                return false
            }
        }
    }

    @Test func pagesAreFollowedToTheEndWithCredentialsOnEachOnTheRegistrysOrigin() async throws {
        let challenge = ScriptedServer.Response(status: 401, headers: ["WWW-Authenticate": #"Basic realm="r""#])
        let script = [challenge, Self.page(["a", "b"], next: "/v2/r/tags/list?n=2&last=b"), Self.page(["c", "d"], next: "list?n=2&last=d"),
                      Self.page(["e"], next: nil)]
        try await ScriptedServer.with(script) { server in
            let client = RegistryClient(registry: "127.0.0.1:\(server.port)", credential: RegistryCredential(username: "u", password: "p"),
                                        options: TransportOptions(retry: .fastTests))
            let tags = try await using(client) { try await $0.tags("r", pageSize: 2) }
            #expect(tags == ["a", "b", "c", "d", "e"])
            let requests = server.requests()
            #expect(requests.compactMap { $0["path"] as? String }
                    == ["/v2/", "/v2/r/tags/list?n=2", "/v2/r/tags/list?n=2&last=b", "/v2/r/tags/list?n=2&last=d"])
            #expect(requests.dropFirst().allSatisfy { CredentialOriginIntegrationTests.authorization($0)?.hasPrefix("Basic ") == true })
        }
    }

    @Test func aRealRegistrysTagListWithCredentials() async throws {
        // docker-registry 2.8 answers the whole list in one page whatever `n` says (pagination
        // came with distribution 3), so this checks the ordinary path end to end.
        try await withRegistry(.basic) { registry in
            let source = try ScratchStore()
            let image = try source.makeImage("paged:a", layers: [100])
            let proxy = try await FaultProxy.start(upstream: registry.url)
            defer { proxy.stop() }
            let credential = RegistryCredential(username: registry.username ?? "", password: registry.password ?? "")
            let client = RegistryClient(registry: proxy.host, credential: credential, options: TransportOptions(retry: .fastTests))
            try await using(client) { client in
                for tag in ["a", "b", "c", "d", "e"] {
                    try await ImageTransfer.push(image, from: source.store, to: try .init(parsing: "\(proxy.host)/paged:\(tag)"), client: client)
                }
                let tags = try await client.tags("paged", pageSize: 2)
                #expect(tags.sorted() == ["a", "b", "c", "d", "e"])
            }
            let pages = proxy.requests().filter { $0.path == "/v2/paged/tags/list" && $0.status == 200 }
            #expect(!pages.isEmpty && pages.allSatisfy { $0.authorization })
        }
    }
}
