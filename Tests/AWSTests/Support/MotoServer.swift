import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real moto_server (PyPI `moto[server]`, installed by scripts/setup) on a random loopback
/// port, for the integration tests. Its output goes to a temporary file (not a pipe: pipe
/// reads can hit EINTR in Foundation on Linux). Use `MotoServer.with { … }`, which stops it.
final class MotoServer: @unchecked Sendable {
    let port: Int
    let process: Process
    let logPath: String

    var endpoint: String { "http://127.0.0.1:\(port)" }

    static let installHint = "moto_server not found: run scripts/setup (it installs PyPI's moto[server]: python3 -m pip install 'moto[server]')"

    static func executable() -> String? {
        var candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/moto_server" }
        candidates += ["/root/.pyenv/shims/moto_server", "/usr/local/bin/moto_server", "\(NSHomeDirectory())/.local/bin/moto_server"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private init(port: Int, process: Process, logPath: String) {
        self.port = port
        self.process = process
        self.logPath = logPath
    }

    /// Starts a server and waits (up to 60 s) until it accepts connections.
    static func start() async throws -> MotoServer {
        let path = try #require(executable(), Comment(rawValue: installHint))
        var lastError = ""
        for _ in 0..<3 {
            let port = try freePort()
            let log = NSTemporaryDirectory() + "moto-\(port)-\(UUID().uuidString).log"
            FileManager.default.createFile(atPath: log, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            var env = ProcessInfo.processInfo.environment
            env["MOTO_ALLOW_NONEXISTENT_REGION"] = "true"
            process.environment = env
            try process.run()
            try? handle.close()
            let server = MotoServer(port: port, process: process, logPath: log)
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline && process.isRunning {
                if canConnect(port: port) { return server }
                try await Task.sleep(for: .milliseconds(100))
            }
            lastError = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            server.stop()
        }
        Issue.record("moto_server did not start: \(lastError.suffix(2000))")
        throw CancellationError()
    }

    /// Runs `body` with a fresh server, stopping it afterwards.
    static func with<T>(_ body: (MotoServer) async throws -> T) async throws -> T {
        let server = try await start()
        defer { server.stop() }
        return try await body(server)
    }

    func stop() {
        // SIGKILL at once: children of Foundation's Process inherit blocked signals, so SIGTERM
        // would be ignored (and the server holds nothing worth a clean shutdown).
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: logPath)
    }

    static func freePort() throws -> Int {
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
