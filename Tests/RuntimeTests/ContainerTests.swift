#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
@testable import Runtime
import StackshipTesting
import Testing
import Support

@Suite(.serialized) struct ContainerTests {
    @Test func publishedPortAnswersAndNothingIsLeftBehind() async throws {
        let box = try BusyboxStore()
        var containerID = ""
        try await withContainer(box.request(ports: [80], wait: .http(path: "/", port: 80))) { c in
            containerID = c.id
            let response = try c.get("/", port: 80)
            #expect(response.status == 200)
            #expect(response.body == "hello from busybox")
            #expect(try c.hostPort(80) > 0)
            // The namespace is the container's own: only loopback, no route out.
            let (status, output) = try c.exec(["/bin/sh", "-c", "cat /proc/net/dev | grep -c :"])
            #expect(status == 0)
            #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        }
        #expect(box.leftovers().isEmpty, "\(box.leftovers())")
        #expect(processes(mentioning: containerID).isEmpty)
    }

    @Test func defaultsFollowDocker() async throws {
        let box = try BusyboxStore()
        try await withContainer(box.request(["/bin/sleep", "30"])) { c in
            let (_, status) = try c.exec(["/bin/cat", "/proc/self/status"])
            // moby's default capability set is 0xa80425fb; no-new-privileges is on.
            #expect(status.contains("CapEff:\t00000000a80425fb"))
            #expect(status.contains("CapBnd:\t00000000a80425fb"))
            #expect(status.contains("NoNewPrivs:\t1"))
            let timers = try c.exec(["/bin/sh", "-c", "wc -c < /proc/timer_list"])
            #expect(timers.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0") // masked by /dev/null
            let firmware = try c.exec(["/bin/ls", "/sys/firmware"])
            #expect(firmware.output.isEmpty) // masked by an empty tmpfs
            let sysctl = try c.exec(["/bin/sh", "-c", "echo 1 > /proc/sys/kernel/domainname"])
            #expect(sysctl.status != 0) // read-only
            let env = try c.exec(["/bin/env"])
            #expect(env.output.contains("GREETING=from-image"))
            #expect(env.output.contains("HOSTNAME=\(c.id.prefix(12))"))
            let hostname = try c.exec(["/bin/hostname"])
            #expect(hostname.output.trimmingCharacters(in: .whitespacesAndNewlines) == String(c.id.prefix(12)))
        }
    }

    @Test func logWaitExitCodeAndLogs() async throws {
        let box = try BusyboxStore()
        let engine = try box.engine()
        let c = try await StackshipTesting.start(box.request(["/bin/sh", "-c", "echo ready; echo oops >&2; sleep 0.3; exit 3"], wait: .log("ready")))
        #expect(c.logs().contains("ready"))
        let state = try engine.find(c.id)
        #expect(engine.waitForExit(state, seconds: 10))
        #expect(c.exitCode == 3)
        #expect(c.logs() == "ready\noops\n")
        try c.remove()
        #expect(box.leftovers().isEmpty, "\(box.leftovers())")
    }

    @Test func stopEscalatesToSIGKILLAfterTheTimeout() async throws {
        let box = try BusyboxStore()
        let engine = try box.engine()
        var options = RunOptions()
        options.command = ["/bin/sleep", "1000"] // PID 1 without a handler ignores SIGTERM
        let state = try engine.run(image: "busybox:test", options: options)
        let started = Date()
        let stopped = try engine.stop(state.id, timeout: 0.5)
        #expect(stopped.status == .exited)
        #expect(stopped.exitCode == 137)
        #expect(Date().timeIntervalSince(started) < 8)
        #expect(throws: Never.self) { try engine.remove(state.id) }
        #expect(box.leftovers().isEmpty, "\(box.leftovers())")
    }

    @Test func rmRefusesARunningContainerUnlessForced() async throws {
        let box = try BusyboxStore()
        let engine = try box.engine()
        var options = RunOptions()
        options.name = "keeper"
        options.command = ["/bin/sleep", "1000"]
        _ = try engine.run(image: "busybox:test", options: options)
        #expect(throws: RuntimeError.containerRunning("keeper")) { try engine.remove("keeper") }
        #expect(throws: RuntimeError.nameInUse(name: "keeper", id: try engine.find("keeper").id)) {
            _ = try engine.run(image: "busybox:test", options: options)
        }
        try engine.remove("keeper", force: true)
        #expect(box.leftovers().isEmpty, "\(box.leftovers())")
    }

    @Test func containerNamesFollowDockersRule() throws {
        for good in ["a", "web-1", "Hello_World.2", "9lives"] { #expect(ContainerEngine.isValidName(good), "\(good)") }
        for bad in ["", "-a", "_a", ".a", "a b", "a/b", "a:b", "é", "a@b", "a[b", "a`b", "a{b"] {
            #expect(!ContainerEngine.isValidName(bad), "\(bad)")
        }
        let box = try BusyboxStore()
        let engine = try box.engine()
        var options = RunOptions()
        options.name = "-bad"
        #expect(throws: RuntimeError.badOption(option: "--name -bad", reason: "names may contain letters, digits, '_', '.' and '-', and start with a letter or digit")) {
            _ = try engine.run(image: "busybox:test", options: options)
        }
        #expect(box.leftovers().isEmpty, "\(box.leftovers())")
    }

    @Test func hostPortInUseIsReportedAndNothingStarts() throws {
        let box = try BusyboxStore()
        let engine = try box.engine()
        let blocker = try PortForwarder.bind([PortMapping(hostIP: "127.0.0.1", hostPort: 0, containerPort: 1)])
        defer { close(blocker[0].fd) }
        let port = blocker[0].mapping.hostPort
        var options = RunOptions()
        options.ports = [PortMapping(hostIP: "127.0.0.1", hostPort: port, containerPort: 80)]
        #expect(throws: RuntimeError.portInUse(hostIP: "127.0.0.1", port: port)) {
            _ = try engine.run(image: "busybox:test", options: options)
        }
        #expect("\(RuntimeError.portInUse(hostIP: "127.0.0.1", port: port))".contains("-p OTHER:CONTAINER"))
        #expect(box.leftovers().isEmpty, "\(box.leftovers())")
    }

    @Test func anImageWithNothingToRunIsRefused() throws {
        var config = ImageConfig.Config()
        config.Env = ["PATH=/bin"]
        let box = try BusyboxStore(config: config)
        let engine = try box.engine()
        #expect(throws: RuntimeError.noCommand(image: "busybox:test")) {
            _ = try engine.run(image: "busybox:test", options: RunOptions())
        }
        #expect("\(RuntimeError.noCommand(image: "x"))".contains("give a command after the image"))
        #expect(box.leftovers().isEmpty)
    }

    @Test func aMissingExecutableIsTheRuntimesErrorAndLeavesNothing() throws {
        let box = try BusyboxStore()
        let engine = try box.engine()
        var options = RunOptions()
        options.command = ["/no/such/program"]
        do {
            _ = try engine.run(image: "busybox:test", options: options)
            Issue.record("expected a failure")
        } catch {
            #expect("\(error)".contains("/no/such/program"), "\(error)")
        }
        #expect(box.leftovers().isEmpty, "\(box.leftovers())")
    }

    @Test func missingRuntimeSaysHowToInstallOne() throws {
        #expect(throws: RuntimeError.runtimeMissing(requested: nil)) {
            _ = try OCIRuntime.locate(stateRoot: "/tmp/x", environment: ["PATH": "/nonexistent"])
        }
        #expect("\(RuntimeError.runtimeMissing(requested: nil))".contains("apt-get install runc"))
        #expect(throws: RuntimeError.runtimeMissing(requested: "kata")) {
            _ = try OCIRuntime.locate("kata", stateRoot: "/tmp/x", environment: ["PATH": "/usr/bin"])
        }
    }

    @Test func volumesReadOnlyRootUserAndWorkdir() async throws {
        let box = try BusyboxStore()
        let host = box.path + "/shared"
        try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
        try Data("from the host".utf8).write(to: URL(fileURLWithPath: host + "/note"))
        let engine = try box.engine()
        var options = RunOptions()
        options.command = ["/bin/sh", "-c", "cat /data/note; touch /data/x 2>/dev/null && echo data-writable; touch /rw/y && echo rw-writable; touch /z 2>/dev/null || echo root-readonly; id; pwd"]
        options.volumes = [VolumeMount(source: host, destination: "/data", readOnly: true), VolumeMount(source: box.path + "/rw", destination: "/rw")]
        options.readOnlyRoot = true
        options.user = "www:staff"
        options.workdir = "/www"
        let state = try engine.run(image: "busybox:test", options: options)
        #expect(engine.waitForExit(state, seconds: 10))
        let log = try String(contentsOfFile: engine.logPath(of: state.id), encoding: .utf8)
        #expect(log.contains("from the host"))
        #expect(!log.contains("data-writable"))
        #expect(log.contains("root-readonly"))
        #expect(log.contains("uid=33(www) gid=50(staff)"))
        #expect(log.contains("/www"))
        #expect(!log.contains("rw-writable")) // uid 33 cannot write the root-owned directory docker-style bind creates
        try engine.remove(state.id)
        #expect(box.leftovers().isEmpty, "\(box.leftovers())")
    }

    @Test func hostNetworkSharesTheHostsNamespace() async throws {
        let box = try BusyboxStore()
        var request = box.request(["/bin/sh", "-c", "cat /proc/net/dev | grep -c :; sleep 30"], wait: .log("\n"))
        request.network = .host
        try await withContainer(request) { c in
            let hostInterfaces = try String(contentsOfFile: "/proc/net/dev", encoding: .utf8).components(separatedBy: ":").count - 1
            #expect(c.logs().trimmingCharacters(in: .whitespacesAndNewlines) == "\(hostInterfaces)")
        }
    }

    @Test func waitTimesOutWithTheLogTailAndRemovesTheContainer() async throws {
        let box = try BusyboxStore()
        var request = box.request(["/bin/sh", "-c", "echo starting up; sleep 30"], ports: [80], wait: .port(80))
        request.startupTimeout = 1
        do {
            _ = try await StackshipTesting.start(request)
            Issue.record("expected a timeout")
        } catch let error as ContainerTestError {
            #expect(error.message.contains("not ready within"))
            #expect(error.message.contains("port 80"))
            #expect(error.logTail.contains("starting up"))
        }
        #expect(box.leftovers().isEmpty, "\(box.leftovers())")
    }

    @Test func customProbeAndExitBeforeReady() async throws {
        let box = try BusyboxStore()
        let probe = WaitStrategy.custom { c in try c.exec(["/bin/sh", "-c", "test -e /tmp/ready"]).status == 0 }
        try await withContainer(box.request(["/bin/sh", "-c", "mkdir -p /tmp; sleep 0.3; touch /tmp/ready; sleep 30"], wait: probe)) { c in
            let ready = try c.exec(["/bin/ls", "/tmp/ready"])
            #expect(ready.status == 0)
        }
        do {
            _ = try await StackshipTesting.start(box.request(["/bin/sh", "-c", "echo bye; exit 4"], wait: .port(80)))
            Issue.record("expected a failure")
        } catch let error as ContainerTestError {
            #expect(error.message.contains("exited (code 4) before it was ready"))
        }
        #expect(box.leftovers().isEmpty, "\(box.leftovers())")
    }

    @Test func theReaperRemovesContainersOfADeadTestRun() throws {
        let box = try BusyboxStore()
        let engine = try box.engine()
        var options = RunOptions()
        options.command = ["/bin/sleep", "1000"]
        options.labels = ["org.stackship.testing.owner": "999999:1"] // no such process
        let orphan = try engine.run(image: "busybox:test", options: options)
        options.labels = ["org.stackship.testing.owner": "\(getpid()):\(try #require(Self.startTime()))"]
        let mine = try engine.run(image: "busybox:test", options: options)
        let removed = StackshipTesting.reap(engine)
        #expect(removed == [orphan.name])
        #expect(try engine.find(mine.id).status == .running)
        try engine.remove(mine.id, force: true)
        #expect(box.leftovers().isEmpty, "\(box.leftovers())")
    }

    static func startTime() -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return String(fields[19])
    }
}

@Suite struct SpecTests {
    @Test func argumentsFollowDockersRules() throws {
        var config = ImageConfig.Config()
        config.Entrypoint = ["/app"]
        config.Cmd = ["--serve"]
        var options = RunOptions()
        #expect(try SpecBuilder.arguments(config: config, options: options, image: "x") == ["/app", "--serve"])
        options.command = ["--help"]
        #expect(try SpecBuilder.arguments(config: config, options: options, image: "x") == ["/app", "--help"])
        options.command = nil
        options.entrypoint = ["/bin/sh"]
        #expect(try SpecBuilder.arguments(config: config, options: options, image: "x") == ["/bin/sh"]) // image cmd dropped
        #expect(throws: RuntimeError.noCommand(image: "x")) { try SpecBuilder.arguments(config: nil, options: RunOptions(), image: "x") }
    }

    @Test func environmentMergesInOrder() {
        var config = ImageConfig.Config()
        config.Env = ["PATH=/opt/bin", "A=1", "B=2"]
        var options = RunOptions()
        options.environment = ["B=3", "C=4"]
        #expect(SpecBuilder.environment(config: config, options: options, hostname: "h") == ["PATH=/opt/bin", "HOSTNAME=h", "A=1", "B=3", "C=4"])
        #expect(SpecBuilder.environment(config: nil, options: RunOptions(), hostname: "h").first == "PATH=\(SpecDefaults.path)")
    }

    @Test func portAndVolumeSyntax() throws {
        #expect(try PortMapping(parsing: "8090:80") == PortMapping(hostPort: 8090, containerPort: 80))
        #expect(try PortMapping(parsing: "127.0.0.1:8090:80/tcp") == PortMapping(hostIP: "127.0.0.1", hostPort: 8090, containerPort: 80))
        #expect(try PortMapping(parsing: "80") == PortMapping(hostPort: 0, containerPort: 80))
        #expect(try PortMapping(parsing: "127.0.0.1::80") == PortMapping(hostIP: "127.0.0.1", hostPort: 0, containerPort: 80))
        #expect(throws: RuntimeError.self) { try PortMapping(parsing: "53:53/udp") }
        #expect(throws: RuntimeError.self) { try PortMapping(parsing: "x:80") }
        #expect(throws: RuntimeError.self) { try PortMapping(parsing: "1:2:3:4") }
        #expect(try VolumeMount(parsing: "./data:/data:ro", relativeTo: "/home/u") == VolumeMount(source: "/home/u/data", destination: "/data", readOnly: true))
        #expect(throws: RuntimeError.self) { try VolumeMount(parsing: "named:/data", relativeTo: "/") }
        #expect(throws: RuntimeError.self) { try VolumeMount(parsing: "/a:relative", relativeTo: "/") }
        #expect(throws: RuntimeError.self) { try VolumeMount(parsing: "/a:/b:rx", relativeTo: "/") }
    }

    @Test func theHandWrittenSpecDecodesToTheSameSpec() throws {
        var config = ImageConfig.Config()
        config.Entrypoint = ["/app", "quote \" and \\ and /"]
        config.Env = ["A=1"]
        config.Labels = ["b": "2", "a": "1"]
        var options = RunOptions()
        options.volumes = [VolumeMount(source: "/host/data", destination: "/data", readOnly: true)]
        options.readOnlyRoot = true
        let spec = try SpecBuilder.build(config: config, options: options, image: "x", rootfs: "/r", hostname: "h",
                                         networkNamespace: "/ns/net", etcFiles: ["/etc/hosts": "/c/hosts"])
        #expect(try JSONDecoder().decode(RuntimeSpec.self, from: spec.json.data) == spec)
        var bare = spec
        bare.hostname = nil
        bare.annotations = nil
        bare.process.user.additionalGids = [5, 6]
        #expect(try JSONDecoder().decode(RuntimeSpec.self, from: bare.json.data) == bare)
    }

    @Test func theHandWrittenStateReadsBackWithEveryField() throws {
        let state = ContainerState(
            id: "abc", name: "web", image: "hello:latest", imageDigest: "sha256:00", command: ["/app", "-v"],
            created: Date(timeIntervalSince1970: 1_795_000_000), status: .exited, pid: 42, monitorPid: 41, exitCode: 137,
            startedAt: Date(timeIntervalSince1970: 1_795_000_001), finishedAt: Date(timeIntervalSince1970: 1_795_000_099),
            ports: [PortMapping(hostIP: "127.0.0.1", hostPort: 8090, containerPort: 80)], network: .isolated,
            runtime: "/usr/sbin/runc", autoRemove: true, labels: ["k": "v", "a": "b"], stopSignal: "SIGQUIT", error: "it \"failed\"")
        // Every stored property is set, so a field added later without a line in `json` fails here.
        for child in Mirror(reflecting: state).children {
            let optional = Mirror(reflecting: child.value)
            if optional.displayStyle == .optional { #expect(optional.children.count == 1, "\(child.label ?? "?") is nil") }
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        #expect(try decoder.decode(ContainerState.self, from: state.json.data) == state)
        // `load` reads it without JSONDecoder; what that reader declines, JSONDecoder reads.
        #expect(ContainerState(reading: state.json.data) == state)
        let written = state.json.text
        #expect(written.contains(#""created":"2026-11-18T11:06:40Z""#))
        let offset = written.replacingOccurrences(of: #""created":"2026-11-18T11:06:40Z""#, with: #""created":"2026-11-18T12:06:40+01:00""#)
        #expect(offset != written && ContainerState(reading: Data(offset.utf8)) == nil)
        #expect(try decoder.decode(ContainerState.self, from: Data(offset.utf8)) == state)
        for bad in ["2026-11-18T11:06:40.5Z", "2026-13-18T11:06:40Z", "2026-11-18 11:06:40Z"] {
            #expect(throws: (any Error).self) { try ContainerState.date(bad) }
        }
    }

    @Test func runReturnsTheStateTheMonitorRecordedWithoutReadingItBack() throws {
        let start = ContainerStart(pid: 4242, monitorPid: 4241, startedAt: Date(timeIntervalSince1970: 1_795_000_000.123456))
        #expect(ContainerStart(word: start.word) == start)
        for failure in ["", "ok\n", "ok 1 2\n", "ok 1 2 3", "runc: ok 1 2 3\n", "ok one 2 3\n"] {
            #expect(ContainerStart(word: failure) == nil, "\(failure)")
        }
        // The runtime's pid file: runc writes none, crun a trailing newline.
        #expect(ContainerMonitor.pid(Data("4242".utf8)) == 4242)
        #expect(ContainerMonitor.pid(Data("4242\n".utf8)) == 4242)
        for bad in ["", "\n", "0", "-1", "42x", "x"] { #expect(ContainerMonitor.pid(Data(bad.utf8)) == nil, "\(bad)") }
        let box = try BusyboxStore()
        let engine = try box.engine()
        var options = RunOptions()
        options.command = ["/bin/sleep", "1000"]
        let state = try engine.run(image: "busybox:test", options: options)
        let recorded = try engine.load(state.id)
        #expect(state.status == .running)
        #expect(recorded.status == .running)
        #expect(state.pid != nil && state.pid == recorded.pid && ChildProcess.isAlive(state.pid!))
        #expect(state.monitorPid != nil && state.monitorPid == recorded.monitorPid)
        // state.json keeps whole seconds
        #expect(state.startedAt.map { Int($0.timeIntervalSince1970) } == recorded.startedAt.map { Int($0.timeIntervalSince1970) })
        try engine.remove(state.id, force: true)
        #expect(box.leftovers().isEmpty, "\(box.leftovers())")
    }

    @Test func childProcessesGetExactlyTheirDescriptorsAndAProgramThatCannotStartIsAnError() throws {
        let out = "/tmp/spawn-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let fd = open(out, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(fd); close(null) }
        // The file becomes descriptor 3 of the child (and 1), whatever its number here; nothing else is inherited.
        let pid = try ChildProcess.spawn("/bin/sh", ["-c", "echo three >&3; ls /proc/self/fd | wc -l; pwd"], fds: [null, fd, null, fd], directory: "/tmp")
        #expect(ChildProcess.wait(pid) == 0)
        // 0-3, plus the one ls opens to list them
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "three\n5\n/tmp\n")
        #expect(throws: SupportError.io(path: "/no/such/program", operation: "start", errno: ENOENT)) {
            _ = try ChildProcess.spawn("/no/such/program", [], fds: [null, null, null])
        }
        #expect(throws: SupportError.io(path: "/bin/true", operation: "start", errno: ENOENT)) {
            _ = try ChildProcess.spawn("/bin/true", [], fds: [null, null, null], directory: "/no/such/directory")
        }
    }

    @Test func usersResolveInsideTheRoot() throws {
        let root = NSTemporaryDirectory() + "users-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Data("app:x:1000:1000::/app:/bin/sh\n".utf8).write(to: URL(fileURLWithPath: root + "/etc/passwd"))
        try Data("app:x:1000:\nextra:x:2000:app\n".utf8).write(to: URL(fileURLWithPath: root + "/etc/group"))
        #expect(try UserResolver.resolve("app", root: root) == RuntimeSpec.User(uid: 1000, gid: 1000, additionalGids: [2000]))
        #expect(try UserResolver.resolve("1000:extra", root: root).gid == 2000)
        #expect(try UserResolver.resolve("42", root: root) == RuntimeSpec.User(uid: 42, gid: 0, additionalGids: nil))
        #expect(try UserResolver.resolve(nil, root: root).uid == 0)
        #expect(throws: RuntimeError.self) { try UserResolver.resolve("ghost", root: root) }
        // A /etc/passwd that is a symlink to the host's is read inside the root, not followed out.
        try FileManager.default.removeItem(atPath: root + "/etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/passwd", withDestinationPath: "/etc/passwd")
        #expect(throws: RuntimeError.self) { try UserResolver.resolve("root", root: root) }
    }
}
