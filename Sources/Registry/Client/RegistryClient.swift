import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OCI

/// A client for one registry (the OCI distribution API): blobs, manifests, tags.
///
/// Authentication (anonymous, Basic, Bearer tokens cached per scope) and retries happen
/// underneath; every blob and manifest fetched is checked against its digest before use.
/// Call `shutdown()` when done.
public final class RegistryClient: ShutdownClient {
    /// The registry as references name it (`docker.io`, `localhost:5000`).
    public let registry: String
    let session: RegistrySession
    let transport: HTTPTransport
    /// Manifests above this size are refused, as registries refuse to store them.
    public static let manifestSizeLimit = 4 << 20

    /// A client for `registry` using `credentials` (resolved for this registry) and `options`.
    public init(registry: String, credential: RegistryCredential?, options: TransportOptions = TransportOptions()) {
        self.registry = registry
        let apiHost = registry == ImageReference.dockerHub ? "registry-1.docker.io" : registry
        self.transport = HTTPTransport(host: apiHost, options: options)
        self.session = RegistrySession(registry: registry, apiHost: apiHost, credential: credential, transport: transport)
    }

    /// Closes connections.
    public func shutdown() async { await transport.shutdown() }

    /// Checks the registry answers the distribution API (`GET /v2/`), learning its auth scheme.
    public func ping() async throws {
        _ = try await session.baseURL()
    }

    /// Checks that the client's credentials are accepted: an authenticated `GET /v2/` (for a
    /// token registry, a token with no repository scope), as `docker login` does.
    public func verifyCredentials() async throws {
        let response = try await send("log in", "/v2/", scopes: [])
        guard response.status == .ok else {
            throw await failure("log in", response, url: "/v2/", repository: nil)
        }
        await response.drain()
    }

    /// How many token requests this client made (tests check the cache with it).
    public var tokenRequestCount: Int { get async { await session.tokenRequests } }

    // MARK: Requests

    /// Sends an authenticated request to `pathOrURL` (a path under the registry, or an absolute
    /// URL such as an upload location), retrying once with fresh credentials after a 401.
    /// Redirects are followed by hand; credentials are dropped when one leaves the origin.
    func send(_ operation: String, method: HTTPMethod = .GET, _ pathOrURL: String, scopes: [AuthScope],
              headers: [(String, String)] = [], followRedirects: Bool = false,
              body: (@Sendable () throws -> HTTPClientRequest.Body)? = nil) async throws -> HTTPClientResponse {
        let base = try await session.baseURL()
        var url = pathOrURL.hasPrefix("http://") || pathOrURL.hasPrefix("https://") ? pathOrURL : base + pathOrURL
        var authAttempts = 0
        var redirects = 0
        var sameOrigin = true
        while true {
            let authorization = sameOrigin ? try await session.authorization(for: scopes) : nil
            let target = url
            let response = try await transport.send(operation) {
                var request = HTTPClientRequest(url: target)
                request.method = method
                for (name, value) in headers { request.headers.add(name: name, value: value) }
                if let authorization { request.headers.add(name: "Authorization", value: authorization) }
                if let body { request.body = try body() }
                return request
            }
            let status = Int(response.status.code)
            if (status == 401 || status == 403) && sameOrigin && authAttempts < 2 {
                let retry = await session.handleRejection(response.headers.first(name: "WWW-Authenticate"), scopes: scopes)
                if retry {
                    authAttempts += 1
                    await response.drain()
                    continue
                }
            }
            if followRedirects, [301, 302, 303, 307, 308].contains(status), let location = response.headers.first(name: "Location"), redirects < 5 {
                await response.drain()
                let next = Self.resolve(location, against: url)
                if Self.origin(next) != Self.origin(base) { sameOrigin = false }
                url = next
                redirects += 1
                continue
            }
            return response
        }
    }

    /// Throws the error a non-success answer means.
    func failure(_ operation: String, _ response: HTTPClientResponse, url: String, repository: String?, what: String? = nil) async -> RegistryError {
        let detail = await response.registryErrorDetail()
        switch Int(response.status.code) {
        case 401: return .unauthorized(registry: registry, repository: repository, detail: detail)
        case 403: return .denied(registry: registry, repository: repository, detail: detail)
        case 404: return .notFound(what: what ?? url, registry: registry)
        default: return .unexpectedStatus(operation: operation, url: url, status: Int(response.status.code), detail: detail)
        }
    }

    static func resolve(_ location: String, against url: String) -> String {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        guard let base = URL(string: url), let resolved = URL(string: location, relativeTo: base) else { return location }
        return resolved.absoluteString
    }

    static func origin(_ url: String) -> String {
        guard let c = URLComponents(string: url) else { return url }
        return "\(c.scheme ?? "")://\(c.host ?? ""):\(c.port ?? (c.scheme == "https" ? 443 : 80))"
    }

    // MARK: Tags

    /// Lists a repository's tags, following `Link` pagination.
    public func tags(_ repository: String, pageSize: Int = 1000) async throws -> [String] {
        var path = "/v2/\(repository)/tags/list?n=\(pageSize)"
        var all: [String] = []
        for _ in 0..<10_000 {
            let response = try await send("list tags", path, scopes: [.pull(repository)])
            guard response.status == .ok else {
                throw await failure("list tags", response, url: path, repository: repository, what: "repository \(repository)")
            }
            struct Page: Decodable { var tags: [String]? }
            let buffer = try await response.body.collect(upTo: 16 << 20)
            guard let page = try? JSONDecoder().decode(Page.self, from: Data(buffer.readableBytesView)) else {
                throw RegistryError.badResponse(url: path, detail: "the tag list is not JSON")
            }
            all += page.tags ?? []
            guard let link = response.headers.first(name: "Link"), let next = Self.nextLink(link) else { break }
            path = next
        }
        return all
    }

    /// The target of `Link: <…>; rel="next"`.
    static func nextLink(_ header: String) -> String? {
        for part in header.split(separator: ",") where part.contains("rel=\"next\"") || part.contains("rel=next") {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">"), open < close else { continue }
            return String(part[part.index(after: open)..<close])
        }
        return nil
    }
}
