import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `scripted_server.py` (python3) on a random loopback port: answers with scripted responses
/// and logs the requests. Use `ScriptedServer.with(responses) { … }`, which stops it.
final class ScriptedServer: @unchecked Sendable {
    struct Response: Encodable {
        var status: Int
        var headers: [String: String] = [:]
        var body: String = ""
    }

    let process: Process
    let directory: String
    let port: Int
    var endpoint: String { "http://127.0.0.1:\(port)" }

    private init(process: Process, directory: String, port: Int) {
        self.process = process
        self.directory = directory
        self.port = port
    }

    static func with<T>(_ responses: [Response], _ body: (ScriptedServer) async throws -> T) async throws -> T {
        let dir = NSTemporaryDirectory() + "scripted-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try JSONEncoder().encode(responses).write(to: URL(fileURLWithPath: dir + "/script.json"))
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("scripted_server.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, dir + "/script.json", dir + "/log.jsonl", dir + "/port"]
        let out = dir + "/out.log"
        FileManager.default.createFile(atPath: out, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try? handle.close()
        var port: Int?
        let deadline = Date().addingTimeInterval(30)
        while port == nil && Date() < deadline && process.isRunning {
            port = (try? String(contentsOfFile: dir + "/port", encoding: .utf8)).flatMap { Int($0) }
            if port == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard let port else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
            Issue.record("scripted_server.py did not start (python3 is installed by scripts/setup): \((try? String(contentsOfFile: out, encoding: .utf8)) ?? "")")
            throw CancellationError()
        }
        let server = ScriptedServer(process: process, directory: dir, port: port)
        defer { server.stop() }
        return try await body(server)
    }

    /// The requests seen so far.
    func requests() -> [[String: Any]] {
        let text = (try? String(contentsOfFile: directory + "/log.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func stop() {
        // SIGKILL at once: children of Foundation's Process inherit blocked signals, so SIGTERM
        // would be ignored (and the server holds nothing worth a clean shutdown).
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
