#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
import Runtime
import Support

/// A real local AWS API server (`moto_server`, PyPI `moto[server]`, installed by scripts/setup)
/// on a random loopback port. Its output goes to a log file, never a pipe.
///
/// `MotoServer.with { … }` gives a test its own server and stops it; `MotoServer.shared()` is
/// one server for the whole test process (tests then keep apart by bucket or resource name),
/// killed when the process exits.
public final class MotoServer: @unchecked Sendable {
    /// The port it listens on, on 127.0.0.1.
    public let port: Int
    /// Its process id.
    public let pid: pid_t
    /// Where its output goes.
    public let logPath: String
    private let lock = NSLock()
    private var stopped = false

    /// `http://127.0.0.1:PORT`, for AWS_ENDPOINT_URL, S3_ENDPOINT_URL or `--endpoint-url`.
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// What to do when moto_server is missing.
    public static let installHint = "moto_server not found: run scripts/setup (it installs PyPI's moto[server]: python3 -m pip install 'moto[server]')"

    /// Thrown when the server is missing or does not start.
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The moto_server executable on PATH or where pip puts it.
    public static func executable() -> String? {
        if let found = ChildProcess.which("moto_server") { return found }
        let candidates = ["/root/.pyenv/shims/moto_server", "/usr/local/bin/moto_server", "\(NSHomeDirectory())/.local/bin/moto_server"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private init(port: Int, pid: pid_t, logPath: String) {
        self.port = port
        self.pid = pid
        self.logPath = logPath
    }

    /// Starts a server and waits (up to 60 s) until it accepts connections.
    public static func start() async throws -> MotoServer {
        guard let path = executable() else { throw StartError(description: installHint) }
        var lastError = ""
        for _ in 0..<3 {
            let port = try Loopback.freePort()
            let log = NSTemporaryDirectory() + "moto-\(port)-\(UUID().uuidString).log"
            let out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard out >= 0 else { throw StartError(description: "cannot create \(log): errno \(errno)") }
            let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
            var environment = ProcessInfo.processInfo.environment
            environment["MOTO_ALLOW_NONEXISTENT_REGION"] = "true"
            let pid = try ChildProcess.spawn(path, ["-H", "127.0.0.1", "-p", String(port)], environment: environment,
                                             fds: [null, out, out])
            close(out)
            close(null)
            let server = MotoServer(port: port, pid: pid, logPath: log)
            let deadline = Date().addingTimeInterval(60)
            // Looked at once more after the deadline: in a busy test process a sleep can end long
            // after it, and a server that did start must not then count as one that did not.
            while true {
                if Loopback.isAccepting(port: port) { return server }
                guard Date() < deadline, ChildProcess.isAlive(pid) else { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            lastError = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            server.stop()
        }
        throw StartError(description: "moto_server did not start: \(lastError.suffix(2000))")
    }

    /// Runs `body` with a fresh server, stopping it afterwards.
    public static func with<T>(_ body: (MotoServer) async throws -> T) async throws -> T {
        let server = try await start()
        defer { server.stop() }
        return try await body(server)
    }

    private static let sharedServer = SharedServer()

    /// One server for the whole test process, started on first use and killed at exit.
    public static func shared() async throws -> MotoServer {
        try await sharedServer.get()
    }

    /// Stops the server and removes its log.
    public func stop() {
        lock.withLock {
            guard !stopped else { return }
            stopped = true
            kill(pid, SIGKILL)
            _ = ChildProcess.wait(pid)
            unlink(logPath)
        }
    }
}

/// Starts the shared server once, whoever asks first; kills it when the process exits.
private actor SharedServer {
    private var server: MotoServer?
    private var starting: Task<MotoServer, Error>?

    func get() async throws -> MotoServer {
        if let server { return server }
        if let starting { return try await starting.value }
        let task = Task { try await MotoServer.start() }
        starting = task
        do {
            let started = try await task.value
            server = started
            SharedServerExit.pid = started.pid
            atexit { if SharedServerExit.pid > 0 { kill(SharedServerExit.pid, SIGKILL) } }
            return started
        } catch {
            starting = nil
            throw error
        }
    }
}

private enum SharedServerExit {
    nonisolated(unsafe) static var pid: pid_t = 0
}
