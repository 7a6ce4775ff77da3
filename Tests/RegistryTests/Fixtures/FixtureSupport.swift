import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Shared plumbing for the registry test fixtures: tool checks, processes, loopback ports,
// scratch directories and the reaper that cleans up after crashed test runs.

/// Why a fixture could not start (or a helper command failed). Tests fail with this; they never skip.
struct FixtureError: Error, CustomStringConvertible, Sendable {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Locking

/// A value behind a lock, for the mutable state of the (Sendable) fixture classes.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

// MARK: - Tools

enum FixtureTools {
    /// The install hint every fixture gives for a missing tool.
    static func missing(_ tool: String, apt package: String) -> FixtureError {
        FixtureError("\(tool) is not installed: run scripts/setup (apt-get install \(package))")
    }

    /// The full path of `tool` on PATH (or in /usr/bin, /usr/sbin), or a FixtureError with the install hint.
    static func require(_ tool: String, apt package: String) throws -> String {
        if let path = find(tool) { return path }
        throw missing(tool, apt: package)
    }

    static func find(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        var dirs = path.split(separator: ":").map(String.init)
        dirs += ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        for dir in dirs where !dir.isEmpty {
            let candidate = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static func dockerRegistry() throws -> String { try require("docker-registry", apt: "docker-registry") }
    static func htpasswd() throws -> String { try require("htpasswd", apt: "apache2-utils") }
    static func openssl() throws -> String { try require("openssl", apt: "openssl") }

    /// python3 with the `cryptography` package (checked once per test process).
    static func pythonWithCryptography() throws -> String {
        try pythonCryptographyCheck.get()
    }

    /// python3 (stdlib only is enough).
    static func python() throws -> String { try require("python3", apt: "python3") }

    private static let pythonCryptographyCheck: Result<String, FixtureError> = {
        guard let python = find("python3") else { return .failure(missing("python3", apt: "python3")) }
        guard let result = try? runSync(python, ["-c", "import cryptography.x509, cryptography.hazmat.primitives.asymmetric.padding"]),
              result.status == 0
        else {
            return .failure(FixtureError(
                "python3 cryptography is not installed: run scripts/setup (apt-get install python3-cryptography)"))
        }
        return .success(python)
    }()

    /// The directory holding this file and the Python helper scripts.
    static let fixturesDirectory: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

    static func script(_ name: String) throws -> String {
        let path = "\(fixturesDirectory)/\(name)"
        guard FileManager.default.fileExists(atPath: path) else {
            throw FixtureError("fixture script \(path) is missing (the fixtures locate it from #filePath)")
        }
        return path
    }
}

// MARK: - Running commands

struct CommandResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    /// "exit N: stderr" for failure messages.
    var summary: String { "exit \(status): \(stderr.isEmpty ? stdout : stderr)" }
}

private func scratchFile(_ prefix: String) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("stackship-\(prefix)-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: url.path, contents: nil)
    return url
}

private func makeProcess(_ executable: String, _ arguments: [String], environment: [String: String]?,
                         stdout: URL, stderr: URL) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if let environment { p.environment = environment }
    p.standardInput = FileHandle.nullDevice
    p.standardOutput = try FileHandle(forWritingTo: stdout)
    p.standardError = try FileHandle(forWritingTo: stderr)
    return p
}

/// Runs a command to completion, blocking the calling thread. For quick set-up commands
/// (openssl, htpasswd); tests use `runCommand`.
func runSync(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> CommandResult {
    let out = scratchFile("out"), err = scratchFile("err")
    defer {
        try? FileManager.default.removeItem(at: out)
        try? FileManager.default.removeItem(at: err)
    }
    let p = try makeProcess(executable, arguments, environment: environment, stdout: out, stderr: err)
    try p.run()
    p.waitUntilExit()
    return CommandResult(status: p.terminationStatus,
                         stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
}

/// Runs a command to completion without holding a thread while it runs. `executable` is a path or
/// a name looked up on PATH.
func runCommand(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> CommandResult {
    let path: String
    if executable.contains("/") {
        path = executable
    } else if let found = FixtureTools.find(executable) {
        path = found
    } else {
        throw FixtureError("\(executable) is not installed: run scripts/setup (apt-get install \(executable))")
    }
    let out = scratchFile("out"), err = scratchFile("err")
    defer {
        try? FileManager.default.removeItem(at: out)
        try? FileManager.default.removeItem(at: err)
    }
    let p = try makeProcess(path, arguments, environment: environment, stdout: out, stderr: err)
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        p.terminationHandler = { process in continuation.resume(returning: process.terminationStatus) }
        do {
            try p.run()
        } catch {
            p.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    return CommandResult(status: status,
                         stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
}

/// Runs a set-up command and throws with its stderr unless it exits 0.
@discardableResult
func runChecked(_ executable: String, _ arguments: [String]) throws -> CommandResult {
    let result = try runSync(executable, arguments)
    guard result.status == 0 else {
        throw FixtureError("\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.joined(separator: " ")) failed, \(result.summary)")
    }
    return result
}

// MARK: - Long-running children

/// A started server process: its stdout/stderr go to files in the fixture's directory.
final class ChildProcess {
    let process: Process
    let stderrPath: String
    let name: String
    private var recordPath: String?

    /// Starts `executable`; `scratch` is the fixture's temp dir (its path appears in the command line,
    /// which the reaper checks before it kills anything).
    init(name: String, executable: String, arguments: [String], scratch: String,
         environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.name = name
        let stamp = UUID().uuidString.prefix(8)
        let outURL = URL(fileURLWithPath: "\(scratch)/\(name)-\(stamp).stdout")
        let errURL = URL(fileURLWithPath: "\(scratch)/\(name)-\(stamp).stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        stderrPath = errURL.path
        process = try makeProcess(executable, arguments, environment: environment, stdout: outURL, stderr: errURL)
        try process.run()
        recordPath = Reaper.record(kind: name, pid: process.processIdentifier, scratch: scratch)
    }

    var isRunning: Bool { process.isRunning }
    var pid: Int32 { process.processIdentifier }

    var stderr: String {
        ((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// SIGTERM, wait up to `grace` seconds, then SIGKILL; waits for the exit. Idempotent.
    func stop(grace: TimeInterval = 5) {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(grace)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
        }
        if let recordPath {
            try? FileManager.default.removeItem(atPath: recordPath)
            self.recordPath = nil
        }
    }

    deinit { stop() }
}

// MARK: - Scratch directories

enum Scratch {
    static let prefix = "stackship-fixture-"

    /// A fresh temp dir for one fixture, marked with its owner so the reaper can remove it after a crash.
    static func make(_ kind: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)\(kind)-\(UUID().uuidString.prefix(12))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let owner = Reaper.OwnerMark(pid: ProcessInfo.processInfo.processIdentifier, start: Reaper.startTime(of: ProcessInfo.processInfo.processIdentifier))
        if let data = try? JSONEncoder().encode(owner) {
            try? data.write(to: url.appendingPathComponent("owner.json"))
        }
        return url.path
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}

// MARK: - Reaper

/// Cleans up after test runs that crashed: every started server gets a record in
/// /tmp/stackship-test-fixtures/ naming its PID, the PID's start time, the test process that owns it
/// and its scratch dir. On every fixture start, records whose owner is gone are reaped: the server is
/// killed if it is still the same process (same start time, scratch dir on its command line) and the
/// scratch dir is removed. Servers of live test processes (this one, or a parallel run) are left alone.
enum Reaper {
    static let directory = "/tmp/stackship-test-fixtures"

    struct OwnerMark: Codable {
        var pid: Int32
        var start: UInt64?
    }

    struct Record: Codable {
        var kind: String
        var pid: Int32
        var start: UInt64?
        var owner: OwnerMark
        var scratch: String
    }

    /// Writes the record for a started child; returns its path.
    static func record(kind: String, pid: Int32, scratch: String) -> String? {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let me = ProcessInfo.processInfo.processIdentifier
        let record = Record(kind: kind, pid: pid, start: startTime(of: pid),
                            owner: OwnerMark(pid: me, start: startTime(of: me)), scratch: scratch)
        let path = "\(directory)/\(kind)-\(pid)-\(UUID().uuidString.prefix(8)).json"
        guard let data = try? JSONEncoder().encode(record), (try? data.write(to: URL(fileURLWithPath: path))) != nil else {
            return nil
        }
        return path
    }

    /// The process's start time in clock ticks since boot (/proc/PID/stat field 22), nil if it is
    /// not running (or is a zombie) or there is no /proc.
    static func startTime(of pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)": state is field 3, starttime field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, fields[0] != "Z", fields[0] != "X" else { return nil }
        return UInt64(fields[19])
    }

    static func isAlive(_ pid: Int32, start: UInt64?) -> Bool {
        guard let now = startTime(of: pid) else { return false }
        return start == nil || start == now
    }

    static func commandLine(of pid: Int32) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    /// Reaps what crashed runs left behind. Returns the PIDs it killed.
    @discardableResult
    static func reap() -> [Int32] {
        var killed: [Int32] = []
        let fm = FileManager.default
        if let names = try? fm.contentsOfDirectory(atPath: directory) {
            for name in names where name.hasSuffix(".json") {
                let path = "\(directory)/\(name)"
                guard let data = fm.contents(atPath: path),
                      let record = try? JSONDecoder().decode(Record.self, from: data)
                else {
                    // Unreadable: a half-written record, or junk. Remove it only once it is old.
                    if let date = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                       Date().timeIntervalSince(date) > 600 {
                        try? fm.removeItem(atPath: path)
                    }
                    continue
                }
                if isAlive(record.owner.pid, start: record.owner.start) { continue }
                if isAlive(record.pid, start: record.start),
                   !record.scratch.isEmpty, commandLine(of: record.pid).contains(record.scratch) {
                    kill(record.pid, SIGKILL)
                    killed.append(record.pid)
                }
                if record.scratch.contains(Scratch.prefix) { Scratch.remove(record.scratch) }
                try? fm.removeItem(atPath: path)
            }
        }
        // Scratch dirs whose owner is gone (a crash before or after the record was written).
        let tmp = fm.temporaryDirectory
        if let names = try? fm.contentsOfDirectory(atPath: tmp.path) {
            for name in names where name.hasPrefix(Scratch.prefix) {
                let dir = tmp.appendingPathComponent(name)
                if let data = fm.contents(atPath: dir.appendingPathComponent("owner.json").path),
                   let owner = try? JSONDecoder().decode(OwnerMark.self, from: data) {
                    if !isAlive(owner.pid, start: owner.start) { try? fm.removeItem(at: dir) }
                } else if let date = (try? fm.attributesOfItem(atPath: dir.path))?[.modificationDate] as? Date,
                          Date().timeIntervalSince(date) > 3600 {
                    try? fm.removeItem(at: dir)
                }
            }
        }
        return killed
    }
}

// MARK: - Small helpers

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
func waitUntil(timeout: TimeInterval, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 50_000_000)
    }
    return condition()
}

/// Reads a port a helper script wrote once it was listening.
func waitForPortFile(_ path: String, child: ChildProcess, timeout: TimeInterval = 15) async throws -> Int {
    var port: Int?
    _ = await waitUntil(timeout: timeout) {
        if let text = try? String(contentsOfFile: path, encoding: .utf8),
           let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            port = value
            return true
        }
        return !child.isRunning
    }
    guard let port else {
        let running = child.isRunning
        child.stop()
        throw FixtureError("\(child.name) \(running ? "did not report its port within \(Int(timeout)) s" : "exited during start-up"): \(child.stderr)")
    }
    return port
}

/// Reads a JSON-lines log into decoded records, skipping a trailing partial line.
func readJSONLines<T: Decodable>(_ path: String, as type: T.Type) -> [T] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    let decoder = JSONDecoder()
    return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(T.self, from: Data($0)) }
}

/// YAML double-quoted scalar.
func yamlQuote(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}
