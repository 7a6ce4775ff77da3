import Foundation
import Support
import StackshipTesting
import Testing

/// `stackship run` and friends, through the CLI, with the hello service from Examples/hello.
@Suite(.serialized) struct RunIntegrationTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/Examples/hello"

    /// A project whose store holds the hello image, built from the example's stack file.
    func helloProject() throws -> Project {
        guard FileManager.default.isExecutableFile(atPath: Self.example + "/.build/release/hello") else {
            throw ToolMissing(tool: "the hello binary", hint: "run scripts/build-example (scripts/test does)")
        }
        try requireTool("runc", package: "runc")
        try requireTool("curl", package: "curl")
        let p = Project()
        let r = try stackship(["build", Self.example + "/stack.yaml", "--store", p.store], cwd: p.path)
        #expect(r.status == 0, "\(r.err)")
        return p
    }

    /// Everything a container could leave on the host: mounts under the project or its state,
    /// processes naming its store or state (the monitor) or the container ID, directories, runc state. (Not
    /// processes by image name: other suites run hello containers at the same time.)
    func traces(_ p: Project, id: String? = nil) throws -> [String] {
        var found: [String] = []
        found += try HostMounts.lines(containing: p.path).map { "mount \($0)" }
        let ps = try run("ps", ["-eo", "pid,args"])
        found += ps.out.split(separator: "\n").filter { line in
            line.contains(p.store) || line.contains(p.state) || (id.map { line.contains($0) } ?? false)
        }.map { "process \($0)" }
        let containers = p.state + "/containers"
        found += ((try? FileManager.default.contentsOfDirectory(atPath: containers)) ?? []).filter { !$0.hasPrefix(".") }.map { "directory \($0)" }
        found += ((try? FileManager.default.contentsOfDirectory(atPath: p.state + "/oci")) ?? []).map { "runc state \($0)" }
        return found
    }

    func vethCount() throws -> Int {
        try run("ip", ["-o", "link", "show", "type", "veth"]).out.split(separator: "\n").count
    }

    @Test func runDetachedPublishGetStopRemoveLeavesNothing() throws {
        let p = try helloProject()
        let port = try Loopback.freePort()
        let veths = try vethCount()
        let r = try stackship(["run", "-d", "-p", "\(port):80", "--name", "hello-e2e", "hello"], cwd: p.path, env: ["STACKSHIP_STORE": p.store])
        #expect(r.status == 0, "\(r.err)")
        let id = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 64)
        var answer = ""
        for _ in 0..<100 {
            let c = try run("curl", ["-fsS", "http://127.0.0.1:\(port)/ping"])
            if c.status == 0 { answer = c.out; break }
            usleep(100_000)
        }
        #expect(answer == "pong")
        #expect(try run("curl", ["-fsS", "http://127.0.0.1:\(port)/"]).out == "Hello, world.")
        let ps = try stackship(["ps"], cwd: p.path, env: ["STACKSHIP_STORE": p.store])
        #expect(ps.out.contains("hello-e2e"))
        #expect(ps.out.contains("0.0.0.0:\(port)->80/tcp"))
        #expect(ps.out.contains("Up "))
        // The CLI forks its monitor (no second start of the executable), titled for ps.
        let stateData = try Data(contentsOf: URL(fileURLWithPath: p.state + "/containers/\(id)/state.json"))
        let monitor = try #require(try JSONSerialization.jsonObject(with: stateData) as? [String: Any])["monitorPid"] as? Int
        let cmdline = try String(contentsOfFile: "/proc/\(monitor ?? -1)/cmdline", encoding: .utf8)
        #expect(cmdline.hasPrefix("stackship-monitor \(id.prefix(20))"), "\(cmdline)")
        #expect(try traces(p, id: id).contains { $0.hasPrefix("mount") }) // the root and netns, while it runs
        let exec = try stackship(["exec", "hello-e2e", "/usr/local/bin/hello", "unused"], cwd: p.path, env: ["STACKSHIP_STORE": p.store, "X": "1"])
        #expect(exec.status != 0) // port 80 is taken by the running server: the second one fails to bind
        let logs = try stackship(["logs", "hello-e2e"], cwd: p.path, env: ["STACKSHIP_STORE": p.store])
        #expect(logs.out.contains("listening on 0.0.0.0:80"))
        let stop = try stackship(["stop", "hello-e2e"], cwd: p.path, env: ["STACKSHIP_STORE": p.store])
        #expect(stop.status == 0, "\(stop.err)")
        let all = try stackship(["ps", "-a"], cwd: p.path, env: ["STACKSHIP_STORE": p.store])
        #expect(all.out.contains("Exited ("))
        #expect(try run("curl", ["-fsS", "--max-time", "2", "http://127.0.0.1:\(port)/ping"]).status != 0)
        let rm = try stackship(["rm", "hello-e2e"], cwd: p.path, env: ["STACKSHIP_STORE": p.store])
        #expect(rm.status == 0, "\(rm.err)")
        let left = try traces(p, id: id)
        #expect(left.isEmpty, "\(left)")
        #expect(try vethCount() == veths)
    }

    @Test func foregroundRunShowsOutputAndExitsWithTheContainersCode() throws {
        let p = try helloProject()
        try p.write("env.list", "# settings\nHTTP_PORT=not-a-port\n")
        let r = try stackship(["run", "--rm", "--env-file", "env.list", "hello"], cwd: p.path, env: ["STACKSHIP_STORE": p.store])
        #expect(r.status == 2)
        #expect(r.out.contains("HTTP_PORT must be a port number from 1 to 65535, not \"not-a-port\""), "\(r.out) \(r.err)")
        let left = try traces(p)
        #expect(left.isEmpty, "\(left)")
    }

    /// crun as well as runc, here a host with hybrid cgroups that crun refuses on its own (it is
    /// started without the v2 hierarchy, as the build steps start it).
    @Test func crunRunsTheImageInTheForegroundAndDetached() throws {
        try requireTool("crun", package: "crun")
        let p = try helloProject()
        try p.write("env.list", "HTTP_PORT=not-a-port\n")
        let env = ["STACKSHIP_STORE": p.store]
        let foreground = try stackship(["run", "--rm", "--runtime", "crun", "--env-file", "env.list", "hello"], cwd: p.path, env: env)
        #expect(foreground.status == 2, "\(foreground.err)")
        #expect(foreground.out.contains("HTTP_PORT must be a port number"), "\(foreground.out) \(foreground.err)")
        let port = try Loopback.freePort()
        let started = try stackship(["run", "-d", "--runtime", "crun", "-p", "\(port):80", "hello"], cwd: p.path, env: env)
        #expect(started.status == 0, "\(started.err)")
        let id = started.out.trimmingCharacters(in: .whitespacesAndNewlines)
        var answer = ""
        for _ in 0..<100 {
            let c = try run("curl", ["-fsS", "http://127.0.0.1:\(port)/ping"])
            if c.status == 0 { answer = c.out; break }
            usleep(100_000)
        }
        #expect(answer.contains("pong"), "\(answer)")
        #expect(try stackship(["rm", "-f", id], cwd: p.path, env: env).status == 0)
        let left = try traces(p)
        #expect(left.isEmpty, "\(left)")
    }

    @Test func errorsNameTheProblemAndTheFix() throws {
        let p = try helloProject()
        let env = ["STACKSHIP_STORE": p.store]
        // No runtime on PATH, or one asked for that is not there.
        let noRuntime = try stackship(["run", "-d", "hello"], cwd: p.path, env: env.merging(["PATH": "/nonexistent"]) { _, b in b })
        #expect(noRuntime.status == 1)
        #expect(noRuntime.err.contains("no OCI runtime found"))
        #expect(noRuntime.err.contains("apt-get install runc"))
        // ...said before any pull of an image the store lacks, with either pull policy that pulls.
        for policy in ["missing", "always"] {
            let noPull = try stackship(["run", "-d", "--pull", policy, "127.0.0.1:1/absent/image:1"], cwd: p.path, env: env.merging(["PATH": "/nonexistent"]) { _, b in b })
            #expect(noPull.status == 1)
            #expect(noPull.err.contains("no OCI runtime found"), "\(noPull.err)")
            #expect(!noPull.err.contains("pulling"), "\(noPull.err)")
        }
        let wrongRuntime = try stackship(["run", "-d", "--runtime", "/opt/none/runc", "hello"], cwd: p.path, env: env)
        #expect(wrongRuntime.err.contains("OCI runtime '/opt/none/runc' not found"))
        // An image with nothing to run.
        try p.write("bare/file", "x")
        try p.write("stack.yaml", "images:\n  bare:\n    tags: [bare:1]\n    layers:\n      - source: ./bare\n        destination: /data\n")
        #expect(try stackship(["build"], cwd: p.path, env: env).status == 0)
        let bare = try stackship(["run", "bare:1"], cwd: p.path, env: env)
        #expect(bare.status == 1)
        #expect(bare.err.contains("image bare:1 has no entrypoint or cmd"))
        #expect(bare.err.contains("give a command after the image"))
        // A host port already taken.
        let port = try Loopback.freePort()
        let first = try stackship(["run", "-d", "-p", "\(port):80", "--name", "first", "hello"], cwd: p.path, env: env)
        #expect(first.status == 0, "\(first.err)")
        let second = try stackship(["run", "-d", "-p", "\(port):80", "hello"], cwd: p.path, env: env)
        #expect(second.status == 1)
        #expect(second.err.contains("host port \(port) on 0.0.0.0 is already in use"))
        #expect(!second.err.contains("Fatal error"))
        #expect(try stackship(["rm", "-f", "first"], cwd: p.path, env: env).status == 0)
        // An unknown image: not in the store, and nothing to pull it from.
        let unknown = try stackship(["run", "--pull", "never", "nosuch:1"], cwd: p.path, env: env)
        #expect(unknown.status == 1)
        #expect(unknown.err.contains("nosuch:1"))
        let closedPort = try Loopback.freePort()
        let unreachable = try stackship(["run", "127.0.0.1:\(closedPort)/team/nosuch:1"], cwd: p.path, env: env)
        #expect(unreachable.status == 1)
        #expect(unreachable.err.contains("is not in the store"))
        #expect(unreachable.err.contains("pulling it failed"))
        // Bad flags.
        let badPort = try stackship(["run", "-p", "80:http", "hello"], cwd: p.path, env: env)
        #expect(badPort.err.contains("'http' is not a port number"))
        let badNetwork = try stackship(["run", "--network", "bridge", "hello"], cwd: p.path, env: env)
        #expect(badNetwork.err.contains("--network must be isolated, host or none"))
        let unknownContainer = try stackship(["logs", "ghost"], cwd: p.path, env: env)
        #expect(unknownContainer.err.contains("no container 'ghost'"))
        let left = try traces(p)
        #expect(left.isEmpty, "\(left)")
    }

    @Test func ctrlCInTheForegroundStopsTheContainer() throws {
        let p = try helloProject()
        let port = try Loopback.freePort()
        let log = p.path + "/fg.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let fg = Process()
        fg.executableURL = URL(fileURLWithPath: try stackshipBinary())
        fg.arguments = ["run", "--rm", "-p", "\(port):80", "--name", "fg", "--store", p.store, "hello"]
        fg.environment = testEnvironment(cwd: p.path)
        fg.standardOutput = FileHandle(forWritingAtPath: log)
        fg.standardError = FileHandle(forWritingAtPath: log)
        try fg.run()
        var up = false
        for _ in 0..<100 where !up {
            up = try run("curl", ["-fsS", "http://127.0.0.1:\(port)/ping"]).status == 0
            if !up { usleep(100_000) }
        }
        #expect(up)
        kill(fg.processIdentifier, SIGINT)
        fg.waitUntilExit()
        // Hummingbird shuts down gracefully on SIGINT and exits 0; --rm then removes it.
        #expect(fg.terminationStatus == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        let left = try traces(p)
        #expect(left.isEmpty, "\(left)")
    }
}
