#if canImport(Glibc)
import Glibc
#endif
import BuildCache
import Foundation
import OCI
import StackshipTesting
import Testing

struct CLIResult {
    var status: Int32
    var out: String
    var err: String

    /// No Swift crash report or stack trace in the output.
    var noStackTrace: Bool {
        !(err + out).contains("Fatal error") && !(err + out).contains("Stack dump") && !(err + out).contains("#0 ") && !(err + out).contains("Backtrace")
    }
}

/// Starts the stackship binary with output going to files (pipes can hit EINTR).
final class CLIProcess {
    let process = Process()
    let outFile = NSTemporaryDirectory() + "/bc-out-\(UUID().uuidString)"
    let errFile = NSTemporaryDirectory() + "/bc-err-\(UUID().uuidString)"

    init(_ args: [String], cwd: String, env: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: try StackshipTesting.stackshipExecutable())
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: cwd)
        var environment = ProcessInfo.processInfo.environment
        for k in ["STACKSHIP_CACHE", "STACKSHIP_SIGNING_KEY", "STACKSHIP_STORE"] { environment.removeValue(forKey: k) }
        environment["CI"] = "true"
        environment["STACKSHIP_STATE"] = cwd + "/.state" // never the machine's /var/lib/stackship
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        _ = FileManager.default.createFile(atPath: outFile, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outFile))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errFile))
        try process.run()
    }

    func wait() -> CLIResult {
        process.waitUntilExit()
        defer { unlink(outFile); unlink(errFile) }
        return CLIResult(status: process.terminationStatus, out: Scratch.read(outFile) ?? "", err: Scratch.read(errFile) ?? "")
    }
}

@discardableResult
func stackship(_ args: [String], cwd: String, env: [String: String] = [:]) throws -> CLIResult {
    try CLIProcess(args, cwd: cwd, env: env).wait()
}

/// The cache commands as a user types them, with the built binary.
@Suite("stackship cache")
struct CacheCLIIntegrationTests {
    final class Project {
        let path = Scratch.makeDirectory()
        deinit { Scratch.remove(path) }

        func tree(_ name: String) throws -> String {
            let t = path + "/trees/\(name)"
            try Scratch.write(t + "/bin/\(name)", "#!/bin/sh\necho \(name)\n", mode: 0o755)
            return t
        }
    }

    @Test func keygenPushLsVerifyFetchAndGC() throws {
        let p = Project()
        var r = try stackship(["cache", "keygen", "--output", "keys/team"], cwd: p.path)
        #expect(r.status == 1, "keys/ does not exist yet: \(r.err)")
        try FileManager.default.createDirectory(atPath: p.path + "/keys", withIntermediateDirectories: true)
        r = try stackship(["cache", "keygen", "--output", "keys/team"], cwd: p.path)
        #expect(r.status == 0, "\(r.err)")
        var st = stat()
        stat(p.path + "/keys/team", &st)
        #expect(st.st_mode & 0o777 == 0o600)
        stat(p.path + "/keys/team.pub", &st)
        #expect(st.st_mode & 0o777 == 0o644)
        let secret = try #require(Scratch.read(p.path + "/keys/team"))
        let keyID = try SigningKey(contentsOfFile: p.path + "/keys/team").publicKey.keyID
        #expect(r.out.contains(keyID))
        #expect(!r.out.contains(String(secret.dropFirst(SigningKey.textPrefix.count).prefix(16))))

        // Overwriting needs --force.
        r = try stackship(["cache", "keygen", "--output", "keys/team"], cwd: p.path)
        #expect(r.status == 1 && r.err.contains("--force") && r.noStackTrace)

        // Push two packages (b depends on a) into the default cache, signed with the key in the environment.
        let a = hash("a"), b = hash("b")
        r = try stackship(["cache", "push", try p.tree("a"), "--hash", a.value, "--name", "a", "--version", "1"], cwd: p.path,
                          env: ["STACKSHIP_SIGNING_KEY": secret])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("pushed") && r.out.contains("signed by \(keyID)"))
        #expect(!(r.out + r.err).contains(String(secret.dropFirst(SigningKey.textPrefix.count).prefix(16))))
        r = try stackship(["cache", "push", try p.tree("b"), "--hash", b.value, "--name", "b", "--dep", a.value, "--signing-key", "keys/team"], cwd: p.path)
        #expect(r.status == 0, "\(r.err)")
        #expect(FileManager.default.fileExists(atPath: p.path + "/.stackship/cache/index/\(a.value).json"))

        r = try stackship(["cache", "ls"], cwd: p.path)
        #expect(r.status == 0 && r.out.contains("HASH") && r.out.contains(a.short) && r.out.contains(keyID), "\(r.out)\(r.err)")
        r = try stackship(["cache", "ls", "--json"], cwd: p.path)
        struct Row: Decodable { var hash: String; var name: String; var dependencies: [String]; var keyID: String? }
        let rows = try JSONDecoder().decode([Row].self, from: Data(r.out.utf8))
        #expect(rows.map(\.name) == ["a", "b"])
        #expect(rows[1].dependencies == [a.value] && rows[0].keyID == keyID)

        r = try stackship(["cache", "verify", "--trusted-key", "keys/team.pub"], cwd: p.path)
        #expect(r.status == 0 && r.out.contains("2 packages verified, 0 bad"), "\(r.out)\(r.err)")
        r = try stackship(["cache", "verify"], cwd: p.path)
        #expect(r.status == 1 && r.err.contains("--trusted-key") && r.noStackTrace)

        r = try stackship(["cache", "fetch", b.value, "--into", "installed/b", "--trusted-key", "keys/team.pub"], cwd: p.path)
        #expect(r.status == 0, "\(r.err)")
        #expect(Scratch.read(p.path + "/installed/b/bin/b") == "#!/bin/sh\necho b\n")

        // Tamper with a's artifact: verify names it and fails; fetch refuses and installs nothing.
        let artifacts = Scratch.listing(p.path + "/.stackship/cache/artifacts/\(a.value)").filter { $0.hasSuffix(".tar.zst") }
        let artifact = p.path + "/.stackship/cache/artifacts/\(a.value)/" + (try #require(artifacts.first))
        let fd = open(artifact, O_WRONLY)
        _ = lseek(fd, 40, SEEK_SET)
        _ = write(fd, "XXXX", 4)
        close(fd)
        r = try stackship(["cache", "verify", "--trusted-key", "keys/team.pub"], cwd: p.path)
        #expect(r.status == 1 && r.out.contains("BAD  \(a.short)") && r.out.contains("1 package verified, 1 bad"), "\(r.out)\(r.err)")
        r = try stackship(["cache", "fetch", a.value, "--into", "installed/a", "--trusted-key", "keys/team.pub"], cwd: p.path)
        #expect(r.status == 1 && r.err.contains("altered") && r.noStackTrace, "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: p.path + "/installed/a"))

        // gc: dry run keeps all; keeping b keeps a too; keeping nothing with no min-age deletes both.
        try Scratch.write(p.path + "/roots.txt", "# roots\n\(b.value)\n\n")
        r = try stackship(["cache", "gc", "--min-age", "0", "--keep-file", "roots.txt"], cwd: p.path)
        #expect(r.status == 0 && r.out.contains("0 packages") && r.out.contains("2 kept"), "\(r.out)\(r.err)")
        r = try stackship(["cache", "gc", "--min-age", "0", "--dry-run"], cwd: p.path)
        #expect(r.status == 0 && r.out.contains("would delete index/\(a.value).json") && r.out.contains("(2 packages)"), "\(r.out)\(r.err)")
        #expect(FileManager.default.fileExists(atPath: p.path + "/.stackship/cache/index/\(a.value).json"))
        r = try stackship(["cache", "gc", "--min-age", "1h", "--keep-hash", a.value], cwd: p.path)
        #expect(r.status == 0 && r.out.contains("0 objects"), "young packages stay: \(r.out)")
        r = try stackship(["cache", "gc", "--min-age", "0s"], cwd: p.path)
        #expect(r.status == 0 && r.out.contains("Reclaimed") && r.out.contains("(2 packages); 0 kept"), "\(r.out)\(r.err)")
        r = try stackship(["cache", "ls", "--json"], cwd: p.path)
        #expect(r.out.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]" || r.out.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "\(r.out)")
    }

    @Test func cacheLocationFromFlagsAndEnvironment() throws {
        let p = Project()
        let one = p.path + "/one", two = p.path + "/two"
        let h = hash("x")
        var r = try stackship(["cache", "push", try p.tree("x"), "--hash", h.value, "--name", "x", "--allow-unsigned", "--cache", "file://" + one, "--cache", two], cwd: p.path)
        #expect(r.status == 0, "\(r.err)")
        #expect(FileManager.default.fileExists(atPath: one + "/index/\(h.value).json"), "the first --cache is the push target")
        r = try stackship(["cache", "push", try p.tree("x"), "--hash", h.value, "--name", "x", "--allow-unsigned", "--cache", one, "--push-cache", two], cwd: p.path)
        #expect(r.status == 0 && FileManager.default.fileExists(atPath: two + "/index/\(h.value).json"), "\(r.err)")
        r = try stackship(["cache", "ls", "--json"], cwd: p.path, env: ["STACKSHIP_CACHE": "\(one),\(two)"])
        #expect(r.status == 0 && r.out.contains(one) && !r.out.contains(two + "\""), "listed once, from the first: \(r.out)\(r.err)")
    }

    @Test func errorPathsAreClearWithoutStackTraces() throws {
        let p = Project()
        // No cache here yet: the hint says how to create one or which flag to use.
        var r = try stackship(["cache", "ls"], cwd: p.path)
        #expect(r.status == 1 && r.err.contains("there is no cache at \(p.path)/.stackship/cache") && r.err.contains("mkdir -p") && r.err.contains("--cache"), "\(r.err)")
        #expect(r.noStackTrace)
        r = try stackship(["cache", "gc"], cwd: p.path, env: ["STACKSHIP_CACHE": p.path + "/nowhere"])
        #expect(r.status == 1 && r.err.contains("\(p.path)/nowhere") && r.noStackTrace, "\(r.err)")

        try FileManager.default.createDirectory(atPath: p.path + "/c", withIntermediateDirectories: true)
        r = try stackship(["cache", "gc", "--cache", "c", "--min-age", "soon"], cwd: p.path)
        #expect(r.status == 1 && r.err.contains("invalid duration 'soon'") && r.err.contains("7d") && r.noStackTrace, "\(r.err)")
        r = try stackship(["cache", "gc", "--cache", "c", "--keep-hash", "nothex"], cwd: p.path)
        #expect(r.status == 1 && r.err.contains("invalid package hash 'nothex'") && r.noStackTrace, "\(r.err)")
        try Scratch.write(p.path + "/roots.txt", "\(hash("a").value)\nbogus\n")
        r = try stackship(["cache", "gc", "--cache", "c", "--keep-file", "roots.txt"], cwd: p.path)
        #expect(r.status == 1 && r.err.contains("roots.txt:2") && r.noStackTrace, "\(r.err)")
        r = try stackship(["cache", "gc", "--cache", "c", "--keep-file", "absent.txt"], cwd: p.path)
        #expect(r.status == 1 && r.err.contains("absent.txt") && r.noStackTrace, "\(r.err)")

        // S3: a malformed URL, and no credentials anywhere (a HOME without ~/.aws).
        r = try stackship(["cache", "ls", "--cache", "s3://Bad_Bucket/prefix"], cwd: p.path)
        #expect(r.status == 1 && r.err.contains("not a valid S3 URL") && r.noStackTrace, "\(r.err)")
        let noCredentials = ["HOME": p.path, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "",
                             "AWS_REGION": "us-east-1", "S3_ENDPOINT_URL": "http://127.0.0.1:9"]
        r = try stackship(["cache", "ls", "--cache", "s3://bucket/prefix"], cwd: p.path, env: noCredentials)
        #expect(r.status == 1 && r.err.contains("No AWS credentials found") && r.err.contains("AWS_ACCESS_KEY_ID") && r.noStackTrace, "\(r.err)")

        // Bad key files and key text.
        try Scratch.write(p.path + "/bad.key", "not a key")
        let tree = try p.tree("y")
        r = try stackship(["cache", "push", tree, "--hash", hash("y").value, "--name", "y", "--cache", "c", "--signing-key", "bad.key"], cwd: p.path)
        #expect(r.status == 1 && r.err.contains("bad.key") && r.err.contains("keygen") && r.noStackTrace, "\(r.err)")
        r = try stackship(["cache", "push", tree, "--hash", hash("y").value, "--name", "y", "--cache", "c", "--signing-key", "missing.key"], cwd: p.path)
        #expect(r.status == 1 && r.err.contains("missing.key") && r.noStackTrace, "\(r.err)")
        let secretish = "stackship-ed25519-private:SECRETSECRETSECRET"
        r = try stackship(["cache", "push", tree, "--hash", hash("y").value, "--name", "y", "--cache", "c"], cwd: p.path, env: ["STACKSHIP_SIGNING_KEY": secretish])
        #expect(r.status == 1 && r.err.contains("STACKSHIP_SIGNING_KEY") && !r.err.contains("SECRET") && r.noStackTrace, "\(r.err)")
        r = try stackship(["cache", "push", tree, "--hash", hash("y").value, "--name", "y", "--cache", "c"], cwd: p.path)
        #expect(r.status == 1 && r.err.contains("needs a signing key") && r.noStackTrace, "\(r.err)")
        r = try stackship(["cache", "verify", "--cache", "c", "--trusted-key", "bad.key"], cwd: p.path)
        #expect(r.status == 1 && r.err.contains("bad.key") && r.noStackTrace, "\(r.err)")
        r = try stackship(["cache", "fetch", hash("zzz").value, "--into", "out", "--cache", "c", "--allow-unsigned"], cwd: p.path)
        #expect(r.status == 1 && r.err.contains("none of the caches") && r.noStackTrace, "\(r.err)")
    }

    @Test func separateProcessesPushingConcurrentlyNeverLoseIndexEntries() throws {
        let p = Project()
        let key = p.path + "/key"
        _ = try SigningKey.generate(writingTo: key)
        let names = (0..<12).map { "p\($0)" }
        let trees = try names.map { try p.tree($0) }
        // Twelve packages and, at the same time, four pushers of one more shared package.
        var processes: [CLIProcess] = []
        for (name, tree) in zip(names, trees) {
            processes.append(try CLIProcess(["cache", "push", tree, "--hash", hash(name).value, "--name", name, "--cache", "c", "--signing-key", key], cwd: p.path))
        }
        for _ in 0..<4 {
            processes.append(try CLIProcess(["cache", "push", trees[0], "--hash", hash("shared").value, "--name", "shared", "--cache", "c", "--signing-key", key], cwd: p.path))
        }
        let results = processes.map { $0.wait() }
        for r in results { #expect(r.status == 0, "\(r.err)") }
        #expect(results.filter { $0.out.hasPrefix("pushed") }.count == 13)
        let r = try stackship(["cache", "verify", "--cache", "c", "--signing-key", key], cwd: p.path)
        #expect(r.status == 0 && r.out.contains("13 packages verified, 0 bad"), "\(r.out)\(r.err)")
    }
}
