import Foundation
import StackshipTesting
import Testing

/// The built `stackship` executable, found as StackshipTesting finds it ($STACKSHIP_BIN, else
/// beside the test bundle, else on PATH).
func stackshipBinary() throws -> String {
    try StackshipTesting.stackshipExecutable()
}

struct ToolMissing: Error, CustomStringConvertible {
    var tool: String
    var hint: String
    var description: String { "\(tool) is not installed: \(hint)" }
}

/// Fails (never skips) when a tool the test needs is absent, with the install hint.
func requireTool(_ tool: String, package: String) throws {
    let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    guard paths.contains(where: { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }) else {
        throw ToolMissing(tool: tool, hint: "run scripts/setup, or apt-get install \(package)")
    }
}

struct Result {
    var status: Int32
    var out: String
    var err: String
}

/// The host state directory (`STACKSHIP_STATE`) the CLI gets in these tests unless a test
/// gives its own: beside the folder it runs in (`FOLDER.state`), so that tests running at the
/// same time never share containers or container names, and none touches the machine's
/// /var/lib/stackship. `Project` removes its own with it.
func testState(for cwd: String?) -> String {
    (cwd ?? FileManager.default.temporaryDirectory.path + "/stackship-e2e-\(getpid())") + ".state"
}

/// This process's environment for the CLI: the machine's stackship settings cleared, CI=true,
/// and STACKSHIP_STATE as `testState(for: cwd)`.
func testEnvironment(cwd: String?) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment
    for key in ["STACKSHIP_STORE", "STACKSHIP_CACHE", "STACKSHIP_SIGNING_KEY", "XDG_STATE_HOME", "XDG_DATA_HOME"] { environment.removeValue(forKey: key) }
    environment["CI"] = "true"
    environment["STACKSHIP_STATE"] = testState(for: cwd)
    return environment
}

/// Runs a program and waits for it, in `testEnvironment(cwd:)` with `env` on top.
@discardableResult
func run(_ program: String, _ args: [String], cwd: String? = nil, env: [String: String] = [:], prefix: [String] = []) throws -> Result {
    var environment = testEnvironment(cwd: cwd)
    for (k, v) in env { environment[k] = v }
    let all = prefix + [program] + args
    let r = try runProgram(all[0], Array(all.dropFirst()), cwd: cwd, environment: environment)
    return Result(status: r.status, out: r.out, err: r.err)
}

/// Runs the stackship CLI.
@discardableResult
func stackship(_ args: [String], cwd: String? = nil, env: [String: String] = [:]) throws -> Result {
    try run(try stackshipBinary(), args, cwd: cwd, env: env)
}

/// A scratch project directory, removed afterwards.
final class Project {
    let path: String

    init() {
        // The real path: the kernel names mounts by it (tests read /proc/self/mountinfo), and
        // TMPDIR may lead through a symlink.
        let made = FileManager.default.temporaryDirectory.appendingPathComponent("stackship-e2e-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: made, withIntermediateDirectories: true)
        path = realpath(made, nil).map { p in defer { free(p) }; return String(cString: p) } ?? made
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: state)
    }

    var store: String { path + "/.stackship/store" }
    /// The host state the CLI run in this folder uses (see `testState(for:)`).
    var state: String { testState(for: path) }

    func write(_ rel: String, _ content: String, mode: Int = 0o644) throws {
        let p = path + "/" + rel
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(content.utf8).write(to: URL(fileURLWithPath: p))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: p)
    }

    /// A small app tree and a stack file with one image.
    func makeHello(extraConfig: String = "") throws {
        try write("app/bin/hello", "#!/bin/sh\necho Hello, world.\n", mode: 0o755)
        try write("app/share/hello/greeting.txt", "Hello, world.\n")
        try write("app/share/hello/" + String(repeating: "long-name-", count: 12) + ".txt", "a long path\n")
        try FileManager.default.createSymbolicLink(atPath: path + "/app/bin/hi", withDestinationPath: "hello")
        try write("stack.yaml", """
        images:
          hello:
            tags: [hello:latest, hello:1.0]
            layers:
              - source: ./app
                destination: /opt/hello
            config:
              entrypoint: [/opt/hello/bin/hello]
              env: {GREETING: hi}
              exposed_ports: [8080]
        \(extraConfig)
        """)
    }

    func digest(of reference: String) throws -> String {
        let r = try stackship(["images", "--digests", "--json"], cwd: path)
        struct Row: Decodable { var repository: String; var tag: String; var digest: String }
        let rows = try JSONDecoder().decode([Row].self, from: Data(r.out.utf8))
        let parts = reference.split(separator: ":")
        guard let row = rows.first(where: { $0.repository == String(parts[0]) && $0.tag == String(parts.count > 1 ? parts[1] : "latest") }) else {
            throw ToolMissing(tool: reference, hint: "not in the store: \(r.out) \(r.err)")
        }
        return row.digest
    }
}

/// The failure shape every command error must have: exit 1, one `error:` line at the end, no
/// stack trace.
func expectCleanFailure(_ r: Result, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == 1, "status \(r.status): \(r.err)", sourceLocation: sourceLocation)
    let lines = r.err.split(separator: "\n")
    #expect(lines.last?.hasPrefix("error: ") == true, "\(r.err)", sourceLocation: sourceLocation)
    #expect(lines.filter { $0.hasPrefix("error: ") }.count == 1, "\(r.err)", sourceLocation: sourceLocation)
    for f in fragments { #expect(r.err.contains(f), "missing '\(f)' in: \(r.err)", sourceLocation: sourceLocation) }
    #expect(!r.err.contains("Fatal error") && !r.err.contains("Stack dump") && !r.err.contains("0x0000"), sourceLocation: sourceLocation)
}
