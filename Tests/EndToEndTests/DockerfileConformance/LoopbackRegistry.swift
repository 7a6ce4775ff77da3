#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StackshipTesting
import Support

/// A CNCF distribution registry (Debian's `docker-registry`), plain HTTP, no auth, on a random
/// loopback port, its storage in `directory`. The registry tests' fixture does far more (TLS,
/// tokens, restarts) and lives in another target; this is the part the conformance suite needs.
final class LoopbackRegistry: @unchecked Sendable {
    /// `127.0.0.1:PORT`
    let host: String
    private let pid: pid_t
    private var stopped = false
    private let logPath: String

    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts the registry and returns once `/v2/` answers (up to 10 s); retries on a port
    /// another process took between the probe and the bind.
    static func start(in directory: String) throws -> LoopbackRegistry {
        try requireTool("docker-registry", package: "docker-registry")
        let executable = try ChildProcess.which("docker-registry").orThrow("docker-registry is not on PATH")
        var lastLog = ""
        for attempt in 0..<5 {
            let port = try Loopback.freePort()
            let config = directory + "/registry-\(attempt).yml"
            let logPath = directory + "/registry-\(attempt).log"
            try Data("""
            version: 0.1
            log: {level: warn, accesslog: {disabled: true}}
            storage: {filesystem: {rootdirectory: \(directory)/registry-data}, delete: {enabled: true}}
            http: {addr: "127.0.0.1:\(port)"}

            """.utf8).write(to: URL(fileURLWithPath: config))
            let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
            // REGISTRY_* variables override the config file; a stray one must not.
            let env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("REGISTRY_") }
            let pid = try ChildProcess.spawn(executable, ["serve", config], environment: env, fds: [null, log, log])
            close(log)
            close(null)
            let registry = LoopbackRegistry(host: "127.0.0.1:\(port)", pid: pid, logPath: logPath)
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, ChildProcess.isAlive(pid) {
                if let answer = Loopback.rawGet(port: port), answer.lowercased().contains("docker-distribution-api-version") {
                    // Another process may own the port and ours die on bind: look once more.
                    usleep(100_000)
                    if ChildProcess.isAlive(pid) { return registry }
                    break
                }
                usleep(50_000)
            }
            lastLog = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            registry.stop()
            if !lastLog.contains("address already in use") { break }
        }
        throw StartError(description: "docker-registry did not answer on loopback: \(lastLog)")
    }

    private init(host: String, pid: pid_t, logPath: String) {
        self.host = host
        self.pid = pid
        self.logPath = logPath
    }

    /// The registry's log (warnings and errors).
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Stops the registry (SIGTERM, SIGKILL after 5 s) and waits for it. Idempotent.
    func stop() {
        guard !stopped else { return }
        stopped = true
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        _ = ChildProcess.wait(pid)
    }

    deinit { stop() }
}

extension Optional {
    func orThrow(_ message: String) throws -> Wrapped {
        guard let self else { throw LoopbackRegistry.StartError(description: message) }
        return self
    }
}
