#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
import Runtime
import Testing

/// RUN steps under real runc and crun on the busybox test image: the change set, its layer,
/// and that nothing (mounts, runtime state, secrets) is left behind on any path.
@Suite(.serialized) struct BuildStepIntegrationTests {
    static let runtimes = ["runc", "crun"]

    @Test(arguments: runtimes) func changesBecomeALayerThatAppliesOntoTheLowerRoot(runtime: String) async throws {
        let f = try BuildStepFixture(runtime: runtime)
        let result = try await f.runner.run(f.step("""
            echo hi > /a && mkdir -p /b/c && rm /etc/x && rm -rf /d && mkdir -p /d/new && echo n > /d/new/f && \
            ln -s /a /s && ln /a /h && echo owned > /o && chown 33:33 /o
            """))
        #expect(f.leftovers(keeping: [result]).isEmpty, "\(f.leftovers(keeping: [result]))")
        let (built, entries, _) = try f.layer(result)
        func entry(_ p: String) -> TarEntry? { entries.first { $0.path == p } }
        #expect(entries.map(\.path) == ["a", "b", "b/c", "d", "d/.wh..wh..opq", "d/new", "d/new/f", "etc", "etc/.wh.x", "h", "o", "s"])
        #expect(entry("h")?.kind == .hardlink && entry("h")?.linkTarget == "a")
        #expect(entry("s")?.kind == .symlink && entry("s")?.linkTarget == "/a")
        #expect(entry("o")?.uid == 33 && entry("o")?.gid == 33)
        #expect(built.descriptor.mediaType == MediaType.ociLayer(.gzip))

        // Applied onto the lower root as an image layer: the deleted file and the replaced
        // directory's old content are gone, the new content is there.
        let applied = f.path + "/applied"
        try BuildStepFixture.unpack(f.busybox.store, into: applied)
        let extractor = try SafeExtractor(root: applied, policy: .imageLayers())
        try extractor.apply(try Decompressor.source(.gzip, try f.busybox.store.open(built.descriptor)), name: "step layer")
        #expect(!FileManager.default.fileExists(atPath: applied + "/etc/x"))
        #expect(FileManager.default.fileExists(atPath: applied + "/etc/passwd"))
        #expect(!FileManager.default.fileExists(atPath: applied + "/d/old"))
        #expect(FileManager.default.contents(atPath: applied + "/d/new/f") == Data("n\n".utf8))
        #expect(FileManager.default.contents(atPath: applied + "/a") == Data("hi\n".utf8))
        var st = stat()
        #expect(lstat(applied + "/o", &st) == 0 && st.st_uid == 33 && st.st_gid == 33)
        try result.remove()
        #expect(f.leftovers().isEmpty, "\(f.leftovers())")
    }

    @Test(arguments: runtimes) func theSameStepTwiceGivesTheSameLayer(runtime: String) async throws {
        let f = try BuildStepFixture(runtime: runtime)
        let script = "echo hi > /a && mkdir -p /b/c && rm /etc/x"
        let first = try await f.runner.run(f.step(script))
        try await Task.sleep(nanoseconds: 1_100_000_000) // other mtimes
        let second = try await f.runner.run(f.step(script))
        let (a, entries, _) = try f.layer(first)
        let (b, _, _) = try f.layer(second)
        #expect(a.descriptor.digest == b.descriptor.digest && a.diffID == b.diffID)
        #expect(entries.map(\.path) == ["a", "b", "b/c", "etc", "etc/.wh.x"])
        // The change set can be the next step's top layer: the file is gone there too.
        let lines = LineCollector()
        let third = try await f.runner.run(f.step("ls /etc; cat /a", lines: lines, lowers: [first.upperDirectory] + f.lowers))
        #expect(lines.lines.contains("hi") && !lines.lines.contains("x") && lines.lines.contains("passwd"))
        for r in [first, second, third] { try r.remove() }
        #expect(f.leftovers().isEmpty, "\(f.leftovers())")
    }

    @Test(arguments: runtimes) func noNetworkCannotReachAHostPortWhileHostNetworkCan(runtime: String) async throws {
        let f = try BuildStepFixture(runtime: runtime)
        let answerer = try LoopbackAnswerer()
        let lines = LineCollector()
        let host = try await f.runner.run(f.step("nc 127.0.0.1 \(answerer.port) </dev/null", network: .host, lines: lines))
        #expect(lines.lines.contains("pong"))
        await #expect {
            _ = try await f.runner.run(f.step("nc 127.0.0.1 \(answerer.port) </dev/null", network: .none))
        } throws: { error in
            guard case let RuntimeError.buildStepFailed(_, code, _) = error else { return false }
            return code != 0
        }
        try host.remove()
        #expect(f.leftovers().isEmpty, "\(f.leftovers())")
    }

    @Test(arguments: runtimes) func aCacheMountPersistsBetweenStepsAndStaysOutOfTheLayer(runtime: String) async throws {
        let f = try BuildStepFixture(runtime: runtime)
        let cache = BuildMount.cache(id: "apt", target: "/var/cache/apt")
        let first = try await f.runner.run(f.step("echo kept > /var/cache/apt/f && echo made > /m", mounts: [cache]))
        let lines = LineCollector()
        let second = try await f.runner.run(f.step("cat /var/cache/apt/f", mounts: [cache], lines: lines))
        #expect(lines.lines == ["kept"])
        let (_, entries, _) = try f.layer(first)
        #expect(entries.map(\.path) == ["m"]) // no var/, var/cache/ the runtime made for the mount
        for r in [first, second] { try r.remove() }
        #expect(f.leftovers().isEmpty, "\(f.leftovers())")
    }

    @Test(arguments: runtimes) func aSecretIsReadableInsideAndNowhereElse(runtime: String) async throws {
        let f = try BuildStepFixture(runtime: runtime)
        let value = "s3cr3t-\(UUID().uuidString)"
        let secret = BuildMount.secret(id: "token", value: BuildSecret(Data(value.utf8)))
        let lines = LineCollector()
        let result = try await f.runner.run(f.step("ls -ln /run/secrets/token; wc -c < /run/secrets/token; cat /run/secrets/token > /dev/null",
                                                   mounts: [secret], lines: lines))
        #expect(lines.lines.first?.hasPrefix("-r--------") == true, "\(lines.lines)")
        #expect(lines.lines.last == "\(value.utf8.count)")
        let (built, entries, tar) = try f.layer(result)
        #expect(entries.isEmpty, "\(entries.map(\.path))") // not even /run/secrets
        #expect(tar.range(of: Data(value.utf8)) == nil)
        #expect(BuildStepFixture.files(under: result.upperDirectory, containing: value).isEmpty)
        #expect(try f.busybox.store.read(built.descriptor).range(of: Data(value.utf8)) == nil)

        // Echoed by a failing command: redacted in the streamed lines and in the error.
        let echoed = LineCollector()
        await #expect {
            _ = try await f.runner.run(f.step("cat /run/secrets/token; echo; echo before-$(cat /run/secrets/token)-after; exit 3",
                                              mounts: [secret], lines: echoed))
        } throws: { error in
            guard case let RuntimeError.buildStepFailed(_, code, output) = error else { return false }
            let text = "\(error)"
            return code == 3 && !text.contains(value) && output.contains("before-***-after") && text.contains("***")
        }
        #expect(echoed.lines.contains("***") && !echoed.lines.contains { $0.contains(value) })
        #expect(BuildStepFixture.files(under: f.path, containing: value).isEmpty)
        try result.remove()
        #expect(f.leftovers().isEmpty, "\(f.leftovers())")
    }

    @Test(arguments: runtimes) func aFailingCommandGivesItsExitCodeAndLastLines(runtime: String) async throws {
        let f = try BuildStepFixture(runtime: runtime)
        let lines = LineCollector()
        await #expect {
            _ = try await f.runner.run(f.step("echo oops >&2; for i in $(seq 1 30); do echo line$i; done; exit 7", lines: lines))
        } throws: { error in
            guard case let RuntimeError.buildStepFailed(command, code, output) = error else { return false }
            // runc copies stdout and stderr apart, so where "oops" lands is its choice; crun keeps the order.
            let ordered = runtime == "crun" ? output == (11...30).map { "line\($0)" } : output.last(where: { $0 != "oops" }) == "line30"
            return code == 7 && output.count == 20 && ordered && command.hasPrefix("echo oops")
                && "\(error)".contains("exit code 7") && "\(error)".contains("line30")
        }
        // stderr streams too.
        #expect(lines.lines.count == 31 && lines.lines.contains("oops"))
        #expect(f.leftovers().isEmpty, "\(f.leftovers())")
        // A program the runtime cannot start is the runtime's error, not an exit code.
        let missing = BuildStep(lowerDirectories: f.lowers, arguments: ["/no/such/program"])
        await #expect(throws: RuntimeError.self) { _ = try await f.runner.run(missing) }
        #expect(f.leftovers().isEmpty, "\(f.leftovers())")
    }

    @Test(arguments: runtimes) func aStepPastItsTimeLimitOrCancelledIsKilledAndLeavesNothing(runtime: String) async throws {
        let f = try BuildStepFixture(runtime: runtime)
        let started = Date()
        await #expect {
            _ = try await f.runner.run(f.step("echo started; sleep 60", timeout: 1))
        } throws: { error in
            guard case let RuntimeError.buildStepTimedOut(_, seconds, output) = error else { return false }
            return seconds == 1 && output == ["started"]
        }
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(f.leftovers().isEmpty, "\(f.leftovers())")

        let lines = LineCollector()
        let task = Task { try await f.runner.run(f.step("echo running; sleep 61", lines: lines)) }
        while lines.lines.isEmpty { try await Task.sleep(nanoseconds: 50_000_000) }
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(f.leftovers().isEmpty, "\(f.leftovers())")
        #expect(processes(mentioning: "sleep 61").isEmpty)
    }

    @Test(arguments: runtimes) func userWorkdirEnvironmentBindAndTmpfsMounts(runtime: String) async throws {
        let f = try BuildStepFixture(runtime: runtime)
        let context = f.path + "/context"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        try Data("from the context\n".utf8).write(to: URL(fileURLWithPath: context + "/file"))
        chmod(context, 0o777) // the step runs as www: a read-write bind keeps the source's mode
        // A source inside another root: its absolute link leads to that root's /etc, not the host's.
        try FileManager.default.createSymbolicLink(atPath: f.base + "/hostetc", withDestinationPath: "/etc")
        let lines = LineCollector()
        var step = f.step("id -u; id -g; pwd; echo $GREETING; cat /ctx/file; touch /ctx/new 2>/dev/null || echo read-only; " +
                          "touch /rw/new && echo written; echo t > /tmp/t; grep -c www:x:33:33:www:/www /stage/passwd",
                          mounts: [.bind(source: context, target: "/ctx"), .bind(source: context, target: "/rw", readWrite: true),
                                   .tmpfs(target: "/tmp"), .bind(source: "/hostetc", target: "/stage", root: f.base)], lines: lines)
        step.user = "www"
        step.workdir = "/w/x"
        step.environment += ["GREETING=hello"]
        let result = try await f.runner.run(step)
        #expect(lines.lines == ["33", "33", "/w/x", "hello", "from the context", "read-only", "written", "1"])
        #expect(!FileManager.default.fileExists(atPath: context + "/new")) // a read-write bind's writes are thrown away
        let (_, entries, _) = try f.layer(result)
        #expect(entries.map(\.path) == ["w", "w/x"])
        #expect(entries.allSatisfy { $0.kind == .directory && $0.mode == 0o755 && $0.uid == 0 })
        try result.remove()
        #expect(f.leftovers().isEmpty, "\(f.leftovers())")
    }

    @Test func runcAndCrunGiveTheSameLayer() async throws {
        let f = try BuildStepFixture(runtime: "runc")
        let crun = try BuildStepRunner(runtime: try OCIRuntime.locate("crun", stateRoot: f.path + "/oci"),
                                       scratchDirectory: f.path + "/scratch", cacheDirectory: f.path + "/cache")
        let script = "echo hi > /a && mkdir -p /b/c && rm /etc/x && chown 33:33 /a"
        let byRunc = try await f.runner.run(f.step(script))
        let byCrun = try await crun.run(f.step(script))
        #expect(try f.layer(byRunc).0.diffID == (try f.layer(byCrun).0.diffID))
        for r in [byRunc, byCrun] { try r.remove() }
        #expect(f.leftovers().isEmpty, "\(f.leftovers())")
    }

    /// How long a trivial RUN takes here (printed for the record; bounded loosely).
    @Test(arguments: runtimes) func aTrivialStepTakesLittleTime(runtime: String) async throws {
        let f = try BuildStepFixture(runtime: runtime)
        var times: [Double] = [], inRuntime: [Double] = []
        for _ in 0..<7 {
            let started = Date()
            let result = try await f.runner.run(f.step("true"))
            times.append(Date().timeIntervalSince(started))
            inRuntime.append(result.runtimeSeconds)
            try result.remove()
        }
        let median = times.sorted()[3]
        print("trivial RUN under \(runtime): median \(Int(median * 1000)) ms (\(Int(inRuntime.sorted()[3] * 1000)) ms in the runtime) of \(times.map { Int($0 * 1000) })")
        #expect(median < 5)
        #expect(f.leftovers().isEmpty, "\(f.leftovers())")
    }
}
