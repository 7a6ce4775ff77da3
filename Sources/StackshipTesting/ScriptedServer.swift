#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Runtime
import Support

/// A loopback HTTP server (python3's http.server) that answers requests with scripted
/// responses, in order (the last one repeats), and logs each request it saw. For what a real
/// server here cannot produce: throttling and 5xx answers for retry tests, a stack that fails
/// with events, StartBuildBatch (moto answers it with 500), container-credential endpoints.
///
/// `ScriptedServer.with(responses) { server in … }` starts it on a random port and stops it.
public final class ScriptedServer: @unchecked Sendable {
    /// One scripted answer.
    public struct Response: Encodable, Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String

        public init(status: Int, headers: [String: String] = [:], body: String = "") {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    /// Its process id.
    public let pid: pid_t
    /// Its scratch folder (script, request log, output).
    public let directory: String
    /// The port it listens on, on 127.0.0.1.
    public let port: Int
    /// `http://127.0.0.1:PORT`.
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    private init(pid: pid_t, directory: String, port: Int) {
        self.pid = pid
        self.directory = directory
        self.port = port
    }

    /// Runs `body` with a server answering `responses`, stopping it afterwards.
    public static func with<T>(_ responses: [Response], _ body: (ScriptedServer) async throws -> T) async throws -> T {
        let dir = NSTemporaryDirectory() + "scripted-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try JSONEncoder().encode(responses).write(to: URL(fileURLWithPath: dir + "/script.json"))
        try Self.program.write(toFile: dir + "/scripted_server.py", atomically: true, encoding: .utf8)
        guard let python = ChildProcess.which("python3") else {
            throw MotoServer.StartError(description: "python3 not found: run scripts/setup (or apt-get install python3)")
        }
        let out = open(dir + "/out.log", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let pid = try ChildProcess.spawn(python, [dir + "/scripted_server.py", dir + "/script.json", dir + "/log.jsonl", dir + "/port"],
                                         fds: [null, out, out])
        close(out)
        close(null)
        var port: Int?
        let deadline = Date().addingTimeInterval(30)
        // Looked at once more after the deadline: in a busy test process a sleep can end long
        // after it, and a server that did start must not then count as one that did not.
        while true {
            port = (try? String(contentsOfFile: dir + "/port", encoding: .utf8)).flatMap { Int($0) }
            guard port == nil, Date() < deadline, ChildProcess.isAlive(pid) else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let server = ScriptedServer(pid: pid, directory: dir, port: port ?? 0)
        defer { server.stop() }
        guard port != nil else {
            throw MotoServer.StartError(description: "the scripted server did not start: \((try? String(contentsOfFile: dir + "/out.log", encoding: .utf8)) ?? "")")
        }
        return try await body(server)
    }

    /// The requests seen so far: method, path, headers.
    public func requests() -> [[String: Any]] {
        let text = (try? String(contentsOfFile: directory + "/log.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Stops the server and removes its folder.
    public func stop() {
        if ChildProcess.isAlive(pid) { kill(pid, SIGKILL) }
        _ = ChildProcess.wait(pid)
        try? FileManager.default.removeItem(atPath: directory)
    }

    static let program = #"""
#!/usr/bin/env python3
"""A loopback HTTP server that answers requests with scripted responses, in order, and logs
each request it saw (method, path, headers) as JSON lines. For AWSTests paths moto cannot
produce: throttling answers (retry tests) and the ECS/CodeBuild container credentials endpoint.

usage: scripted_server.py SCRIPT.json LOG.jsonl PORTFILE
SCRIPT.json: [{"status": 400, "headers": {...}, "body": "..."}, ...]; the last one repeats.
The chosen port is written to PORTFILE once the server listens.
"""
import http.server, json, sys, threading

script = json.load(open(sys.argv[1]))
log_path = sys.argv[2]
lock = threading.Lock()
count = [0]

class Handler(http.server.BaseHTTPRequestHandler):
    def handle_one(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with lock:
            answer = script[min(count[0], len(script) - 1)]
            count[0] += 1
            with open(log_path, "a") as log:
                log.write(json.dumps({"method": self.command, "path": self.path, "headers": dict(self.headers)}) + "\n")
        body = answer.get("body", "").encode()
        self.send_response(answer.get("status", 200))
        for k, v in answer.get("headers", {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_HEAD = do_DELETE = handle_one

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[3] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(sys.argv[3] + ".tmp", sys.argv[3])
server.serve_forever()
"""#
}
