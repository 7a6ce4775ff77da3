#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Runtime

/// A real moto_server (PyPI `moto[server]`, installed by scripts/setup) on a random loopback
/// port, for tests of AWS code and of the `stackship aws` commands. Started through
/// `ChildProcess` (Foundation's Process hands its children a blocked signal mask), output to a
/// log file. Use `MotoServer.with { … }`, which stops it however the body ends.
public final class MotoServer: Sendable {
    /// The port it listens on (127.0.0.1).
    public let port: Int
    /// Its process id.
    public let pid: pid_t
    /// Where its output goes.
    public let logPath: String

    /// `http://127.0.0.1:PORT`, for AWS_ENDPOINT_URL / --endpoint-url.
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// The message a test fails with when moto_server is absent.
    public static let installHint = "moto_server not found: run scripts/setup (it installs PyPI's moto[server]: python3 -m pip install 'moto[server]')"

    /// The moto_server executable: on PATH, or where pip and pyenv put it.
    public static func executable() -> String? {
        var candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/moto_server" }
        candidates += ["/root/.pyenv/shims/moto_server", "/usr/local/bin/moto_server", "\(NSHomeDirectory())/.local/bin/moto_server"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private init(port: Int, pid: pid_t, logPath: String) {
        self.port = port
        self.pid = pid
        self.logPath = logPath
    }

    /// Starts a server and waits (up to 60 s) until it accepts connections. Throws
    /// `ContainerTestError` with the install hint when moto_server is missing.
    public static func start() async throws -> MotoServer {
        guard let path = executable() else { throw ContainerTestError(message: installHint, logTail: "") }
        var lastError = ""
        for _ in 0..<3 {
            let port = try freePort()
            let log = NSTemporaryDirectory() + "moto-\(port)-\(UUID().uuidString).log"
            let out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
            var env = ProcessInfo.processInfo.environment
            env["MOTO_ALLOW_NONEXISTENT_REGION"] = "true"
            let pid = try ChildProcess.spawn(path, ["-H", "127.0.0.1", "-p", String(port)], environment: env, fds: [null, out, out])
            close(out)
            close(null)
            let server = MotoServer(port: port, pid: pid, logPath: log)
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline && ChildProcess.isAlive(pid) {
                if canConnect(port: port) { return server }
                try await Task.sleep(for: .milliseconds(100))
            }
            lastError = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            server.stop()
        }
        throw ContainerTestError(message: "moto_server did not start", logTail: String(lastError.suffix(2000)))
    }

    /// Runs `body` with a fresh server, stopping it afterwards.
    public static func with<T>(_ body: (MotoServer) async throws -> T) async throws -> T {
        let server = try await start()
        defer { server.stop() }
        return try await body(server)
    }

    /// Kills the server (SIGKILL: it holds nothing worth a clean shutdown) and removes its log.
    public func stop() {
        if ChildProcess.isAlive(pid) { kill(pid, SIGKILL) }
        _ = ChildProcess.wait(pid)
        try? FileManager.default.removeItem(atPath: logPath)
    }

    /// A free TCP port on 127.0.0.1.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
