#if canImport(Glibc)
import Glibc
#endif
import AWS
import Foundation
import Runtime
import StackshipTesting
import Testing
import Support

/// Stack file version 2: script packages built in a busybox builder image under runc, cached by
/// input hash, assembled into images that share their layers.
@Suite(.serialized)
struct PackageIntegrationTests {
    /// A busybox builder defined in the stack itself, and five script packages:
    /// a ← b ← c, a ← d, e needs c and d to run and b to build.
    static func makeStack(_ project: Project) throws {
        try BusyboxStack.write(project, images: """
              one:
                packages: [c]
                config: {entrypoint: [show]}
              two:
                packages: [e]
                config: {entrypoint: [show]}
            """)
    }

    static func built(_ output: String) -> Set<String> {
        Set(output.split(separator: "\n").compactMap { line in
            line.contains(": built in ") ? String(line.split(separator: ":")[0]) : nil
        })
    }

    static func layers(_ project: Project, _ image: String) throws -> [String] {
        let r = try stackship(["inspect", image, "--json"], cwd: project.path)
        let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        let manifest = object?["manifest"] as? [String: Any]
        return (manifest?["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
    }

    @Test func buildsInTheBuilderCachesByHashAndRebuildsOnlyWhatChanged() throws {
        let project = Project()
        try Self.makeStack(project)

        let first = try stackship(["build", "-j", "2"], cwd: project.path)
        #expect(first.status == 0, "\(first.err)")
        #expect(Self.built(first.err) == ["a", "b", "c", "d", "e"])

        // The images share their common packages' layers, byte for byte.
        let one = try Self.layers(project, "one")
        let two = try Self.layers(project, "two")
        #expect(one.count == 1 + 3)  // builder + a, b, c
        #expect(two.count == 1 + 5)  // builder + a, b, c, d, e
        #expect(Array(two.prefix(4)) == one)

        // What the packages built, seen from inside the running image.
        let shown = try stackship(["run", "--rm", "two"], cwd: project.path)
        #expect(shown.status == 0, "\(shown.err)")
        #expect(shown.out.contains("alpha\nbeta\n"))
        #expect(shown.out.contains("alpha\nbeta\nd\n"))

        // Second build: every package up to date, same image digests.
        let lock = try String(contentsOfFile: project.path + "/stack.lock", encoding: .utf8)
        let second = try stackship(["build"], cwd: project.path)
        #expect(second.status == 0, "\(second.err)")
        #expect(Self.built(second.err).isEmpty)
        #expect(second.err.contains("0 built, 0 fetched, 5 up to date"))
        #expect(try String(contentsOfFile: project.path + "/stack.lock", encoding: .utf8) == lock)
        #expect(try Self.layers(project, "two") == two)

        // Change b's source: b and what depends on it (c, e) are rebuilt, a and d are not.
        try project.write("src/b/b.txt", "BETA\n")
        let third = try stackship(["build"], cwd: project.path)
        #expect(third.status == 0, "\(third.err)")
        #expect(Self.built(third.err) == ["b", "c", "e"])
        let rerun = try stackship(["run", "--rm", "one"], cwd: project.path)
        #expect(rerun.out.contains("alpha\nBETA\n"))
        let newLock = try String(contentsOfFile: project.path + "/stack.lock", encoding: .utf8)
        #expect(newLock != lock)
        let check = try stackship(["lock", "--check"], cwd: project.path)
        #expect(check.status == 0, "\(check.err)")
    }

    static func fetched(_ output: String) -> Set<String> {
        Set(output.split(separator: "\n").compactMap { line in
            line.contains(": fetched from ") ? String(line.split(separator: ":")[0]) : nil
        })
    }

    /// Built once and pushed signed; a second store fetches everything (verified) and gets the
    /// same image digests; an altered artifact or an untrusted key is refused and nothing from
    /// it lands in the store.
    @Test func aSecondStoreFetchesSignedPackagesFromTheCacheAndRefusesTampering() throws {
        let project = Project()
        try Self.makeStack(project)
        let cache = project.path + "/shared-cache"
        let keygen = try stackship(["cache", "keygen", "--output", project.path + "/ci.key"], cwd: project.path)
        #expect(keygen.status == 0, "\(keygen.err)")

        // A cache named on the command line must exist (a typo is not a new empty cache) unless
        // it is pushed to.
        let typo = try stackship(["build", "--package", "a", "--cache", cache], cwd: project.path)
        #expect(typo.status != 0)
        #expect(typo.err.contains("there is no cache at \(cache)"), "\(typo.err)")
        // Built before any cache was given: a is in the store and is pushed by the first build
        // that has a push cache, though it is not rebuilt.
        let local = try stackship(["build", "--package", "a"], cwd: project.path)
        #expect(local.status == 0, "\(local.err)")

        let first = try stackship(["build", "-j", "2", "--cache", cache, "--signing-key", project.path + "/ci.key"], cwd: project.path)
        #expect(first.status == 0, "\(first.err)")
        #expect(Self.built(first.err) == ["b", "c", "d", "e"])
        #expect(first.err.components(separatedBy: ": pushed to \(cache)").count - 1 == 5)

        // Without a key nothing is pushed, and the build says why.
        let unsignedBuild = try stackship(["build", "--package", "a", "--cache", cache, "--store", project.path + "/s0",
                                           "--trusted-key", project.path + "/ci.key.pub"], cwd: project.path)
        #expect(unsignedBuild.status == 0, "\(unsignedBuild.err)")
        #expect(unsignedBuild.err.contains("not pushed to \(cache): no signing key"))
        let two = try Self.layers(project, "two")

        let second = try stackship(["build", "--store", project.path + "/s2", "--cache", cache, "--trusted-key", project.path + "/ci.key.pub"],
                                   cwd: project.path)
        #expect(second.status == 0, "\(second.err)")
        #expect(Self.built(second.err).isEmpty)
        #expect(Self.fetched(second.err) == ["a", "b", "c", "d", "e"])
        #expect(second.err.contains("0 built, 5 fetched, 0 up to date"))
        let inspected = try stackship(["inspect", "two", "--json", "--store", project.path + "/s2"], cwd: project.path)
        #expect(inspected.status == 0, "\(inspected.err)")
        for layer in two { #expect(inspected.out.contains(layer)) }
        // The same manifest digest, so the same config too: the fetched layers' diffIDs are right.
        func digestLine(_ out: String) -> String? { out.split(separator: "\n").first { $0.hasPrefix("two: sha256:") }.map { String($0.split(separator: " ")[1]) } }
        #expect(digestLine(second.out) != nil && digestLine(second.out) == digestLine(first.out), "\(first.out)\n\(second.out)")

        // A key nobody trusts: refused (by key id), nothing recorded in the store.
        let untrusted = try stackship(["build", "--package", "a", "--store", project.path + "/s3", "--cache", cache], cwd: project.path)
        #expect(untrusted.status != 0)
        #expect(untrusted.err.contains("a: FAILED"), "\(untrusted.err)")
        #expect(untrusted.err.contains("not trusted") || untrusted.err.contains("untrusted"), "\(untrusted.err)")
        #expect(!FileManager.default.fileExists(atPath: project.path + "/s3/packages"))

        // An artifact altered after signing: refused, nothing recorded, no stack trace.
        let artifacts = try FileManager.default.subpathsOfDirectory(atPath: cache + "/artifacts").filter { $0.hasSuffix(".tar.gz") }
        #expect(artifacts.count == 5)
        for artifact in artifacts {
            let handle = try #require(FileHandle(forWritingAtPath: cache + "/artifacts/" + artifact))
            handle.seekToEndOfFile()
            handle.write(Data("tampered".utf8))
            try handle.close()
        }
        let altered = try stackship(["build", "--package", "a", "--store", project.path + "/s4", "--cache", cache,
                                     "--trusted-key", project.path + "/ci.key.pub"], cwd: project.path)
        #expect(altered.status != 0)
        #expect(altered.err.contains("a: FAILED"), "\(altered.err)")
        #expect(altered.err.contains("truncated or altered; nothing was installed"), "\(altered.err)")
        #expect(!altered.err.contains("Fatal error"))
        #expect(!FileManager.default.fileExists(atPath: project.path + "/s4/packages"))
    }

    /// GC keeps what a lock file or an image references (with dependencies) and deletes the
    /// rest; --dry-run deletes nothing.
    @Test func cacheGCKeepsWhatTheLockAndImagesReference() throws {
        let project = Project()
        try Self.makeStack(project)
        let cache = project.path + "/cache"
        let key = project.path + "/ci.key"
        #expect(try stackship(["cache", "keygen", "--output", key], cwd: project.path).status == 0)
        let first = try stackship(["build", "--cache", cache, "--signing-key", key], cwd: project.path)
        #expect(first.status == 0, "\(first.err)")
        try FileManager.default.copyItem(atPath: project.path + "/stack.lock", toPath: project.path + "/old.lock")
        try project.write("src/b/b.txt", "BETA\n")
        let second = try stackship(["build", "--cache", cache, "--signing-key", key], cwd: project.path)
        #expect(second.status == 0, "\(second.err)")
        func cached() throws -> Set<String> {
            let r = try stackship(["cache", "ls", "--json", "--cache", cache], cwd: project.path)
            let rows = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]] ?? []
            return Set(rows.compactMap { row in (row["name"] as? String).map { "\($0)@\((row["hash"] as? String ?? "").prefix(6))" } })
        }
        let all = try cached()
        #expect(all.count == 8)  // a, d, and two versions each of b, c, e

        let dry = try stackship(["cache", "gc", "--cache", cache, "--lock", "stack.lock", "--min-age", "0", "--dry-run"], cwd: project.path)
        #expect(dry.status == 0, "\(dry.err)")
        #expect(dry.out.contains("Would reclaim") && dry.out.contains("(3 packages); 5 kept"), "\(dry.out)")
        #expect(try cached() == all)

        // Image one holds a and the new b and c; the old lock keeps a, d and the first b, c, e:
        // only the new e goes.
        let gc = try stackship(["cache", "gc", "--cache", cache, "--image", "one", "--lock", "old.lock", "--min-age", "0"], cwd: project.path)
        #expect(gc.status == 0, "\(gc.err)")
        #expect(gc.out.contains("(1 package); 7 kept"), "\(gc.out)")
        let lock = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: project.path + "/stack.lock"))) as? [String: Any]
        let newE = try #require(((lock?["packages"] as? [String: Any])?["e"] as? [String: Any])?["hash"] as? String)
        #expect(try cached() == all.subtracting(["e@" + newE.prefix(6)]))

        // An image only in a registry: its manifest is read there (the store no longer has it).
        try requireTool("docker-registry", package: "docker-registry")
        let port = try Loopback.freePort()
        try project.write("registry.yml", """
            version: 0.1
            log: {level: error}
            storage: {filesystem: {rootdirectory: \(project.path)/registry-data}}
            http: {addr: 127.0.0.1:\(port)}
            """)
        let log = open(project.path + "/registry.log", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let registry = try ChildProcess.spawn(try #require(ChildProcess.which("docker-registry")), ["serve", project.path + "/registry.yml"],
                                              fds: [null, log, log])
        close(log)
        close(null)
        defer {
            kill(registry, SIGKILL)
            _ = ChildProcess.wait(registry)
        }
        var up = false
        for _ in 0..<100 where !up {
            up = (try? run("curl", ["-sf", "http://127.0.0.1:\(port)/v2/"]))?.status == 0
            if !up { usleep(100_000) }
        }
        #expect(up)
        let remote = "127.0.0.1:\(port)/gc/one:1"
        let pushed = try stackship(["push", "one", remote], cwd: project.path)
        #expect(pushed.status == 0, "\(pushed.err)")
        #expect(try stackship(["rmi", "one"], cwd: project.path).status == 0)
        let byRegistry = try stackship(["cache", "gc", "--cache", cache, "--image", remote, "--min-age", "0", "--dry-run"], cwd: project.path)
        #expect(byRegistry.status == 0, "\(byRegistry.err)")
        #expect(byRegistry.out.contains("(4 packages); 3 kept"), "\(byRegistry.out)")

        let missing = try stackship(["cache", "gc", "--cache", cache, "--lock", "nope.lock"], cwd: project.path)
        #expect(missing.status != 0 && missing.err.contains("no lock file at") && !missing.err.contains("Fatal error"), "\(missing.err)")
    }

    /// The same through an S3 cache: moto_server's S3 API on loopback, reached through
    /// S3_ENDPOINT_URL as any S3-compatible store would be.
    @Test func packagesRoundTripThroughAnS3Cache() async throws {
        let project = Project()
        try Self.makeStack(project)
        let moto = try await MotoServer.shared()
        let env = ["S3_ENDPOINT_URL": moto.endpoint, "AWS_REGION": "us-east-1",
                   "AWS_ACCESS_KEY_ID": "AKIAMOTOTESTKEY00001", "AWS_SECRET_ACCESS_KEY": "moto-secret-do-not-print"]
        let bucket = "stack-" + UUID().uuidString.lowercased().prefix(12)
        let client = try AWSClient(environment: env, home: project.path)
        do {
            try await S3Client(client: client).createBucket(String(bucket))
            await client.shutdown()
        } catch {
            await client.shutdown()
            throw error
        }
        let cache = "s3://\(bucket)/packages"
        let keygen = try stackship(["cache", "keygen", "--output", project.path + "/ci.key"], cwd: project.path)
        #expect(keygen.status == 0, "\(keygen.err)")

        let missing = try stackship(["build", "--package", "a", "--cache", "s3://no-such-bucket-here/x", "--signing-key", project.path + "/ci.key"],
                                    cwd: project.path, env: env)
        #expect(missing.status != 0)
        #expect(missing.err.contains("bucket 'no-such-bucket-here' does not exist"), "\(missing.err)")

        let first = try stackship(["build", "-j", "2", "--cache", cache, "--signing-key", project.path + "/ci.key"], cwd: project.path, env: env)
        #expect(first.status == 0, "\(first.err)")
        #expect(first.err.components(separatedBy: ": pushed to \(cache)/").count - 1 == 5, "\(first.err)")
        let second = try stackship(["build", "--store", project.path + "/s2", "--cache", cache, "--trusted-key", project.path + "/ci.key.pub"],
                                   cwd: project.path, env: env)
        #expect(second.status == 0, "\(second.err)")
        #expect(second.err.contains("0 built, 5 fetched, 0 up to date"), "\(second.err)")
        let listing = try stackship(["cache", "ls", "--json", "--cache", cache], cwd: project.path, env: env)
        #expect(listing.status == 0, "\(listing.err)")
        let rows = try JSONSerialization.jsonObject(with: Data(listing.out.utf8)) as? [[String: Any]] ?? []
        #expect(Set(rows.compactMap { $0["name"] as? String }) == ["a", "b", "c", "d", "e"], "\(listing.out)")
        #expect(!(first.out + first.err + second.out + second.err + listing.out).contains("moto-secret-do-not-print"))

        // A job without AWS credentials (a fork's pull request): the cache is a miss, said once,
        // and the build goes on; nothing is pushed.
        var anonymous = env
        anonymous["AWS_ACCESS_KEY_ID"] = ""
        anonymous["AWS_SECRET_ACCESS_KEY"] = ""
        anonymous["HOME"] = project.path + "/no-aws-home"
        let third = try stackship(["build", "--store", project.path + "/s3", "--cache", cache, "--signing-key", project.path + "/ci.key"],
                                  cwd: project.path, env: anonymous)
        #expect(third.status == 0, "\(third.err)")
        #expect(third.err.components(separatedBy: "is neither read nor written: No AWS credentials found").count - 1 == 1, "\(third.err)")
        #expect(third.err.contains("5 built, 0 fetched") && !third.err.contains(": pushed to") && !third.err.contains("no signing key"), "\(third.err)")
    }

    @Test func aFailingPackageShowsItsLogAndSkipsWhatNeedsIt() throws {
        let project = Project()
        try Self.makeStack(project)
        let stack = try String(contentsOfFile: project.path + "/stack.yaml", encoding: .utf8)
        try project.write("stack.yaml", stack.replacingOccurrences(
            of: "script: mkdir -p $PREFIX/share && echo d > $PREFIX/share/d.txt",
            with: "script: echo about to fail && false"))
        let failed = try stackship(["build", "--keep-going"], cwd: project.path)
        #expect(failed.status == 1)
        #expect(failed.err.contains("d: FAILED: package 'd' failed to build (exit status 1)"))
        #expect(failed.err.contains("about to fail"))
        #expect(failed.err.contains("e: skipped, because d failed"))
        #expect(failed.err.contains("error: 1 package failed: d; not built: e"))
        // --keep-going built what did not need d.
        #expect(Self.built(failed.err) == ["a", "b", "c"])
        #expect(!failed.err.contains("Fatal error"))
        #expect(FileManager.default.fileExists(atPath: project.path + "/.stackship/logs/d.log"))
        // No work folder left behind.
        let work = (try? FileManager.default.contentsOfDirectory(atPath: project.path + "/.stackship/work")) ?? []
        #expect(work.isEmpty)
    }

    @Test func stackFileMistakesAreNamed() throws {
        let project = Project()
        let cases: [(String, String)] = [
            ("""
            version: 2
            packages:
              a: {depends_on: [b], build: {script: x, host: true}}
              b: {depends_on: [a], build: {script: x, host: true}}
            """, "dependency cycle: a → b → a"),
            ("""
            version: 2
            packages:
              a: {depends_on: [bb], build: {script: x, host: true}}
              b: {build: {script: x, host: true}}
            """, "unknown package 'bb' in the dependencies of 'a'; did you mean 'b'?"),
            ("""
            version: 2
            packages:
              a: {build: {script: make}}
            """, "package 'a' builds its script in a container, but `bases:` names no builder image"),
            ("""
            packages:
              a: {build: {script: make, host: true}}
            """, "`packages:` needs stack file version 2"),
            ("""
            version: 2
            packages:
              a: {build: {script: x, files: [], host: true}}
            """, "has both `script:` and `files:`"),
            ("""
            version: 2
            packages:
              a: {build: {script: x, host: true}}
            images:
              app: {packages: [aa]}
            """, "unknown package 'aa' in image 'app'; did you mean 'a'?"),
        ]
        for (yaml, message) in cases {
            try project.write("stack.yaml", yaml)
            let r = try stackship(["build"], cwd: project.path)
            #expect(r.status == 1)
            #expect(r.err.contains(message), "\(r.err)")
            #expect(r.err.hasPrefix("error: stack.yaml:"), "\(r.err)")
        }
    }

    /// A `spack:` package where spack is on PATH: install, a view into $PREFIX, and Spack's own
    /// binaries pushed to the push cache's Spack mirror. No spack exists for this machine (not
    /// in Debian, not on PyPI), so a recording `spack` script stands in for it: this checks
    /// what stackship asks of spack, not spack.
    @Test func spackPackagesInstallViewAndPushToTheCachesSpackMirror() throws {
        let project = Project()
        try project.write("bin/spack", """
            #!/bin/sh
            echo "$*" >> "\(project.path)/spack-calls"
            if [ "$1" = --version ]; then echo "0.23.0-recording"; exit 0; fi
            if [ "$1" = view ]; then mkdir -p "$6/bin" && echo zlib > "$6/bin/zlib-tool"; fi
            """)
        chmod(project.path + "/bin/spack", 0o755)
        try project.write("stack.yaml", """
            version: 2
            packages:
              zlib:
                build: {spack: {specs: [zlib@1.3]}}
            """)
        let cache = project.path + "/cache"
        #expect(try stackship(["cache", "keygen", "--output", project.path + "/k"], cwd: project.path).status == 0)
        let env = ["PATH": project.path + "/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
        let built = try stackship(["build", "--cache", cache, "--signing-key", project.path + "/k"], cwd: project.path, env: env)
        #expect(built.status == 0, "\(built.err)")
        let calls = ((try? String(contentsOfFile: project.path + "/spack-calls", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        // `--version` first: the package's input hash covers spack's version.
        #expect(calls.count == 4, "\(calls)")
        #expect(calls.first == "--version")
        #expect(calls.dropFirst().first == "install --fail-fast zlib@1.3")
        #expect(calls.dropFirst(2).first.map { $0.hasPrefix("view --dependencies yes symlink -i /") && $0.hasSuffix(" zlib@1.3") } == true, "\(calls)")
        #expect(calls.last == "buildcache push --unsigned --only package \(cache)/spack zlib@1.3", "\(calls)")
        // What the view put in $PREFIX is the package's layer.
        let files = try stackship(["cache", "ls", "--json", "--cache", cache], cwd: project.path)
        #expect(files.out.contains("\"name\" : \"zlib\""), "\(files.out)")

        // Without spack on PATH: the install hint, no stack trace.
        let noSpack = try stackship(["build", "--no-cache", "--store", project.path + "/other"], cwd: project.path, env: ["PATH": "/usr/bin:/bin"])
        #expect(noSpack.status != 0)
        #expect(noSpack.err.contains("put spack on PATH") && !noSpack.err.contains("Fatal error"), "\(noSpack.err)")
    }

    @Test func hostBuildsGitSourcesAndFiles() throws {
        let project = Project()
        try requireTool("git", package: "git")
        let repo = project.path + "/repo"
        try project.write("repo/VERSION", "1\n")
        for args in [["init", "-q", "-b", "main"], ["add", "."],
                     ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "one"]] {
            #expect(try run("git", ["-C", repo] + args).status == 0)
        }
        try project.write("notes.txt", "notes\n")
        try project.write("stack.yaml", """
        version: 2
        packages:
          fromgit:
            source: {git: ./repo, ref: main}
            build: {script: "mkdir -p $PREFIX && cp VERSION $PREFIX/", host: true}
          docs:
            depends_on: [fromgit]
            build:
              files:
                - {source: ./notes.txt, destination: share/doc/, mode: 0600}
        images:
          app: {packages: [docs]}
        """)
        let first = try stackship(["build"], cwd: project.path)
        #expect(first.status == 0, "\(first.err)")
        #expect(Self.built(first.err) == ["fromgit", "docs"])
        let unchanged = try stackship(["build"], cwd: project.path)
        #expect(Self.built(unchanged.err).isEmpty)
        // A new commit on the ref changes the hash.
        try project.write("repo/VERSION", "2\n")
        #expect(try run("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-am", "two"]).status == 0)
        let second = try stackship(["build"], cwd: project.path)
        #expect(Self.built(second.err) == ["fromgit", "docs"])
        let unpacked = project.path + "/root"
        let r = try stackship(["unpack", "app", unpacked], cwd: project.path)
        #expect(r.status == 0, "\(r.err)")
        #expect(try String(contentsOfFile: unpacked + "/opt/stack/fromgit/VERSION", encoding: .utf8) == "2\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: unpacked + "/opt/stack/docs/share/doc/notes.txt")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // A ref that does not exist is named.
        let bad = try String(contentsOfFile: project.path + "/stack.yaml", encoding: .utf8).replacingOccurrences(of: "ref: main", with: "ref: nope")
        try project.write("stack.yaml", bad)
        let missing = try stackship(["build"], cwd: project.path)
        #expect(missing.status == 1)
        #expect(missing.err.contains("ref 'nope' is not in"), "\(missing.err)")
    }
}
