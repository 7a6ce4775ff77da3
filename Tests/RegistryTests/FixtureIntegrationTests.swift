import Foundation
import StackshipTesting
import Testing

// Proves the registry fixtures work, using tools nobody here wrote: skopeo pushes and inspects,
// umoci builds the image, curl speaks raw HTTP.

// MARK: - Helpers

/// A tiny OCI image (one layer holding /hello.txt) built with umoci in a temp dir.
private struct TinyImage {
    let directory: String
    /// "oci:DIR:t" for skopeo.
    var reference: String { "oci:\(directory)/layout:t" }

    static func make() async throws -> TinyImage {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stackship-tiny-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let layout = "\(dir)/layout"
        try Data("hello from stackship fixtures\n".utf8).write(to: URL(fileURLWithPath: "\(dir)/hello.txt"))
        for args in [["init", "--layout", layout],
                     ["new", "--image", "\(layout):t"],
                     ["insert", "--image", "\(layout):t", "\(dir)/hello.txt", "/hello.txt"]] {
            let r = try await runCommand(try FixtureTools.require("umoci", apt: "umoci"), args)
            guard r.status == 0 else { throw FixtureError("umoci \(args.joined(separator: " ")): \(r.summary)") }
        }
        return TinyImage(directory: dir)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

private func skopeo(_ args: [String]) async throws -> CommandResult {
    let tool = try FixtureTools.require("skopeo", apt: "skopeo")
    var env = ProcessInfo.processInfo.environment
    // Credentials only from the command line, never from a host auth.json.
    env["REGISTRY_AUTH_FILE"] = FileManager.default.temporaryDirectory.appendingPathComponent("stackship-no-auth-\(UUID().uuidString).json").path
    return try await runCommand(tool, ["--insecure-policy"] + args, environment: env)
}

private func curl(_ args: [String]) async throws -> CommandResult {
    try await runCommand(try FixtureTools.require("curl", apt: "curl"), ["-s", "--max-time", "20"] + args)
}

/// The HTTP status curl saw ("000" when there was none).
private func httpCode(_ args: [String]) async throws -> String {
    try await curl(["-o", "/dev/null", "-w", "%{http_code}"] + args).stdout
}

/// The TLS/credential flags skopeo needs for the registry, for `--dest-…` or `--src-…`/inspect (prefix "").
private func skopeoFlags(_ registry: RegistryFixture, _ prefix: String) -> [String] {
    var flags: [String] = []
    switch registry.setup {
    case .tls:
        if let dir = registry.certificateDirectory { flags.append("--\(prefix)cert-dir=\(dir)") }
    default:
        flags.append("--\(prefix)tls-verify=false")
    }
    if let user = registry.username, let pass = registry.password {
        flags.append("--\(prefix)creds=\(user):\(pass)")
    }
    return flags
}

/// Pushes the tiny image to HOST/test/img:1 with skopeo; returns the manifest digest skopeo wrote.
@discardableResult
private func push(_ image: TinyImage, to registry: RegistryFixture, host: String? = nil, repository: String = "test/img:1") async throws -> String {
    let digestFile = "\(image.directory)/digest-\(UUID().uuidString.prefix(6))"
    let r = try await skopeo(["copy", "--digestfile", digestFile] + skopeoFlags(registry, "dest-")
                             + [image.reference, "docker://\(host ?? registry.host)/\(repository)"])
    try #require(r.status == 0, "skopeo copy failed: \(r.summary)\nregistry stderr: \(registry.stderr)")
    return try String(contentsOfFile: digestFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
}

private struct Inspection: Decodable {
    var Name: String
    var Digest: String
    var RepoTags: [String]?
    var Layers: [String]?
}

private func inspect(_ registry: RegistryFixture, host: String? = nil, repository: String = "test/img:1") async throws -> Inspection {
    let r = try await skopeo(["inspect"] + skopeoFlags(registry, "") + ["docker://\(host ?? registry.host)/\(repository)"])
    try #require(r.status == 0, "skopeo inspect failed: \(r.summary)")
    return try JSONDecoder().decode(Inspection.self, from: Data(r.stdout.utf8))
}

/// The value of the last `name:` header in curl -i/-D output.
private func header(_ name: String, in response: String) -> String? {
    response.split(whereSeparator: \.isNewline).reversed().first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
        .map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
}

/// The decoded header and claims of a JWT.
private func decodeJWT(_ token: String) throws -> (header: [String: Any], claims: [String: Any]) {
    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    try #require(parts.count == 3, "not a JWT: \(token)")
    func decode(_ part: Substring) throws -> [String: Any] {
        var s = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        let data = try #require(Data(base64Encoded: s))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
    return (try decode(parts[0]), try decode(parts[1]))
}

private func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
}

/// GETs a token from the token server with curl.
private func fetchToken(_ server: TokenServer, scope: String, credentials: Bool = true) async throws -> String {
    var args = ["\(server.realm)?service=\(server.service)&scope=\(scope)"]
    if credentials { args = ["-u", "\(server.username):\(server.password)"] + args }
    let r = try await curl(args)
    let body = try json(r.stdout)
    return try #require(body["token"] as? String, "no token in \(r.stdout)")
}

// MARK: - Tests

@Suite("Registry fixtures")
struct FixtureIntegrationTests {
    @Test("each set-up takes a skopeo push and answers skopeo inspect", arguments: RegistryFixture.Setup.allCases)
    func skopeoRoundTrip(setup: RegistryFixture.Setup) async throws {
        let image = try await TinyImage.make()
        defer { image.remove() }
        try await withRegistry(setup) { registry in
            #expect(registry.host == "127.0.0.1:\(registry.port)")
            #expect(registry.url == (setup == .tls ? "https://" : "http://") + registry.host)
            let digest = try await push(image, to: registry)
            #expect(digest.hasPrefix("sha256:"))
            let info = try await inspect(registry)
            #expect(info.Name == "\(registry.host)/test/img")
            #expect(info.Digest == digest)
            #expect(info.RepoTags == ["1"])
            #expect(info.Layers?.count == 1)
            // The blobs really are in the fixture's storage.
            let repo = "\(registry.storageDirectory)/docker/registry/v2/repositories/test/img"
            #expect(FileManager.default.fileExists(atPath: repo))
        }
    }

    @Test("plain: /v2/ answers 200 with the distribution API header, without credentials")
    func plainAnswers() async throws {
        try await withRegistry(.plain) { registry in
            #expect(registry.username == nil && registry.password == nil)
            #expect(registry.caCertificatePath == nil && registry.tokenServer == nil)
            let r = try await curl(["-i", "\(registry.url)/v2/"])
            #expect(r.stdout.hasPrefix("HTTP/1.1 200"))
            #expect(r.stdout.lowercased().contains("docker-distribution-api-version: registry/2.0"))
        }
    }

    @Test("basic: 401 with a Basic challenge without credentials, 200 with them; skopeo needs them")
    func basicAuth() async throws {
        let image = try await TinyImage.make()
        defer { image.remove() }
        try await withRegistry(.basic) { registry in
            let user = try #require(registry.username), pass = try #require(registry.password)
            let challenge = try await curl(["-i", "\(registry.url)/v2/"])
            #expect(challenge.stdout.hasPrefix("HTTP/1.1 401"))
            #expect(challenge.stdout.contains("Www-Authenticate: Basic realm=\"stackship-test-registry\""))
            #expect(try await httpCode(["-u", "\(user):\(pass)", "\(registry.url)/v2/"]) == "200")
            #expect(try await httpCode(["-u", "\(user):wrong", "\(registry.url)/v2/"]) == "401")
            try await push(image, to: registry)
            let anonymous = try await skopeo(["inspect", "--tls-verify=false", "docker://\(registry.host)/test/img:1"])
            #expect(anonymous.status != 0)
            #expect(anonymous.stderr.contains("unauthorized") || anonymous.stderr.contains("authentication required"))
        }
    }

    @Test("tls: served with a certificate for 127.0.0.1 and localhost from the fixture's CA")
    func tlsCertificate() async throws {
        try await withRegistry(.tls) { registry in
            let ca = try #require(registry.caCertificatePath)
            let certDir = try #require(registry.certificateDirectory)
            #expect(FileManager.default.contentsEqual(atPath: ca, andPath: "\(certDir)/ca.crt"))
            #expect(try await httpCode(["--cacert", ca, "https://127.0.0.1:\(registry.port)/v2/"]) == "200")
            #expect(try await httpCode(["--cacert", ca, "https://localhost:\(registry.port)/v2/"]) == "200")
            // Not trusted without the CA (curl 60: peer certificate cannot be authenticated).
            let untrusted = try await curl(["https://127.0.0.1:\(registry.port)/v2/"])
            #expect(untrusted.status == 60)
            // And not plain HTTP.
            #expect(try await httpCode(["http://127.0.0.1:\(registry.port)/v2/"]) == "400")
            // The fault proxy can sit in front of it, verifying it with the CA.
            let proxy = try await FaultProxy.start(upstream: registry.url, upstreamCA: ca)
            defer { proxy.stop() }
            #expect(try await httpCode(["\(proxy.url)/v2/"]) == "200")
        }
    }

    @Test("token: the registry challenges with the token server's realm, and skopeo's token requests are logged")
    func tokenAuthWithSkopeo() async throws {
        let image = try await TinyImage.make()
        defer { image.remove() }
        try await withRegistry(.token) { registry in
            let server = try #require(registry.tokenServer)
            let challenge = try await curl(["-i", "\(registry.url)/v2/"])
            #expect(challenge.stdout.hasPrefix("HTTP/1.1 401"))
            #expect(challenge.stdout.contains(
                "Www-Authenticate: Bearer realm=\"http://127.0.0.1:\(server.port)/token\",service=\"stackship-test-registry\""))
            try await push(image, to: registry)
            _ = try await inspect(registry)

            let requests = server.requests()
            #expect(!requests.isEmpty)
            #expect(requests.allSatisfy { $0.status == 200 })
            #expect(requests.allSatisfy { $0.basicAuth && $0.username == server.username })
            let pushGrant = requests.first { ($0.granted ?? []).contains { $0.name == "test/img" && $0.actions.contains("push") } }
            #expect(pushGrant != nil, "no token granted push on test/img: \(requests)")
            #expect(requests.contains { $0.scopes?.contains("repository:test/img:pull,push") == true }, "\(requests.map(\.query))")
        }
    }

    @Test("token: the registry accepts tokens whose header names the key by kid and by x5c",
          arguments: [TokenServer.KeyIdentification.kid, .x5c])
    func tokenKeyIdentification(_ mode: TokenServer.KeyIdentification) async throws {
        let options = TokenServer.Options(keyIdentification: mode)
        try await withRegistry(.token, tokenOptions: options) { registry in
            let server = try #require(registry.tokenServer)
            let token = try await fetchToken(server, scope: "repository:test/img:pull")
            let (header, claims) = try decodeJWT(token)
            #expect(header["alg"] as? String == "RS256")
            switch mode {
            case .kid:
                let kid = try #require(header["kid"] as? String)
                #expect(kid.wholeMatch(of: #/([A-Z2-7]{4}:){11}[A-Z2-7]{4}/#) != nil, "kid \(kid)")
                #expect(header["x5c"] == nil)
            case .x5c:
                #expect((header["x5c"] as? [String])?.count == 1)
                #expect(header["kid"] == nil)
            }
            #expect(claims["aud"] as? String == "stackship-test-registry")
            #expect(claims["iss"] as? String == "stackship-test-issuer")

            // Authorized for test/img (404: nothing pushed yet, but not 401) …
            #expect(try await httpCode(["-H", "Authorization: Bearer \(token)", "\(registry.url)/v2/test/img/tags/list"]) == "404")
            #expect(try await httpCode(["-H", "Authorization: Bearer \(token)", "\(registry.url)/v2/"]) == "200")
            // … but not for another repository, nor with a tampered signature.
            #expect(try await httpCode(["-H", "Authorization: Bearer \(token)", "\(registry.url)/v2/other/tags/list"]) == "401")
            let tampered = String(token.dropLast(4)) + (token.hasSuffix("AAAA") ? "BBBB" : "AAAA")
            #expect(try await httpCode(["-H", "Authorization: Bearer \(tampered)", "\(registry.url)/v2/"]) == "401")
        }
    }

    @Test("token server: GET and POST grants, refresh tokens, claims, anonymous access and its log")
    func tokenServerProtocol() async throws {
        let server = try await TokenServer.start(options: TokenServer.Options(lifetime: 120))
        defer { server.stop() }
        let base = "\(server.realm)?service=\(server.service)&scope=repository:a/b:pull,push"

        #expect(try await httpCode([base]) == "401")  // anonymous not allowed
        #expect(try await httpCode(["-u", "\(server.username):nope", base]) == "401")
        let got = try json(try await curl(["-u", "\(server.username):\(server.password)", base + "&account=\(server.username)"]).stdout)
        let token = try #require(got["token"] as? String)
        #expect(got["access_token"] as? String == token)
        #expect(got["expires_in"] as? Int == 120)
        let issuedAt = try #require(got["issued_at"] as? String)
        #expect(issuedAt.wholeMatch(of: #/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/#) != nil, "issued_at \(issuedAt)")

        let claims = try decodeJWT(token).claims
        #expect(claims["sub"] as? String == server.username)
        #expect(claims["aud"] as? String == server.service)
        #expect(claims["iss"] as? String == server.issuer)
        let exp = try #require(claims["exp"] as? Int), iat = try #require(claims["iat"] as? Int)
        let nbf = try #require(claims["nbf"] as? Int)
        #expect(exp - iat == 120 && nbf <= iat)
        #expect((claims["jti"] as? String)?.isEmpty == false)
        let access = try #require(claims["access"] as? [[String: Any]])
        #expect(access.count == 1)
        #expect(access.first?["type"] as? String == "repository")
        #expect(access.first?["name"] as? String == "a/b")
        #expect(access.first?["actions"] as? [String] == ["pull", "push"])

        // OAuth2 password grant with a refresh token, then the refresh grant.
        let form = ["-d", "service=\(server.service)", "-d", "scope=repository:a/b:pull", "-d", "client_id=stackship-tests"]
        let oauth = try json(try await curl(["-X", "POST", "-d", "grant_type=password", "-d", "username=\(server.username)",
                                             "-d", "password=\(server.password)", "-d", "access_type=offline"] + form + [server.realm]).stdout)
        #expect(oauth["access_token"] is String)
        let refresh = try #require(oauth["refresh_token"] as? String)
        let refreshed = try json(try await curl(["-X", "POST", "-d", "grant_type=refresh_token", "-d", "refresh_token=\(refresh)"]
                                                + form + [server.realm]).stdout)
        let refreshedToken = try #require(refreshed["access_token"] as? String)
        #expect(refreshed["refresh_token"] == nil)  // no access_type=offline this time
        #expect((try decodeJWT(refreshedToken).claims["sub"]) as? String == server.username)
        #expect(try await httpCode(["-X", "POST", "-d", "grant_type=refresh_token", "-d", "refresh_token=bogus"] + form + [server.realm]) == "401")
        #expect(try await httpCode(["-X", "POST", "-d", "grant_type=password", "-d", "username=\(server.username)",
                                    "-d", "password=wrong"] + form + [server.realm]) == "401")

        let log = server.requests()
        #expect(log.map(\.method) == ["GET", "GET", "GET", "POST", "POST", "POST", "POST"])
        #expect(log.map(\.status) == [401, 401, 200, 200, 200, 401, 401])
        #expect(log.map(\.basicAuth) == [false, true, true, false, false, false, false])
        #expect(log[2].account == server.username)
        #expect(log[2].scopes == ["repository:a/b:pull,push"])
        #expect(log[3].grantType == "password" && log[3].accessType == "offline" && log[3].clientID == "stackship-tests")
        #expect(log[4].grantType == "refresh_token" && log[4].username == server.username)

        // A server that lets anonymous users pull grants them pull only.
        let open = try await TokenServer.start(options: TokenServer.Options(anonymousPull: true))
        defer { open.stop() }
        let anonymous = try await fetchToken(open, scope: "repository:a/b:pull,push", credentials: false)
        let anonymousAccess = try #require(try decodeJWT(anonymous).claims["access"] as? [[String: Any]])
        #expect(anonymousAccess.first?["actions"] as? [String] == ["pull"])
        #expect(open.requests().first?.basicAuth == false)
    }

    @Test("token: a short-lived token stops working at the registry when it expires only with the 60 s leeway compensated")
    func shortLivedToken() async throws {
        // Long enough that fetching and first use fit inside it on a loaded CI machine;
        // the second use waits until well after expiry, measured from when it arrived.
        let lifetime = 60  // a full parallel suite on 2 cores beside a swift build has taken over 30 s to fetch and first use one
        async let compensatedStart = RegistryFixture.start(
            .token, tokenOptions: TokenServer.Options(lifetime: lifetime, compensateRegistryLeeway: true))
        async let plainStart = RegistryFixture.start(.token, tokenOptions: TokenServer.Options(lifetime: lifetime))
        let compensated = try await compensatedStart
        defer { compensated.stop() }
        let uncompensated = try await plainStart
        defer { uncompensated.stop() }

        let clock = ContinuousClock()
        var tokens: [String] = []
        var compensatedReceived: ContinuousClock.Instant?
        for registry in [compensated, uncompensated] {
            let server = try #require(registry.tokenServer)
            let asked = clock.now
            let token = try await fetchToken(server, scope: "repository:test/img:pull")
            if compensatedReceived == nil { compensatedReceived = clock.now }
            let code = try await httpCode(["-H", "Authorization: Bearer \(token)", "\(registry.url)/v2/test/img/tags/list"])
            #expect(code == "404", "a fresh token was refused \(asked.duration(to: clock.now)) after it was asked for")
            tokens.append(token)
        }
        // What each server signs: the plain one `lifetime` after issue (distribution then accepts
        // it for another 60 s), the compensated one 60 s earlier, so the registry's own check ends
        // it on time. Checked on the claims: a second use of the plain token after its `exp` would
        // depend on the wall clock, which jumps on a loaded sandbox.
        func validity(_ token: String) throws -> Int {
            let claims = try decodeJWT(token).claims
            let exp = try #require(claims["exp"] as? Int), nbf = try #require(claims["nbf"] as? Int)
            return exp - (nbf + 1)
        }
        #expect(try validity(tokens[0]) == lifetime - 60)
        #expect(try validity(tokens[1]) == lifetime)
        // The compensated token expires at the latest `lifetime` after it arrived.
        try await clock.sleep(until: compensatedReceived! + .seconds(lifetime) + .milliseconds(1500))
        let expired = try await httpCode(["-H", "Authorization: Bearer \(tokens[0])", "\(compensated.url)/v2/test/img/tags/list"])
        #expect(expired == "401")
    }

    @Test("restart() keeps the port and the content; stopProcess() refuses connections until startProcess()")
    func restartKeepsContent() async throws {
        let image = try await TinyImage.make()
        defer { image.remove() }
        try await withRegistry(.basic) { registry in
            let digest = try await push(image, to: registry)
            try await registry.restart()
            #expect(registry.isRunning)
            #expect(try await inspect(registry).Digest == digest)

            // An upload begun before a restart can be finished after it (same storage, same
            // http.secret signing the upload's _state).
            let auth = ["-u", "\(try #require(registry.username)):\(try #require(registry.password))"]
            let part1 = "\(image.directory)/part1", part2 = "\(image.directory)/part2"
            try Data(repeating: 0x61, count: 70_000).write(to: URL(fileURLWithPath: part1))
            try Data(repeating: 0x62, count: 30_000).write(to: URL(fileURLWithPath: part2))
            let sum = try await runCommand("sh", ["-c", "cat \"$0\" \"$1\" | sha256sum", part1, part2])
            let blobDigest = "sha256:" + (sum.stdout.split(separator: " ").first.map(String.init) ?? "")
            let started = try await curl(["-i", "-X", "POST"] + auth + ["\(registry.url)/v2/test/up/blobs/uploads/"])
            #expect(started.stdout.hasPrefix("HTTP/1.1 202"))
            let upload = try #require(header("Location", in: started.stdout))
            let patched = try await curl(["-i", "-X", "PATCH", "-H", "Content-Type: application/octet-stream",
                                          "--data-binary", "@\(part1)"] + auth + [upload])
            #expect(patched.stdout.hasPrefix("HTTP/1.1 202"))
            #expect(header("Range", in: patched.stdout) == "0-69999")
            let resume = try #require(header("Location", in: patched.stdout))
            try await registry.restart()
            let status = try await curl(["-i"] + auth + [resume])
            #expect(status.stdout.hasPrefix("HTTP/1.1 204") && header("Range", in: status.stdout) == "0-69999", "\(status.stdout)")
            let finished = try await curl(["-i", "-X", "PUT", "-H", "Content-Type: application/octet-stream",
                                           "--data-binary", "@\(part2)"] + auth + ["\(resume)&digest=\(blobDigest)"])
            #expect(finished.stdout.hasPrefix("HTTP/1.1 201"), "\(finished.stdout)")
            #expect(header("Docker-Content-Digest", in: finished.stdout) == blobDigest)

            registry.stopProcess()
            #expect(!registry.isRunning)
            #expect(!Loopback.isAccepting(port: registry.port))
            #expect(try await curl(["\(registry.url)/v2/"]).status == 7)  // curl 7: connection refused
            try await registry.startProcess()
            #expect(try await inspect(registry).Digest == digest)
        }
    }

    @Test("fault proxy: a 429 with Retry-After on the first matching request, then pass-through")
    func proxyStatusRule() async throws {
        try await withRegistry(.plain) { registry in
            let proxy = try await FaultProxy.start(upstream: registry.url, rules: [
                FaultRule(method: "GET", path: "^/v2/$", action: .status(429, retryAfter: 3), times: 1),
                FaultRule(path: "^/v2/_catalog$", action: .delay(seconds: 0.6), times: FaultRule.always),
            ])
            defer { proxy.stop() }
            let slow = try await curl(["-o", "/dev/null", "-w", "%{http_code} %{time_total}", "\(proxy.url)/v2/_catalog"])
            let parts = slow.stdout.split(separator: " ")
            #expect(parts.first == "200")
            #expect((parts.last.flatMap { Double($0) } ?? 0) >= 0.6, "\(slow.stdout)")
            let first = try await curl(["-D", "-", "-o", "/dev/null", "-w", "%{http_code}", "\(proxy.url)/v2/"])
            #expect(first.stdout.hasSuffix("429"))
            #expect(first.stdout.contains("Retry-After: 3"))
            #expect(try await httpCode(["\(proxy.url)/v2/"]) == "200")
            #expect(try await httpCode(["\(proxy.url)/v2/"]) == "200")

            let log = proxy.requests().filter { $0.path == "/v2/" }
            #expect(log.map(\.status) == [429, 200, 200])
            #expect(log.map(\.rule) == [0, nil, nil])
            #expect(log.first?.action == "status")
            #expect(proxy.requests().first?.action == "delay")
            #expect(log.allSatisfy { $0.method == "GET" && $0.path == "/v2/" && !$0.authorization })
        }
    }

    @Test("fault proxy: a reset rule closes the connection without a response")
    func proxyResetRule() async throws {
        try await withRegistry(.plain) { registry in
            let proxy = try await FaultProxy.start(upstream: registry.url, rules: [
                FaultRule(path: "^/v2/$", action: .reset, times: 2),
            ])
            defer { proxy.stop() }
            for _ in 0..<2 {
                let reset = try await curl(["\(proxy.url)/v2/"])
                #expect([52, 56].contains(reset.status), "curl exit \(reset.status)")  // empty reply / recv failure
            }
            #expect(try await httpCode(["\(proxy.url)/v2/"]) == "200")
            let log = proxy.requests()
            #expect(log.map(\.action) == ["reset", "reset", nil])
            #expect(log.map(\.status) == [nil, nil, 200])
            #expect(proxy.stderr.isEmpty, "proxy stderr: \(proxy.stderr)")
        }
    }

    @Test("fault proxy: skopeo pushes through it; upload Locations are rewritten so every request goes through it")
    func skopeoThroughProxy() async throws {
        let image = try await TinyImage.make()
        defer { image.remove() }
        try await withRegistry(.basic) { registry in
            let proxy = try await FaultProxy.start(upstream: registry.url, rules: [
                FaultRule(method: "POST", path: "/blobs/uploads/$", action: .status(503), times: 1),
            ])
            defer { proxy.stop() }
            // skopeo 1.9 does not retry a 503 on an upload start (not even with --retry-times): the
            // first push fails on the injected 503, the second passes through.
            let failed = try await skopeo(["copy", "--retry-times=2"] + skopeoFlags(registry, "dest-")
                                          + [image.reference, "docker://\(proxy.host)/test/img:1"])
            #expect(failed.status != 0 && failed.stderr.contains("503"), "\(failed.summary)")
            let digest = try await push(image, to: registry, host: proxy.host)
            #expect(try await inspect(registry).Digest == digest)  // straight from the registry

            let log = proxy.requests()
            let uploads = log.filter { $0.path.contains("/blobs/uploads/") && $0.path.count > "/v2/test/img/blobs/uploads/".count }
            #expect(uploads.contains { $0.method == "PUT" && $0.status == 201 }, "no upload completed via the proxy: \(log.map { "\($0.method) \($0.path) \($0.status ?? 0)" })")
            #expect(uploads.allSatisfy { $0.authorization })
            #expect(log.contains { $0.status == 401 && !$0.authorization })  // the Basic challenge
            #expect(log.contains { $0.rule == 0 && $0.status == 503 })
            #expect(log.contains { $0.method == "PUT" && $0.path == "/v2/test/img/manifests/1" && $0.status == 201 })
        }
    }

    @Test("fault proxy: a redirect to another origin; the second proxy logs whether Authorization arrived")
    func proxyRedirectToAnotherOrigin() async throws {
        let image = try await TinyImage.make()
        defer { image.remove() }
        // A registry with credentials, and a plain one with the same content standing in for a blob CDN.
        let secured = try await RegistryFixture.start(.basic)
        defer { secured.stop() }
        let cdn = try await RegistryFixture.start(.plain)
        defer { cdn.stop() }
        try await push(image, to: secured)
        try await push(image, to: cdn)

        let second = try await FaultProxy.start(upstream: cdn.url)
        defer { second.stop() }
        let first = try await FaultProxy.start(upstream: secured.url, rules: [
            FaultRule(method: "GET", path: "/blobs/sha256:", action: .redirect(to: second.url), times: FaultRule.always),
        ])
        defer { first.stop() }

        // skopeo follows the redirect and does not send the registry's credentials to the other origin.
        let out = "\(image.directory)/pulled"
        let user = try #require(secured.username), pass = try #require(secured.password)
        let pull = try await skopeo(["copy", "--src-tls-verify=false", "--src-creds=\(user):\(pass)",
                                     "docker://\(first.host)/test/img:1", "oci:\(out):t"])
        #expect(pull.status == 0, "skopeo copy through the redirect: \(pull.summary)")
        let redirected = first.requests().filter { $0.action == "redirect" }
        #expect(!redirected.isEmpty && redirected.allSatisfy { $0.authorization && $0.status == 302 })
        #expect(redirected.allSatisfy { $0.location == second.url + $0.path })
        let arrived = second.requests()
        #expect(arrived.count == redirected.count)
        #expect(arrived.allSatisfy { !$0.authorization && $0.status == 200 })

        // curl -L drops Authorization on the cross-origin hop too; --location-trusted keeps it.
        let blob = try #require(redirected.first?.path)
        #expect(try await httpCode(["-L", "-u", "\(user):\(pass)", "\(first.url)\(blob)"]) == "200")
        #expect(second.requests().last?.authorization == false)
        #expect(try await httpCode(["-L", "--location-trusted", "-u", "\(user):\(pass)", "\(first.url)\(blob)"]) == "200")
        #expect(second.requests().last?.authorization == true)
    }

    @Test("stop() really stops: ports refused, temp dirs and reaper records gone; idempotent")
    func stopReallyStops() async throws {
        let registry = try await RegistryFixture.start(.token)
        let server = try #require(registry.tokenServer)
        let proxy = try await FaultProxy.start(upstream: registry.url)
        #expect(Loopback.isAccepting(port: registry.port))
        #expect(Loopback.isAccepting(port: server.port))
        #expect(Loopback.isAccepting(port: proxy.port))
        let dirs = [registry.directory, server.directory, proxy.directory]
        #expect(dirs.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        let records = { () -> [String] in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: Reaper.directory)) ?? []
            return names.filter { name in
                guard let data = FileManager.default.contents(atPath: "\(Reaper.directory)/\(name)"),
                      let r = try? JSONDecoder().decode(Reaper.Record.self, from: data) else { return false }
                return dirs.contains(r.scratch)
            }
        }
        #expect(records().count == 3)

        registry.stop()
        proxy.stop()
        #expect(!registry.isRunning && !server.isRunning && !proxy.isRunning)
        #expect(!Loopback.isAccepting(port: registry.port))
        #expect(!Loopback.isAccepting(port: server.port))
        #expect(!Loopback.isAccepting(port: proxy.port))
        #expect(dirs.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
        #expect(records().isEmpty)
        registry.stop()
        proxy.stop()
        await #expect(throws: FixtureError.self) { try await registry.restart() }

        // withRegistry stops the registry when the body returns, and when it throws.
        let port = try await withRegistry(.plain) { $0.port }
        #expect(!Loopback.isAccepting(port: port))
        var thrownPort = 0
        await #expect(throws: FixtureError.self) {
            try await withRegistry(.plain) { r in
                thrownPort = r.port
                throw FixtureError("boom")
            }
        }
        #expect(thrownPort != 0 && !Loopback.isAccepting(port: thrownPort))
    }

    @Test("the reaper kills servers left by a dead test process and removes their temp dirs, and nothing else")
    func reaperCleansUpAfterCrashedRuns() async throws {
        let python = try FixtureTools.python()
        // A live fixture of this very process must survive the reap.
        let live = try await FaultProxy.start(upstream: "http://127.0.0.1:1")
        defer { live.stop() }
        let scratch = try Scratch.make("reaper-test")
        // A stand-in for an orphaned server: its command line names its scratch dir, like the real ones.
        let orphan = Process()
        orphan.executableURL = URL(fileURLWithPath: python)
        orphan.arguments = ["-c", "import time; time.sleep(60)", scratch]
        try orphan.run()
        defer { if orphan.isRunning { orphan.terminate() } }
        let pid = orphan.processIdentifier
        try #require(await waitUntil(timeout: 10) { Reaper.commandLine(of: pid).contains(scratch) })

        // Its owner: a process that has exited.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let record = Reaper.Record(kind: "reaper-test", pid: pid, start: Reaper.startTime(of: pid),
                                   owner: Reaper.OwnerMark(pid: gone.processIdentifier, start: 1), scratch: scratch)
        try FileManager.default.createDirectory(atPath: Reaper.directory, withIntermediateDirectories: true)
        let recordPath = "\(Reaper.directory)/reaper-test-\(pid).json"
        try JSONEncoder().encode(record).write(to: URL(fileURLWithPath: recordPath))

        // Tests running in parallel reap too, so check what happened rather than who did it.
        Reaper.reap()
        #expect(await waitUntil(timeout: 5) { !orphan.isRunning })
        #expect(orphan.terminationReason == .uncaughtSignal && orphan.terminationStatus == SIGKILL)
        #expect(!FileManager.default.fileExists(atPath: scratch))
        #expect(!FileManager.default.fileExists(atPath: recordPath))
        #expect(live.isRunning && Loopback.isAccepting(port: live.port))
    }

    @Test("a missing tool fails with the install hint")
    func missingToolMessage() throws {
        #expect(FixtureTools.missing("docker-registry", apt: "docker-registry").description
                == "docker-registry is not installed: run scripts/setup (apt-get install docker-registry)")
        let error = #expect(throws: FixtureError.self) {
            try FixtureTools.require("stackship-no-such-tool", apt: "stackship-no-such-package")
        }
        #expect(error?.description == "stackship-no-such-tool is not installed: run scripts/setup (apt-get install stackship-no-such-package)")
        // The real tools are here, so the fixtures above ran rather than failed.
        #expect(throws: Never.self) { try FixtureTools.dockerRegistry() }
        #expect(throws: Never.self) { try FixtureTools.pythonWithCryptography() }
    }
}
