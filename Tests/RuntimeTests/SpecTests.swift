#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
@testable import Runtime
import StackshipTesting
import Testing
import Support

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
            runtime: "/usr/sbin/runc", autoRemove: true, labels: ["k": "v", "a": "b"], stopSignal: "SIGQUIT", error: "it \"failed\"",
            entrypoint: ["/app"], user: "app:app", interactive: true, tty: true, consoleSocket: "/tmp/stackship-tty-x/console.sock",
            imageStore: "/srv/project/.stackship/store")
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

extension SpecTests {
    /// The tests of this suite that start a real component or need root:
    /// `swift test --skip Integration` (the unit tier) leaves them out.
    @Suite struct Integration {
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
    }
}
