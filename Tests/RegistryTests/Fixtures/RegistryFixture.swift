import Foundation
import StackshipTesting

/// A real CNCF distribution registry (`docker-registry serve`, Debian's 2.8.2) on a random
/// loopback port, with its storage and generated config in a temp dir.
///
///     let registry = try await RegistryFixture.start(.basic)
///     defer { registry.stop() }
///     // push to registry.host with registry.username / registry.password
///
/// or `try await withRegistry(.tls) { registry in … }`, which always stops it.
final class RegistryFixture: Sendable {
    enum Setup: String, Sendable, CaseIterable {
        /// Plain HTTP, no auth.
        case plain
        /// Plain HTTP, htpasswd (bcrypt) Basic auth: `username` / `password`.
        case basic
        /// HTTPS with a certificate for 127.0.0.1 and localhost from a CA made for this fixture
        /// (`caCertificatePath`). No auth.
        case tls
        /// Plain HTTP, Bearer tokens from `tokenServer` (credentials: `username` / `password`).
        case token
    }

    static let service = "stackship-test-registry"
    static let issuer = "stackship-test-issuer"
    static let basicUsername = "stackship"
    static let basicPassword = "basic-pass-1"

    let setup: Setup
    let port: Int
    /// "127.0.0.1:PORT"
    let host: String
    /// "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT"
    let url: String
    /// Credentials for `.basic` and `.token`; nil otherwise.
    let username: String?
    let password: String?
    /// The CA (PEM) that signed the server certificate, for `.tls`; nil otherwise.
    let caCertificatePath: String?
    /// A directory holding the CA as `ca.crt` (what skopeo's --cert-dir and containers'
    /// certs.d expect), for `.tls`; nil otherwise.
    let certificateDirectory: String?
    /// The token server, for `.token`; nil otherwise. Stopped with the registry.
    let tokenServer: TokenServer?
    /// The registry's filesystem storage root; kept across `restart()`.
    let storageDirectory: String
    /// The fixture's temp dir (config, certificates, htpasswd, logs, storage); removed by `stop()`.
    let directory: String
    let configPath: String

    private struct State {
        var child: ChildProcess?
        var stopped = false
    }
    private let state: Locked<State>

    private init(setup: Setup, port: Int, directory: String, configPath: String, storage: String,
                 username: String?, password: String?, caCertificatePath: String?, certificateDirectory: String?,
                 tokenServer: TokenServer?, child: ChildProcess) {
        self.setup = setup
        self.port = port
        self.host = "127.0.0.1:\(port)"
        self.url = (setup == .tls ? "https://" : "http://") + "127.0.0.1:\(port)"
        self.directory = directory
        self.configPath = configPath
        self.storageDirectory = storage
        self.username = username
        self.password = password
        self.caCertificatePath = caCertificatePath
        self.certificateDirectory = certificateDirectory
        self.tokenServer = tokenServer
        self.state = Locked(State(child: child))
    }

    // MARK: Start

    /// Starts a registry; returns once `/v2/` answers. `tokenOptions` applies to `.token` only.
    static func start(_ setup: Setup, tokenOptions: TokenServer.Options = TokenServer.Options()) async throws -> RegistryFixture {
        let registry = try FixtureTools.dockerRegistry()
        switch setup {
        case .plain: break
        case .basic: _ = try FixtureTools.htpasswd()
        case .tls: _ = try FixtureTools.openssl()
        case .token:
            _ = try FixtureTools.openssl()
            _ = try FixtureTools.pythonWithCryptography()
        }
        Reaper.reap()

        let dir = try Scratch.make("registry")
        var tokenServer: TokenServer?
        do {
            let storage = "\(dir)/storage"
            try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
            var username: String?, password: String?, caPath: String?, certDir: String?
            var extra = ""  // auth / tls sections of the config

            switch setup {
            case .plain:
                break
            case .basic:
                username = basicUsername
                password = basicPassword
                let result = try runChecked(try FixtureTools.htpasswd(), ["-Bbn", basicUsername, basicPassword])
                let htpasswdPath = "\(dir)/htpasswd"
                try Data(result.stdout.utf8).write(to: URL(fileURLWithPath: htpasswdPath))
                extra = """
                auth:
                  htpasswd:
                    realm: "stackship-test-registry"
                    path: \(yamlQuote(htpasswdPath))

                """
            case .tls:
                let tls = try makeServerCertificate(in: dir)
                caPath = tls.ca
                certDir = tls.certDir
                extra = """
                  tls:
                    certificate: \(yamlQuote(tls.cert))
                    key: \(yamlQuote(tls.key))

                """
            case .token:
                let server = try await TokenServer.start(service: service, issuer: issuer, options: tokenOptions)
                tokenServer = server
                username = server.username
                password = server.password
                extra = """
                auth:
                  token:
                    realm: \(yamlQuote(server.realm))
                    service: \(yamlQuote(service))
                    issuer: \(yamlQuote(issuer))
                    rootcertbundle: \(yamlQuote(server.certificatePath))

                """
            }

            let configPath = "\(dir)/config.yml"
            // A fixed secret: upload state (`_state`) is signed with it, so uploads begun before a
            // restart() can be resumed after it. Without one the registry makes up a new one each start.
            let secret = UUID().uuidString
            let extraSection = extra
            let writeConfig: (Int) throws -> Void = { port in
                var config = """
                version: 0.1
                log:
                  level: warn
                  accesslog:
                    disabled: true
                storage:
                  filesystem:
                    rootdirectory: \(yamlQuote(storage))
                  delete:
                    enabled: true
                  maintenance:
                    uploadpurging:
                      enabled: false
                http:
                  addr: "127.0.0.1:\(port)"
                  secret: \(yamlQuote(secret))

                """
                config += extraSection
                try Data(config.utf8).write(to: URL(fileURLWithPath: configPath))
            }
            let (child, port) = try await launch(registry: registry, setup: setup, dir: dir, configPath: configPath,
                                                 writeConfig: writeConfig, port: nil)
            return RegistryFixture(setup: setup, port: port, directory: dir, configPath: configPath, storage: storage,
                                   username: username, password: password, caCertificatePath: caPath,
                                   certificateDirectory: certDir, tokenServer: tokenServer, child: child)
        } catch {
            tokenServer?.stop()
            Scratch.remove(dir)
            throw error
        }
    }

    /// Starts `docker-registry serve` and waits for `/v2/` to answer. With `port` nil, picks free
    /// ports, retrying when another process grabbed one first; with a port, retries that port
    /// (a restart) until it binds.
    private static func launch(registry: String, setup: Setup, dir: String, configPath: String,
                               writeConfig: (Int) throws -> Void, port fixedPort: Int?) async throws -> (ChildProcess, Int) {
        // REGISTRY_* variables override the config file; a stray one (REGISTRY_HTTP_ADDR, …) must not.
        let env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("REGISTRY_") }
        var lastError = ""
        var silentAttempts = 0
        for _ in 0..<8 {
            let port = try fixedPort ?? Loopback.freePort()
            try writeConfig(port)
            let child = try ChildProcess(name: "docker-registry", executable: registry, arguments: ["serve", configPath],
                                         scratch: dir, environment: env)
            let deadline = Date().addingTimeInterval(10)
            var ready = false
            var lastAnswer = "nothing accepted the connection"
            while true { // looked at once more after the deadline (see MotoServer)
                if !child.isRunning { break }
                let response = Loopback.rawGet(port: port)
                if let response { lastAnswer = response.isEmpty ? "connection closed without an answer" : String(response.prefix(300)) }
                if let response, isRegistryAnswer(response, tls: setup == .tls) {
                    // Another process could own the port; ours would then die on bind, so look again.
                    try? await Task.sleep(nanoseconds: 100_000_000)
                    if child.isRunning { ready = true }
                    break
                }
                if Date() >= deadline { break }
                try? await Task.sleep(nanoseconds: 50_000_000)
            }
            if ready { return (child, port) }
            let running = child.isRunning
            child.stop()
            lastError = child.stderr
            if lastError.contains("address already in use") {
                try? await Task.sleep(nanoseconds: fixedPort == nil ? 0 : 300_000_000)
                continue
            }
            if running && silentAttempts == 0 {
                // Seen once on a machine running several suites at once: a registry that never
                // answered. Give it one more go before failing.
                silentAttempts += 1
                continue
            }
            throw FixtureError("docker-registry \(running ? "did not answer /v2/ on \(port) within 10 s (last: \(lastAnswer))" : "exited during start-up"); "
                               + "config \(configPath); stderr:\n\(lastError)")
        }
        throw FixtureError("docker-registry could not bind a port: \(lastError)")
    }

    private static func isRegistryAnswer(_ response: String, tls: Bool) -> Bool {
        guard response.hasPrefix("HTTP/") else { return false }
        if tls { return response.contains("HTTPS server") }
        return response.lowercased().contains("docker-distribution-api-version")
    }

    /// A CA and a server certificate for 127.0.0.1 / localhost signed by it (EC P-256).
    private static func makeServerCertificate(in dir: String) throws -> (ca: String, cert: String, key: String, certDir: String) {
        let openssl = try FixtureTools.openssl()
        let tlsDir = "\(dir)/tls"
        let certDir = "\(dir)/certs.d"
        try FileManager.default.createDirectory(atPath: tlsDir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: certDir, withIntermediateDirectories: true)
        let caKey = "\(tlsDir)/ca.key", ca = "\(tlsDir)/ca.pem"
        let key = "\(tlsDir)/server.key", csr = "\(tlsDir)/server.csr", cert = "\(tlsDir)/server.pem"
        let ext = "\(tlsDir)/server.ext"
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try runChecked(openssl, ["req", "-x509"] + ec + ["-keyout", caKey, "-out", ca, "-days", "2",
                       "-subj", "/CN=Stackship Test CA \(UUID().uuidString.prefix(8))",
                       "-addext", "basicConstraints=critical,CA:TRUE",
                       "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try runChecked(openssl, ["req", "-new"] + ec + ["-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"])
        try Data("""
        subjectAltName=IP:127.0.0.1,DNS:localhost
        basicConstraints=critical,CA:FALSE
        keyUsage=critical,digitalSignature
        extendedKeyUsage=serverAuth

        """.utf8).write(to: URL(fileURLWithPath: ext))
        try runChecked(openssl, ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial",
                                 "-out", cert, "-days", "2", "-extfile", ext])
        try FileManager.default.copyItem(atPath: ca, toPath: "\(certDir)/ca.crt")
        return (ca, cert, key, certDir)
    }

    // MARK: Lifecycle

    /// Whether the registry process is running.
    var isRunning: Bool { state.withLock { $0.child?.isRunning ?? false } }

    /// The registry's stderr so far (warnings and errors; log level is warn).
    var stderr: String { state.withLock { $0.child?.stderr ?? "" } }

    /// Stops the registry process (SIGTERM, SIGKILL after 5 s) but keeps its port, config and
    /// storage, so `startProcess()` can bring the same registry back: for "the registry is down"
    /// tests (connections to `host` are refused meanwhile).
    func stopProcess() {
        let child = state.withLock { s -> ChildProcess? in
            let c = s.child
            s.child = nil
            return c
        }
        child?.stop()
    }

    /// Starts the registry process again after `stopProcess()`, on the same port with the same
    /// storage; returns once `/v2/` answers. Does nothing if it is running.
    func startProcess() async throws {
        let (stopped, running) = state.withLock { ($0.stopped, $0.child != nil) }
        if stopped { throw FixtureError("the registry fixture was stopped; start a new one") }
        if running { return }
        let registry = try FixtureTools.dockerRegistry()
        let (child, _) = try await Self.launch(registry: registry, setup: setup, dir: directory, configPath: configPath,
                                               writeConfig: { _ in }, port: port)
        let surplus: ChildProcess? = state.withLock { s in
            if s.stopped || s.child != nil { return child }  // lost a race with stop() or another start
            s.child = child
            return nil
        }
        surplus?.stop()
    }

    /// Stops the registry and starts it again on the same port with the same storage (and the same
    /// token server): for "the registry went away part-way through a push" tests.
    func restart() async throws {
        stopProcess()
        try await startProcess()
    }

    /// Stops the registry (SIGTERM, then SIGKILL after 5 s) and its token server, and removes the
    /// temp dir with the storage. Idempotent; also run by deinit.
    func stop() {
        let child: ChildProcess? = state.withLock { s in
            guard !s.stopped else { return nil }
            s.stopped = true
            let c = s.child
            s.child = nil
            return c
        }
        child?.stop()
        tokenServer?.stop()
        Scratch.remove(directory)
    }

    deinit { stop() }
}

/// Runs `body` with a started registry and always stops it afterwards.
func withRegistry<T>(_ setup: RegistryFixture.Setup,
                     tokenOptions: TokenServer.Options = TokenServer.Options(),
                     isolation: isolated (any Actor)? = #isolation,
                     _ body: (RegistryFixture) async throws -> T) async throws -> T {
    let registry = try await RegistryFixture.start(setup, tokenOptions: tokenOptions)
    do {
        let result = try await body(registry)
        registry.stop()
        return result
    } catch {
        registry.stop()
        throw error
    }
}
