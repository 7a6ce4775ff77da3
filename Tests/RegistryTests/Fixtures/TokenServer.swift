import Foundation

/// A Docker token server (token_server.py) on a random loopback port, for registries set up with
/// `auth: token`. It generates its own RSA signing key and a self-signed certificate for it;
/// `certificatePath` is what the registry's `rootcertbundle` must name.
///
/// Protocol: `GET /token?service=…&scope=…` with HTTP Basic credentials, and `POST /token`
/// (`grant_type=password` or `refresh_token`; `access_type=offline` adds a refresh token).
/// Only `options.username` is granted the actions it asks for; anonymous requests get pull
/// access when `options.anonymousPull` is set and a 401 otherwise.
final class TokenServer: Sendable {
    /// How the token's JWS header names the signing key.
    enum KeyIdentification: String, Sendable {
        /// `kid`: the libtrust fingerprint of the public key, which the registry looks up among
        /// the certificates of its rootcertbundle.
        case kid
        /// `x5c`: the signing certificate itself, which the registry verifies against the bundle.
        case x5c
    }

    struct Options: Sendable {
        var username: String = "stackship"
        var password: String = "token-pass-1"
        /// Seconds, reported as `expires_in` and used for the `exp` claim.
        var lifetime: Int = 300
        /// distribution 2.8 accepts a token until 60 s after its `exp`. With this set, `exp` is
        /// moved 60 s earlier so the registry itself starts rejecting the token `lifetime` seconds
        /// after it was issued (for expiry tests with lifetimes of a few seconds).
        var compensateRegistryLeeway: Bool = false
        /// Anonymous requests (no credentials) get pull access instead of a 401.
        var anonymousPull: Bool = false
        var keyIdentification: KeyIdentification = .kid

        init(username: String = "stackship", password: String = "token-pass-1", lifetime: Int = 300,
             compensateRegistryLeeway: Bool = false, anonymousPull: Bool = false,
             keyIdentification: KeyIdentification = .kid) {
            self.username = username
            self.password = password
            self.lifetime = lifetime
            self.compensateRegistryLeeway = compensateRegistryLeeway
            self.anonymousPull = anonymousPull
            self.keyIdentification = keyIdentification
        }
    }

    /// One request the token server answered, as logged.
    struct Request: Decodable, Sendable {
        struct Access: Decodable, Sendable, Equatable {
            var type: String
            var name: String
            var actions: [String]
        }
        var sequence: Int
        var time: Double
        var method: String
        var path: String
        /// The raw query string.
        var query: String
        /// Whether the request carried `Authorization: Basic …`.
        var basicAuth: Bool
        var status: Int?
        var scopes: [String]?
        var service: String?
        var account: String?
        /// The user named by the Basic credentials or the form (nil when anonymous).
        var username: String?
        /// POST only.
        var grantType: String?
        var accessType: String?
        var clientID: String?
        var granted: [Access]?
    }

    let service: String
    let issuer: String
    let options: Options
    let port: Int
    /// "127.0.0.1:PORT"
    let host: String
    /// "http://127.0.0.1:PORT"
    let url: String
    /// "http://127.0.0.1:PORT/token": the registry's `realm`.
    let realm: String
    /// PEM certificate of the signing key: the registry's `rootcertbundle`.
    let certificatePath: String
    let privateKeyPath: String
    let logPath: String
    let directory: String
    private let child: Locked<ChildProcess?>

    var username: String { options.username }
    var password: String { options.password }

    private init(service: String, issuer: String, options: Options, port: Int, certificatePath: String,
                 privateKeyPath: String, logPath: String, directory: String, child: ChildProcess) {
        self.service = service
        self.issuer = issuer
        self.options = options
        self.port = port
        self.host = "127.0.0.1:\(port)"
        self.url = "http://127.0.0.1:\(port)"
        self.realm = "http://127.0.0.1:\(port)/token"
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.logPath = logPath
        self.directory = directory
        self.child = Locked(child)
    }

    static func start(service: String = "stackship-test-registry", issuer: String = "stackship-test-issuer",
                      options: Options = Options()) async throws -> TokenServer {
        let python = try FixtureTools.pythonWithCryptography()
        let openssl = try FixtureTools.openssl()
        let script = try FixtureTools.script("token_server.py")
        Reaper.reap()
        let dir = try Scratch.make("token")
        do {
            let key = "\(dir)/token-signer.key", cert = "\(dir)/token-signer.pem"
            try runChecked(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                                     "-days", "2", "-subj", "/CN=stackship-test-token-signer"])
            let log = "\(dir)/requests.jsonl", portFile = "\(dir)/port"
            var args = [script, "--key", key, "--cert", cert, "--header", options.keyIdentification.rawValue,
                        "--service", service, "--issuer", issuer,
                        "--username", options.username, "--password", options.password,
                        "--lifetime", String(options.lifetime), "--log", log, "--port-file", portFile,
                        "--parent-pid", String(ProcessInfo.processInfo.processIdentifier)]
            if options.compensateRegistryLeeway { args.append("--compensate-leeway") }
            if options.anonymousPull { args.append("--anonymous-pull") }
            var env = ProcessInfo.processInfo.environment
            env["PYTHONUNBUFFERED"] = "1"
            let child = try ChildProcess(name: "token-server", executable: python, arguments: args, scratch: dir, environment: env)
            let port = try await waitForPortFile(portFile, child: child)
            return TokenServer(service: service, issuer: issuer, options: options, port: port, certificatePath: cert,
                               privateKeyPath: key, logPath: log, directory: dir, child: child)
        } catch {
            Scratch.remove(dir)
            throw error
        }
    }

    /// Every request so far, oldest first.
    func requests() -> [Request] {
        readJSONLines(logPath, as: Request.self).sorted { $0.sequence < $1.sequence }
    }

    var isRunning: Bool { child.withLock { $0?.isRunning ?? false } }

    /// Stops the server and removes its directory (key, certificate, log). Idempotent.
    func stop() {
        let stopped: Bool = child.withLock { child in
            guard let c = child else { return false }
            c.stop()
            child = nil
            return true
        }
        if stopped { Scratch.remove(directory) }
    }

    deinit { stop() }
}
