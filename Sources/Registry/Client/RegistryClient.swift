import Foundation
import HTTPCore
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
    /// The HTTP transport every request goes through.
    public let transport: any HTTPTransporting
    /// Manifests above this size are refused, as registries refuse to store them.
    public static let manifestSizeLimit = 4 << 20

    /// A client for `registry` using `credentials` (resolved for this registry) and `options`.
    /// Plain-HTTP requests (a registry reached with --insecure) go through HTTPS_PROXY too.
    public convenience init(registry: String, credential: RegistryCredential?, options: TransportOptions = TransportOptions()) {
        var options = options
        options.httpsProxyCarriesPlainHTTP = true
        self.init(registry: registry, credential: credential, transport: HTTPTransport(options: options, classifier: .registry))
    }

    /// A client for `registry` over `transport` (which the client shuts down with itself).
    public init(registry: String, credential: RegistryCredential?, transport: any HTTPTransporting) {
        self.registry = registry
        let apiHost = registry == ImageReference.dockerHub ? "registry-1.docker.io" : registry
        self.transport = transport
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
    /// Redirects are followed by hand. Each request carries the session's Authorization only
    /// when its URL is on the registry's origin (`RegistrySession.mayAuthorize`), so an
    /// absolute URL or a redirect elsewhere gets none.
    func send(_ operation: String, method: HTTPMethod = .GET, _ pathOrURL: String, scopes: [AuthScope],
              headers: [(String, String)] = [], followRedirects: Bool = false,
              body: (@Sendable () throws -> HTTPRequestBody)? = nil) async throws -> HTTPResponse {
        let base = try await session.baseURL()
        var url = Self.isAbsolute(pathOrURL) ? pathOrURL : base + pathOrURL
        var authAttempts = 0
        var redirects = 0
        while true {
            let authorization = try await session.authorization(for: scopes, sendingTo: url)
            let target = url
            let response = try await transport.registrySend(operation) {
                var request = HTTPRequest(url: target, method: method)
                for (name, value) in headers { request.headers.add(name: name, value: value) }
                if let authorization { request.headers.add(name: "Authorization", value: authorization) }
                if let body { request.body = try body() }
                return request
            }
            let status = response.code
            // Another origin's challenge is none of the session's business.
            if (status == 401 || status == 403), await session.mayAuthorize(url), authAttempts < 2 {
                let retry = await session.handleRejection(response.headers.first(name: "WWW-Authenticate"), scopes: scopes)
                if retry {
                    authAttempts += 1
                    await response.drain()
                    continue
                }
            }
            if followRedirects, [301, 302, 303, 307, 308].contains(status), let location = response.headers.first(name: "Location"), redirects < 5 {
                await response.drain()
                url = Self.resolve(location, against: url)
                redirects += 1
                continue
            }
            return response
        }
    }

    /// True for an `http://` or `https://` URL (any case), false for a path.
    static func isAbsolute(_ pathOrURL: String) -> Bool {
        let lower = pathOrURL.prefix(8).lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }

    /// Throws the error a non-success answer means.
    func failure(_ operation: String, _ response: HTTPResponse, url: String, repository: String?, what: String? = nil) async -> RegistryError {
        let detail = await response.registryErrorDetail()
        switch response.code {
        case 401: return .unauthorized(registry: registry, repository: repository, detail: detail)
        case 403: return .denied(registry: registry, repository: repository, detail: detail)
        case 404: return .notFound(what: what ?? url, registry: registry)
        default: return .unexpectedStatus(operation: operation, url: url, status: response.code, detail: detail)
        }
    }

    static func resolve(_ location: String, against url: String) -> String {
        if isAbsolute(location) { return location }
        guard let base = URL(string: url), let resolved = URL(string: location, relativeTo: base) else { return location }
        return resolved.absoluteString
    }

    // MARK: Tags

    /// Pages of a tag list read at most (a registry that keeps linking on is broken).
    public static let tagPageLimit = 1000

    /// Lists a repository's tags, following `Link: rel="next"` pagination on the registry's own
    /// origin. Throws `paginationLoop` when a next link names a page already read,
    /// `paginationLeftOrigin` when it names another origin, and `tooManyPages` past `pageLimit`.
    public func tags(_ repository: String, pageSize: Int = 1000, pageLimit: Int = RegistryClient.tagPageLimit) async throws -> [String] {
        let base = try await session.baseURL()
        let first = "/v2/\(repository)/tags/list?n=\(pageSize)"
        var url = base + first
        var read: Set<String> = [url]
        var all: [String] = []
        var pages = 0
        var bytes = 0
        while true {
            pages += 1
            let shown = url.hasPrefix(base) ? String(url.dropFirst(base.count)) : url
            let response = try await send("list tags", url, scopes: [.pull(repository)])
            guard response.status == .ok else {
                throw await failure("list tags", response, url: shown, repository: repository, what: "repository \(repository)")
            }
            struct Page: Decodable { var tags: [String]? }
            let buffer: ByteBuffer
            do {
                buffer = try await response.body.collect(upTo: 16 << 20)
            } catch HTTPError.bodyTooLarge {
                throw RegistryError.badResponse(url: shown, detail: "a tag list page larger than 16 MiB")
            }
            // Each page is bounded; so is the whole list, so endless pages cannot fill memory either.
            bytes += buffer.readableBytes
            guard bytes <= 64 << 20 else { throw RegistryError.badResponse(url: shown, detail: "tag list pages larger than 64 MiB in all") }
            guard let page = try? JSONDecoder().decode(Page.self, from: Data(buffer.readableBytesView)) else {
                throw RegistryError.badResponse(url: shown, detail: "the tag list is not JSON")
            }
            all += page.tags ?? []
            guard let link = response.headers.first(name: "Link"), let next = Self.nextLink(link) else { return all }
            let resolved = Self.resolve(next, against: url)
            guard let origin = URLOrigin(resolved), origin == URLOrigin(base) else {
                throw RegistryError.paginationLeftOrigin(registry: registry, repository: repository, link: next)
            }
            guard read.insert(resolved).inserted else {
                throw RegistryError.paginationLoop(registry: registry, repository: repository, link: next)
            }
            guard pages < pageLimit else { throw RegistryError.tooManyPages(registry: registry, repository: repository, limit: pageLimit) }
            url = resolved
        }
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
