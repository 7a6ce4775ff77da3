#if canImport(Glibc)
import Glibc
#endif
import AWS
import Foundation
import HTTPCore
import StackshipTesting
import Testing

/// The stacks the CI-runner tests push through generated pipelines, and the git repository
/// they live in. Shared by the GitLab and CodeBuild runner tests (and readable by the GitHub
/// one): each writes a stack into a `CITestRepository`, commits it, and runs every CI job in a
/// fresh clone of it, as a CI service does.
enum CITestStacks {
    /// The text every `web` image serves and its test looks for.
    static let smallGreeting = "served-by-the-small-stack"

    /// A busybox tree (`bin/busybox` and the applets the stacks use) at `folder`.
    static func writeBusybox(into folder: String) throws {
        try requireTool("busybox", package: "busybox-static")
        try requireTool("runc", package: "runc")
        let busybox = ["/bin/busybox", "/usr/bin/busybox"].first { FileManager.default.fileExists(atPath: $0) }!
        try FileManager.default.createDirectory(atPath: folder + "/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: busybox, toPath: folder + "/bin/busybox")
        for tool in ["sh", "cat", "echo", "mkdir", "cp", "chmod", "printf", "false", "httpd", "sleep", "ls"] {
            try FileManager.default.createSymbolicLink(atPath: folder + "/bin/" + tool, withDestinationPath: "busybox")
        }
    }

    /// The `web` image's entry point: serve every package's share/*.txt with busybox httpd on 80.
    static let webEntrypoint = "[sh, -c, \"mkdir -p /tmp/www && cat /opt/stack/*/share/*.txt > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www\"]"

    /// The `web` image's test: fetch the page from the host and look for `text`.
    static func webTest(expecting text: String) -> String {
        "{port: 80, command: [sh, -c, \"busybox wget -q -O - http://$STACKSHIP_TEST_HOST:$STACKSHIP_TEST_PORT/ | grep -q \(text)\"], timeout: 60}"
    }

    /// Where the committed public key of the test's signing key lies, relative to the stack file.
    static let trustedKeyPath = "keys/ci.pub"

    /// The `ci:` section both stacks use: the S3 cache, the registry (`HOST/ci`), stackship
    /// preinstalled (the harness puts the binary under test first on every job's PATH, so
    /// `.stackship-ci/install-stackship.sh` finds it and never writes the machine's
    /// /usr/local/bin), and the committed public key image, test and publish jobs verify
    /// packages with. `extra` is more `ci:` lines (two spaces in).
    static func ciSection(name: String, cache: String, registry: String, extra: String = "") -> String {
        """
        ci:
          name: \(name)
          publish: [web]
          cache: \(cache)
          registry: \(registry)
          install: preinstalled
          trusted_key: \(trustedKeyPath)
        \(extra)
        """
    }

    /// Puts the stackship under test into `bin` (first on the jobs' PATH) and commits-to-be the
    /// services' public key at `trustedKeyPath` in `repository`.
    static func prepare(_ repository: CITestRepository, services: CIServices, bin: String) throws {
        let target = bin + "/stackship"
        if !FileManager.default.fileExists(atPath: target) {
            try FileManager.default.copyItem(atPath: try stackshipBinary(), toPath: target)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: target)
        }
        try repository.write(trustedKeyPath, try String(contentsOfFile: services.publicKeyPath, encoding: .utf8))
    }

    /// The small stack: a busybox builder image of the stack itself, one script package and one
    /// image with a test. `trailer` is top-level YAML (its `ci:` and, for CodeBuild, `aws:`).
    static func writeSmall(in repository: CITestRepository, trailer: String) throws {
        try writeBusybox(into: repository.origin + "/builder")
        try repository.write("site/greeting.txt", smallGreeting + "\n")
        try repository.write("stack.yaml", """
            version: 2
            bases:
              builder: builder:latest
              runtime: builder:latest
            packages:
              site:
                version: "1.0"
                source: ./site
                build:
                  script: mkdir -p $PREFIX/share && cp greeting.txt $PREFIX/share/greeting.txt
            images:
              builder:
                layers:
                  - source: ./builder
                    destination: /
              web:
                packages: [site]
                config: {entrypoint: \(webEntrypoint)}
                test: \(webTest(expecting: smallGreeting))

            """ + trailer + "\n")
    }

    /// The five-package stack of the package and pipeline tests (a ← b ← c, a ← d, e needing c
    /// and d to run and b to build), its builder and runtime bases `base` from a registry, and
    /// the `web` image (packages c and e) with a test.
    static func writeFive(in repository: CITestRepository, base: String, trailer: String) throws {
        try repository.write("src/a/a.txt", "alpha\n")
        try repository.write("src/b/b.txt", "beta\n")
        try repository.write("stack.yaml", """
            version: 2
            bases:
              builder: \(base)
              runtime: \(base)
            packages:
              a:
                version: "1.0"
                source: ./src/a
                build:
                  script: |
                    mkdir -p $PREFIX/share
                    cp a.txt $PREFIX/share/a.txt
              b:
                source: ./src/b
                depends_on: [a]
                build:
                  script: mkdir -p $PREFIX/share && cat $A_PREFIX/share/a.txt b.txt > $PREFIX/share/ab.txt
              c:
                depends_on: [b]
                build:
                  script: mkdir -p $PREFIX/share && cat $B_PREFIX/share/ab.txt > $PREFIX/share/c.txt
              d:
                depends_on: [a]
                build:
                  script: mkdir -p $PREFIX/share && echo delta > $PREFIX/share/d.txt
              e:
                depends_on: [c, d]
                build_depends_on: [b]
                build:
                  script: mkdir -p $PREFIX/share && cat $C_PREFIX/share/c.txt $D_PREFIX/share/d.txt > $PREFIX/share/e.txt
            images:
              web:
                packages: [e]
                config: {entrypoint: \(webEntrypoint)}
                test: \(webTest(expecting: "delta"))

            """ + trailer + "\n")
    }

    /// Builds a busybox image in a scratch project and pushes it to `registry` as `name`
    /// (`ci-bases/busybox:1`); returns the reference a stack names it by.
    static func pushBusyboxBase(to registry: LocalRegistry, as name: String = "ci-bases/busybox:1") throws -> String {
        let scratch = Project()
        try writeBusybox(into: scratch.path + "/busybox")
        try scratch.write("stack.yaml", """
            images:
              busybox:
                tags: [busybox:1]
                layers: [{source: ./busybox, destination: /}]
            """)
        let build = try stackship(["build"], cwd: scratch.path, env: ["STACKSHIP_CACHE": ""])
        guard build.status == 0 else { throw CIRunnerFailure("building the busybox base: \(build.err)") }
        let reference = "\(registry.host)/\(name)"
        let push = try stackship(["push", "busybox:1", reference], cwd: scratch.path)
        guard push.status == 0 else { throw CIRunnerFailure("pushing the busybox base: \(push.err)\n\(registry.log.suffix(2000))") }
        return reference
    }

    /// A YAML double-quoted scalar.
    static func yamlQuoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// A failure of the CI-runner harness itself (a git command, a missing file), with its output.
struct CIRunnerFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A test repository: `origin/` (a work tree on branch `main`, committed), and a clone per
/// CI job under `clones/`. The whole folder is removed at the end.
final class CITestRepository: @unchecked Sendable {
    let root: String
    var origin: String { root + "/origin" }
    private var clones = 0

    init() throws {
        try requireTool("git", package: "git")
        let made = FileManager.default.temporaryDirectory.appendingPathComponent("stackship-ci-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: made + "/origin", withIntermediateDirectories: true)
        root = realpath(made, nil).map { p in defer { free(p) }; return String(cString: p) } ?? made
        try git(["init", "-q", "-b", "main"], in: origin)
        // What stackship writes beside a stack file (its store, caches) is not the project's.
        try write(".gitignore", ".stackship/\n")
    }

    deinit {
        // Containers' overlay roots are gone by now (each job's state is under root); a
        // read-only file in a build tree must not stop the removal.
        _ = try? runProgram("rm", ["-rf", root])
    }

    func write(_ relative: String, _ text: String, mode: Int = 0o644) throws {
        let path = origin + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    func read(_ relative: String) throws -> String {
        try String(contentsOfFile: origin + "/" + relative, encoding: .utf8)
    }

    /// Runs git with a fixed identity and no signing; throws with its output when it fails.
    @discardableResult
    func git(_ args: [String], in directory: String) throws -> String {
        let r = try runProgram("git", ["-c", "user.name=Stackship CI Test", "-c", "user.email=ci@example.invalid", "-c", "commit.gpgsign=false",
                                       "-c", "init.defaultBranch=main"] + args, cwd: directory)
        guard r.status == 0 else { throw CIRunnerFailure("git \(args.joined(separator: " ")) in \(directory): \(r.err)\(r.out)") }
        return r.out
    }

    /// Commits everything in origin; returns the commit.
    @discardableResult
    func commitAll(_ message: String) throws -> String {
        try git(["add", "-A"], in: origin)
        try git(["commit", "-q", "--allow-empty", "-m", message], in: origin)
        return try head()
    }

    func head() throws -> String {
        try git(["rev-parse", "HEAD"], in: origin).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A fresh clone of origin's main, as a CI service checks a job out: nothing but what is
    /// committed. Returns its path (`clones/N-label`).
    func freshClone(_ label: String) throws -> String {
        clones += 1
        let path = root + "/clones/\(clones)-\(label)"
        try FileManager.default.createDirectory(atPath: root + "/clones", withIntermediateDirectories: true)
        try git(["clone", "-q", "--branch", "main", "file://" + origin, path], in: root)
        return path
    }

    /// A new empty folder under the repository's root (a job's HOME, state, logs).
    func folder(_ name: String) throws -> String {
        let path = root + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// What the CI-runner tests run their jobs against: a local distribution registry, moto's S3
/// (the binary cache's bucket) and Secrets Manager, and a signing key. Stopped by `stop()`.
final class CIServices: @unchecked Sendable {
    let registry: LocalRegistry
    let moto: MotoServer
    let bucket: String
    /// The signing key's text (what a CI secret holds) and its public key's path.
    let signingKey: String
    let publicKeyPath: String

    static let accessKeyID = "AKIASTACKSHIPCI00001"
    static let secretAccessKey = "ci-runner-secret-do-not-print"
    static let region = "us-east-1"

    var cache: String { "s3://\(bucket)/packages" }

    private init(registry: LocalRegistry, moto: MotoServer, bucket: String, signingKey: String, publicKeyPath: String) {
        self.registry = registry
        self.moto = moto
        self.bucket = bucket
        self.signingKey = signingKey
        self.publicKeyPath = publicKeyPath
    }

    /// Starts the registry and moto, makes the bucket, and a signing key in `keys` (a folder).
    static func start(keys: String) async throws -> CIServices {
        let registry = try await LocalRegistry.start()
        do {
            let moto = try await MotoServer.start()
            let bucket = "stackship-ci-" + UUID().uuidString.lowercased().prefix(12)
            try await withClient(moto) { try await S3Client(client: $0).createBucket(String(bucket)) }
            let keygen = try stackship(["cache", "keygen", "--output", keys + "/ci.key"], cwd: keys)
            guard keygen.status == 0 else { throw CIRunnerFailure("cache keygen: \(keygen.err)") }
            let key = try String(contentsOfFile: keys + "/ci.key", encoding: .utf8)
            return CIServices(registry: registry, moto: moto, bucket: String(bucket), signingKey: key, publicKeyPath: keys + "/ci.key.pub")
        } catch {
            registry.stop()
            throw error
        }
    }

    func stop() {
        registry.stop()
        moto.stop()
    }

    /// The AWS environment a job gets: test keys, the region, moto for S3 (the cache) and for
    /// every other AWS API.
    var awsEnvironment: [String: String] {
        ["AWS_ACCESS_KEY_ID": Self.accessKeyID, "AWS_SECRET_ACCESS_KEY": Self.secretAccessKey, "AWS_REGION": Self.region,
         "AWS_DEFAULT_REGION": Self.region, "S3_ENDPOINT_URL": moto.endpoint, "AWS_ENDPOINT_URL": moto.endpoint]
    }

    static func withClient<T>(_ moto: MotoServer, _ body: (AWSClient) async throws -> T) async throws -> T {
        let client = AWSClient(credentials: AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey)),
                               region: region, endpoint: moto.endpoint, options: TransportOptions(environment: [:]))
        return try await client.withShutdown(body)
    }

    /// The names of the packages the cache holds (`stackship cache ls`).
    func cachedPackages(in directory: String) throws -> Set<String> {
        let listing = try stackship(["cache", "ls", "--json", "--cache", cache], cwd: directory, env: awsEnvironment)
        guard listing.status == 0 else { throw CIRunnerFailure("cache ls: \(listing.err)") }
        let rows = try JSONSerialization.jsonObject(with: Data(listing.out.utf8)) as? [[String: Any]] ?? []
        return Set(rows.compactMap { $0["name"] as? String })
    }

    /// Pulls `reference` into a scratch folder's store, runs it with port 80 published, and
    /// returns the page it serves; the container is removed.
    func fetchPage(of reference: String, in scratch: Project) throws -> String {
        try requireTool("curl", package: "curl")
        let pull = try stackship(["pull", reference], cwd: scratch.path)
        guard pull.status == 0 else { throw CIRunnerFailure("pull \(reference): \(pull.err)") }
        let port = try Loopback.freePort()
        let started = try stackship(["run", "-d", "--name", "ci-pushed-web", "-p", "127.0.0.1:\(port):80", reference], cwd: scratch.path)
        guard started.status == 0 else { throw CIRunnerFailure("run \(reference): \(started.err)") }
        defer {
            _ = try? stackship(["stop", "ci-pushed-web"], cwd: scratch.path)
            _ = try? stackship(["rm", "-f", "ci-pushed-web"], cwd: scratch.path)
        }
        var page = "", last = ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let get = try run("curl", ["-fsS", "--max-time", "5", "http://127.0.0.1:\(port)/"])
            if get.status == 0 { page = get.out; break }
            last = "curl exited \(get.status): \(get.err)"
            usleep(200_000)
        }
        if page.isEmpty {
            let logs = try stackship(["logs", "ci-pushed-web"], cwd: scratch.path)
            let ps = try stackship(["ps", "-a"], cwd: scratch.path)
            let inside = try stackship(["exec", "ci-pushed-web", "sh", "-c", "ls -la /tmp/www /opt/stack; cat /tmp/www/index.html; busybox wget -O - http://127.0.0.1:80/"], cwd: scratch.path)
            last += "\ninside: \(inside.out)\(inside.err)"
            throw CIRunnerFailure("\(reference) did not answer on 127.0.0.1:\(port): \(last)\nlogs: \(logs.out)\(logs.err)\nps: \(ps.out)\(ps.err)\nrun: \(started.out)\(started.err)")
        }
        return page
    }
}

