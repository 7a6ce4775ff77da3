#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support

/// A real CNCF distribution registry (Debian's `docker-registry`) on a random loopback port,
/// plain HTTP, no auth, with its config and filesystem storage in a temp dir: for builds that
/// pull their base from a registry (`FROM 127.0.0.1:PORT/debian:bookworm`).
///
///     try await LocalRegistry.with { registry in
///         try registry.push(layout: base.path, ref: base.reference, as: "debian:bookworm")
///         // FROM \(registry.host)/debian:bookworm
///     }
///
/// RegistryTests has a fuller fixture (TLS, Basic and token auth, restarts, faults) on
/// Foundation's Process; this one is the small shared one, on Support's ChildProcess. A registry
/// left running by a crashed test process is killed, and its directory removed, on the next start.
public final class LocalRegistry: @unchecked Sendable {
    /// The port it listens on, on 127.0.0.1.
    public let port: Int
    /// Its temp dir: config.yml, storage/, registry.log. Removed by `stop()`.
    public let directory: String
    /// Its process id.
    public let pid: pid_t
    private let lock = NSLock()
    private var stopped = false

    /// "127.0.0.1:PORT", the registry part of an image reference.
    public var host: String { "127.0.0.1:\(port)" }
    /// The registry's own output (warnings and errors; its access log is off).
    public var log: String { (try? String(contentsOfFile: directory + "/registry.log", encoding: .utf8)) ?? "" }

    /// Why the registry or a push failed.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// What to do when docker-registry is missing.
    public static let installHint = "docker-registry is not installed: run scripts/setup (apt-get install docker-registry)"

    static let directoryPrefix = "stackship-local-registry-"

    /// The temp dir without a trailing slash.
    static var temporaryDirectory: String {
        var tmp = NSTemporaryDirectory()
        while tmp.count > 1 && tmp.hasSuffix("/") { tmp.removeLast() }
        return tmp
    }

    private init(port: Int, directory: String, pid: pid_t) {
        self.port = port
        self.directory = directory
        self.pid = pid
    }

    /// Starts a registry; returns once `/v2/` answers.
    public static func start() async throws -> LocalRegistry {
        guard let executable = ChildProcess.which("docker-registry") ?? ChildProcess.which("/usr/bin/docker-registry") else {
            throw Failure(description: installHint)
        }
        reapAbandoned()
        let owner = "\(getpid())-\(StackshipTesting.processStartTime(getpid()) ?? "0")"
        let directory = temporaryDirectory + "/" + directoryPrefix + owner + "-" + FileIO.randomSuffix()
        try FileIO.makeDirectories(directory + "/storage")
        // REGISTRY_* variables override the config file; a stray one (REGISTRY_HTTP_ADDR) must not.
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("REGISTRY_") }
        var lastProblem = ""
        for _ in 0..<6 {
            let port = try Loopback.freePort()
            let config = directory + "/config.yml"
            try AtomicFileWriter.write(Data("""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: "\(directory)/storage"
              delete:
                enabled: true
            http:
              addr: "127.0.0.1:\(port)"

            """.utf8), to: config, durable: false)
            let logPath = directory + "/registry.log"
            let out = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard out >= 0 else { throw Failure(description: "cannot create \(logPath): errno \(errno)") }
            let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
            let pid: pid_t
            do {
                pid = try ChildProcess.spawn(executable, ["serve", config], environment: environment, fds: [null, out, out])
            } catch {
                close(out)
                close(null)
                try? FileIO.removeTree(directory)
                throw error
            }
            close(out)
            close(null)
            let registry = LocalRegistry(port: port, directory: directory, pid: pid)
            let deadline = Date().addingTimeInterval(20)
            // Looked at once more after the deadline: in a busy test process a sleep can end long
            // after it, and a registry that did start must not then count as one that did not.
            while true {
                if let answer = Loopback.rawGet(port: port), answer.lowercased().contains("docker-distribution-api-version") {
                    // Another process could own the port; ours would then die on bind.
                    try await Task.sleep(for: .milliseconds(100))
                    if ChildProcess.isAlive(pid) { return registry }
                    break
                }
                guard Date() < deadline, ChildProcess.isAlive(pid) else { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            lastProblem = registry.log
            registry.kill()
            if !lastProblem.contains("address already in use") { break }
        }
        try? FileIO.removeTree(directory)
        throw Failure(description: "docker-registry did not answer /v2/ on 127.0.0.1: \(lastProblem.suffix(2000))")
    }

    /// Runs `body` with a fresh registry and stops it afterwards, whether the body returns or throws.
    public static func with<T>(_ body: (LocalRegistry) async throws -> T) async throws -> T {
        let registry = try await start()
        defer { registry.stop() }
        return try await body(registry)
    }

    /// Copies the image `ref` of the OCI layout at `layout` to `name` (`debian:bookworm`) in this
    /// registry with skopeo; returns the digest of what is now at `HOST/name`.
    @discardableResult
    public func push(layout: String, ref: String, as name: String) throws -> String {
        guard ChildProcess.which("skopeo") != nil else {
            throw Failure(description: "skopeo is not installed: run scripts/setup (apt-get install skopeo)")
        }
        let source = "oci:\(layout):\(ref)"
        let destination = "docker://\(host)/\(name)"
        let copy = try runProgram("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", source, destination])
        guard copy.status == 0 else {
            throw Failure(description: "skopeo copy \(source) \(destination) exited \(copy.status): \(copy.err)\(copy.out)\nregistry log:\n\(log.suffix(2000))")
        }
        let inspect = try runProgram("skopeo", ["inspect", "--tls-verify=false", "--format", "{{.Digest}}", destination])
        let digest = inspect.out.trimmingCharacters(in: .whitespacesAndNewlines)
        guard inspect.status == 0, digest.hasPrefix("sha256:") else {
            throw Failure(description: "skopeo inspect \(destination) exited \(inspect.status): \(inspect.err)")
        }
        return digest
    }

    /// Stops the registry (SIGTERM, SIGKILL after 5 s) and removes its directory. Idempotent.
    public func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        kill()
        try? FileIO.removeTree(directory)
    }

    deinit { stop() }

    private func kill() {
        Glibc.kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        var status: Int32 = 0
        while Date() < deadline {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || (r < 0 && errno == ECHILD) { return }
            usleep(20_000)
        }
        Glibc.kill(pid, SIGKILL)
        _ = ChildProcess.wait(pid)
    }

    // MARK: Crashed runs

    /// Kills the registries of test processes that are gone (their directory names their owner)
    /// and removes their directories.
    static func reapAbandoned() {
        let tmp = temporaryDirectory
        guard let names = FileIO.names(inDirectory: tmp) else { return }
        for name in names where name.hasPrefix(directoryPrefix) {
            let parts = name.dropFirst(directoryPrefix.count).split(separator: "-")
            guard parts.count == 3, let ownerPid = pid_t(parts[0]) else { continue }
            if ChildProcess.isAlive(ownerPid) && StackshipTesting.processStartTime(ownerPid) == String(parts[1]) { continue }
            let dir = tmp + "/" + name
            for pid in processes(withArgumentContaining: dir) {
                Glibc.kill(pid, SIGKILL)
            }
            try? FileIO.removeTree(dir)
        }
    }

    static func processes(withArgumentContaining text: String) -> [pid_t] {
        guard let entries = FileIO.names(inDirectory: "/proc") else { return [] }
        return entries.compactMap { pid_t($0) }.filter { pid in
            guard let data = try? FileIO.readFile("/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self).contains(text)
        }
    }
}
