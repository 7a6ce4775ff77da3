import Foundation

/// A rule for `FaultProxy`: the first `times` requests matching `method` and `path` get `action`;
/// later ones pass through. Rules are tried in order; the first matching rule with uses left fires.
struct FaultRule: Sendable {
    enum Action: Sendable {
        /// Answer with `code` (and `Retry-After: retryAfter` when given) without asking upstream.
        /// The body defaults to a registry-style JSON error.
        case status(Int, retryAfter: Int? = nil, body: String? = nil, headers: [String: String] = [:])
        /// Close the TCP connection abruptly (RST, SO_LINGER 0) without any response.
        case reset
        /// Answer `code` (302 by default) with `Location: url`, plus the request's path and query
        /// when `appendPath` (so `http://127.0.0.1:OTHER` sends `/v2/…` to the same path there).
        case redirect(to: String, appendPath: Bool = true, code: Int = 302)
        /// Wait, then pass through.
        case delay(seconds: Double)
        /// Pass through, but reset the connection after this many bytes of the answer's body.
        case truncate(afterBytes: Int)
        /// Pass through, adding these headers to the answer.
        case addHeaders([String: String])
    }

    /// Every matching request, not just the first few.
    static let always = -1

    /// HTTP method to match (any if nil).
    var method: String?
    /// Regular expression (Python `re.search`) on the request path without the query (any if nil).
    var path: String?
    var action: Action
    var times: Int

    init(method: String? = nil, path: String? = nil, action: Action, times: Int = 1) {
        self.method = method
        self.path = path
        self.action = action
        self.times = times
    }

    /// The JSON the proxy script reads.
    var json: [String: Any] {
        var match: [String: Any] = [:]
        if let method { match["method"] = method }
        if let path { match["path_regex"] = path }
        var rule: [String: Any] = ["match": match, "times": times]
        switch action {
        case let .status(code, retryAfter, body, headers):
            rule["action"] = "status"
            rule["code"] = code
            if let retryAfter { rule["retry_after"] = retryAfter }
            if let body { rule["body"] = body }
            if !headers.isEmpty { rule["headers"] = headers }
        case .reset:
            rule["action"] = "reset"
        case let .redirect(url, appendPath, code):
            rule["action"] = "redirect"
            rule["location"] = url
            rule["append_path"] = appendPath
            rule["code"] = code
        case let .delay(seconds):
            rule["action"] = "delay"
            rule["seconds"] = seconds
        case let .truncate(bytes):
            rule["action"] = "truncate"
            rule["bytes"] = bytes
        case let .addHeaders(headers):
            rule["action"] = "headers"
            rule["headers"] = headers
        }
        return rule
    }
}

/// A fault-injecting reverse proxy (fault_proxy.py) on a random loopback port in front of a
/// registry: clients use `host` as if it were the registry. Requests are forwarded with their
/// headers and streamed bodies; upstream `Location` headers are rewritten to the proxy so upload
/// URLs keep coming through it. Every request is logged (`requests()`).
final class FaultProxy: Sendable {
    /// One request the proxy received, as logged.
    struct Request: Decodable, Sendable {
        var sequence: Int
        var time: Double
        var method: String
        var path: String
        var query: String
        /// Request headers, names lower-cased.
        var headers: [String: String]
        /// Whether an Authorization header was present.
        var authorization: Bool
        /// Index of the rule that fired, nil when passed through.
        var rule: Int?
        /// "status", "reset", "redirect", "delay" or nil.
        var action: String?
        /// The status sent to the client (nil after a reset).
        var status: Int?
        /// For redirects: the Location sent.
        var location: String?
        /// A forwarding error (upstream down, client gone).
        var error: String?
    }

    let upstream: String
    let port: Int
    /// "127.0.0.1:PORT"
    let host: String
    /// "http://127.0.0.1:PORT"
    let url: String
    let logPath: String
    let directory: String
    private let child: Locked<ChildProcess?>

    private init(upstream: String, port: Int, logPath: String, directory: String, child: ChildProcess) {
        self.upstream = upstream
        self.port = port
        self.host = "127.0.0.1:\(port)"
        self.url = "http://127.0.0.1:\(port)"
        self.logPath = logPath
        self.directory = directory
        self.child = Locked(child)
    }

    /// Starts a proxy forwarding to `upstream` ("http://127.0.0.1:PORT", or https with
    /// `upstreamCA`, else unverified). The proxy itself speaks plain HTTP.
    static func start(upstream: String, rules: [FaultRule] = [], upstreamCA: String? = nil) async throws -> FaultProxy {
        let python = try FixtureTools.python()
        let script = try FixtureTools.script("fault_proxy.py")
        Reaper.reap()
        let dir = try Scratch.make("proxy")
        do {
            let rulesPath = "\(dir)/rules.json", log = "\(dir)/requests.jsonl", portFile = "\(dir)/port"
            let data = try JSONSerialization.data(withJSONObject: rules.map(\.json), options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: rulesPath))
            var args = [script, "--upstream", upstream, "--rules", rulesPath, "--log", log, "--port-file", portFile,
                        "--parent-pid", String(ProcessInfo.processInfo.processIdentifier)]
            if let upstreamCA { args += ["--upstream-ca", upstreamCA] }
            var env = ProcessInfo.processInfo.environment
            env["PYTHONUNBUFFERED"] = "1"
            let child = try ChildProcess(name: "fault-proxy", executable: python, arguments: args, scratch: dir, environment: env)
            let port = try await waitForPortFile(portFile, child: child)
            return FaultProxy(upstream: upstream, port: port, logPath: log, directory: dir, child: child)
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

    /// The proxy's stderr (Python tracebacks, if any).
    var stderr: String { child.withLock { $0?.stderr ?? "" } }

    /// Stops the proxy and removes its directory. Idempotent; also run by deinit.
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
