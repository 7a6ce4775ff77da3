#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
@testable import Runtime
import StackshipTesting
import Testing
import Support

@Suite(.serialized) struct ContainerIntegrationTests {
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
            let hostInterfaces = String(decoding: try FileIO.readFile("/proc/net/dev"), as: UTF8.self).components(separatedBy: ":").count - 1
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
