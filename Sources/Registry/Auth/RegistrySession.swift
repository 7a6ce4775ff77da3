import Foundation
import HTTPCore
import NIOCore
import NIOHTTP1
import OCI
import Support

/// The state of talking to one registry: the scheme found by pinging it, its auth challenge,
/// and bearer tokens cached per set of scopes until they expire. Concurrent requests that need
/// the same token wait for one fetch.
actor RegistrySession {
    let registry: String
    let apiHost: String
    let credential: RegistryCredential?
    let transport: any HTTPTransporting

    private(set) var scheme: String?
    private var challenge: AuthChallenge?
    private var tokens: [String: (value: String, expires: ContinuousClock.Instant)] = [:]
    private var inFlight: [String: Task<String, Error>] = [:]
    private var refreshToken: String?
    /// Token requests made (for tests and diagnostics).
    private(set) var tokenRequests = 0

    init(registry: String, apiHost: String, credential: RegistryCredential?, transport: any HTTPTransporting) {
        self.registry = registry
        self.apiHost = apiHost
        self.credential = credential
        self.transport = transport
        self.refreshToken = credential?.identityToken
    }

    var isLoopback: Bool { TransportOptions.isLoopback(apiHost) }

    /// `scheme://host`, pinging `/v2/` once to learn the scheme and the auth challenge.
    ///
    /// HTTPS only, unless plain HTTP is allowed. A loopback registry is asked over plain HTTP
    /// first: a TLS server answers that at once with a 400, and a plain one with 200 or 401,
    /// whereas a plain server never answers a TLS handshake (HTTPS first would wait for a
    /// timeout). A remote registry with --insecure is asked over HTTPS first.
    ///
    /// A server that answers HTTP at all is the registry: its answer (a 503 that outlasted the
    /// retries, say) is the error, and no other scheme is tried. Only plain HTTP's 400 (what a
    /// TLS server says to plain HTTP) moves on to HTTPS.
    func baseURL() async throws -> String {
        if let scheme { return "\(scheme)://\(apiHost)" }
        let candidates = isLoopback ? ["http", "https"] : (transport.options.insecure ? ["https", "http"] : ["https"])
        var errors: [String: Error] = [:]
        for (index, candidate) in candidates.enumerated() {
            do {
                challenge = try await probe(candidate)
                scheme = candidate
                return "\(candidate)://\(apiHost)"
            } catch let answer as RegistryError where Self.isAnswer(answer) {
                guard candidate == "http", Self.answeredStatus(answer) == 400, index + 1 < candidates.count else { throw answer }
                errors[candidate] = answer
            } catch {
                if error is CancellationError { throw error }
                errors[candidate] = error
            }
        }
        if case let .tlsFailed(_, detail, _)? = errors["https"] as? RegistryError {
            // Plain HTTP answered 400 and the TLS hello got plain HTTP back: not a TLS server
            // after all, so its 400 is the truth.
            // The same when plain HTTP did not answer in time: the HTTP failure is the truth.
            if detail.contains("WRONG_VERSION_NUMBER"), let plain = errors["http"] {
                if Self.isAnswer(plain) { throw plain }
                throw RegistryError.unreachable(registry: registry, detail: Self.describe(plain))
            }
            let advice = transport.options.insecure ? "trust its CA with --ca-cert" : "trust its CA with --ca-cert, or pass --insecure"
            throw RegistryError.unreachable(registry: registry, detail: "TLS failed (\(detail)); \(advice)")
        }
        if !candidates.contains("http") { throw RegistryError.plainHTTPRefused(registry: registry) }
        // The error of a scheme that did not answer HTTP (plain HTTP's 400 only said "not me").
        let error = candidates.lazy.compactMap { errors[$0] }.first { !Self.isAnswer($0) } ?? errors["http"]
        throw RegistryError.unreachable(registry: registry, detail: error.map(Self.describe) ?? "no answer")
    }

    private static func isAnswer(_ error: Error) -> Bool { answeredStatus(error) != nil }

    /// A failure to reach the registry, for `unreachable`'s detail: what went wrong, without the
    /// operation (the message names the registry already).
    private static func describe(_ error: Error) -> String {
        switch error {
        case let e as HTTPError: return e.detail
        case let RegistryError.retriesExhausted(_, attempts, last): return "\(last) (after \(attempts) attempts)"
        default: return FailureText.describe(error)
        }
    }

    /// The status of a `registryAnswered` error; nil for any other error.
    private static func answeredStatus(_ error: Error) -> Int? {
        if case let .registryAnswered(_, _, status, _, _, _)? = error as? RegistryError { return status }
        return nil
    }

    /// `GET /v2/`: 200 (no auth) or 401 with a challenge is a registry; any other answer
    /// throws `registryAnswered` with its status, body and the attempts it took.
    private func probe(_ scheme: String) async throws -> AuthChallenge? {
        let url = "\(scheme)://\(apiHost)/v2/"
        let response = try await transport.registrySend("ping \(registry)") { HTTPRequest(url: url) }
        switch response.status {
        case .ok:
            await response.drain()
            return nil
        case .unauthorized:
            await response.drain()
            return response.headers.first(name: "WWW-Authenticate").flatMap(AuthChallenge.init(header:))
        default:
            let detail = await response.registryErrorDetail()
            throw RegistryError.registryAnswered(registry: registry, request: "GET \(scheme)://\(apiHost)/v2/", status: response.code,
                                                 reason: DiagnosticText.printable(response.status.reasonPhrase, limit: 60),
                                                 attempts: response.attempts, detail: detail)
        }
    }

    /// The registry's own origin, once the ping has chosen a scheme.
    var origin: URLOrigin? { scheme.flatMap { URLOrigin("\($0)://\(apiHost)") } }

    /// Whether a request to `url` may carry this session's Authorization: only when it goes to
    /// the registry's own origin (same scheme, host and port). Upload locations, redirects and
    /// pagination links anywhere else get no credentials, Basic or Bearer. This is the one
    /// place that decides it; a token realm is the other side of the protocol (`fetchToken`).
    func mayAuthorize(_ url: String) -> Bool {
        guard let origin, let target = URLOrigin(url) else { return false }
        return origin == target
    }

    /// The Authorization header value for a request to `url` needing `scopes`, or nil when the
    /// URL is on another origin, the registry asked for none, or there is nothing to offer.
    func authorization(for scopes: [AuthScope], sendingTo url: String) async throws -> String? {
        guard mayAuthorize(url), let challenge else { return nil }
        switch challenge.scheme {
        case .basic:
            guard let credential else { return nil }
            try checkCredentialsMayBeSent(to: "\(scheme ?? "https")://\(apiHost)")
            return "Basic " + Data("\(credential.username):\(credential.password)".utf8).base64EncodedString()
        case .bearer:
            return "Bearer " + (try await token(for: scopes, challenge: challenge))
        }
    }

    /// Takes a 401/403 answer's challenge into account; returns true if retrying may help.
    func handleRejection(_ header: String?, scopes: [AuthScope]) -> Bool {
        guard let header, let new = AuthChallenge(header: header) else { return false }
        let key = Self.key(scopes)
        let hadToken = tokens[key] != nil
        tokens[key] = nil
        let changed = new != challenge
        challenge = new
        // Retry when the challenge is new (first contact, or a wider scope), or a cached token may have expired early.
        return changed || hadToken || new.isInsufficientScope
    }

    private func token(for scopes: [AuthScope], challenge: AuthChallenge) async throws -> String {
        var all = Set(scopes.map(\.description))
        if challenge.isInsufficientScope, let extra = challenge.scope { all.formUnion(extra.split(separator: " ").map(String.init)) }
        let key = all.sorted().joined(separator: " ")
        if let cached = tokens[key], cached.expires > .now { return cached.value }
        if let running = inFlight[key] { return try await running.value }
        let task = Task { try await self.fetchToken(scopes: all.sorted(), challenge: challenge) }
        inFlight[key] = task
        defer { inFlight[key] = nil }
        return try await task.value
    }

    private func fetchToken(scopes: [String], challenge: AuthChallenge) async throws -> String {
        guard let realm = challenge.realm, var components = URLComponents(string: realm), components.host != nil else {
            throw RegistryError.badResponse(url: "\(apiHost)/v2/", detail: "a Bearer challenge without a usable realm")
        }
        tokenRequests += 1
        // Credentials (Basic, or a refresh token) go to the realm the registry named: that is the
        // protocol. Only over HTTPS or to loopback, though; and the transport follows no
        // redirects, so a realm that answers one never gets them forwarded anywhere.
        if credential != nil || refreshToken != nil { try checkCredentialsMayBeSent(to: realm, what: "the token server of \(registry)") }
        let response: HTTPResponse
        if let refresh = refreshToken {
            // OAuth2 refresh-token grant (docker's identity tokens).
            var form = URLComponents()
            form.queryItems = [URLQueryItem(name: "grant_type", value: "refresh_token"), URLQueryItem(name: "refresh_token", value: refresh),
                               URLQueryItem(name: "client_id", value: "stackship"), URLQueryItem(name: "service", value: challenge.service ?? "")]
                + (scopes.isEmpty ? [] : [URLQueryItem(name: "scope", value: scopes.joined(separator: " "))])
            let body = form.percentEncodedQuery ?? ""
            response = try await transport.registrySend("token request to \(realm)") {
                var request = HTTPRequest(url: realm, method: .POST, body: .bytes(body))
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                return request
            }
        } else {
            var items = components.queryItems ?? []
            if let service = challenge.service { items.append(URLQueryItem(name: "service", value: service)) }
            for scope in scopes { items.append(URLQueryItem(name: "scope", value: scope)) }
            if let credential { items.append(URLQueryItem(name: "account", value: credential.username)) }
            components.queryItems = items
            guard let url = components.string else { throw RegistryError.badResponse(url: realm, detail: "cannot build the token URL") }
            let basic = credential.map { "Basic " + Data("\($0.username):\($0.password)".utf8).base64EncodedString() }
            response = try await transport.registrySend("token request to \(realm)") {
                var request = HTTPRequest(url: url)
                if let basic { request.headers.add(name: "Authorization", value: basic) }
                return request
            }
        }
        let status = response.code
        guard status == 200 else {
            if (300..<400).contains(status) {
                let location = DiagnosticText.printable(response.headers.first(name: "Location") ?? "nowhere")
                throw RegistryError.tokenRequestFailed(realm: realm, status: status, detail: "a redirect to \(location), which is not followed (credentials go only to the realm the registry names)")
            }
            let detail = await response.registryErrorDetail()
            if status == 401 || status == 403 { throw RegistryError.unauthorized(registry: registry, repository: nil, detail: "token server: \(detail)") }
            throw RegistryError.tokenRequestFailed(realm: realm, status: status, detail: detail)
        }
        struct TokenResponse: Decodable {
            var token: String?
            var access_token: String?
            var expires_in: Int?
            var refresh_token: String?
        }
        let buffer = try await response.body.collect(upTo: 1 << 20)
        guard let parsed = try? JSONDecoder().decode(TokenResponse.self, from: Data(buffer.readableBytesView)),
              let value = parsed.access_token ?? parsed.token, !value.isEmpty else {
            throw RegistryError.tokenRequestFailed(realm: realm, status: status, detail: "the answer has no token")
        }
        if let refresh = parsed.refresh_token { refreshToken = refresh }
        // Expire a little early so a token never lapses mid-request; 60 s is the spec's default.
        let lifetime = max(1, (parsed.expires_in ?? 60) - 5)
        tokens[scopes.joined(separator: " ")] = (value, .now + .seconds(lifetime))
        return value
    }

    /// Credentials go only over HTTPS, or plain HTTP on loopback; `what` names the receiver.
    func checkCredentialsMayBeSent(to url: String, what: String? = nil) throws {
        guard let components = URLComponents(string: url), let host = components.host else {
            throw RegistryError.badResponse(url: DiagnosticText.printable(url), detail: "not a URL credentials can be sent to")
        }
        if components.scheme?.lowercased() != "https" && !TransportOptions.isLoopback(host) {
            throw RegistryError.insecureCredentials(registry: what.map { "\($0) (\(host))" } ?? registry)
        }
    }

    static func key(_ scopes: [AuthScope]) -> String { scopes.map(\.description).sorted().joined(separator: " ") }
}
