import Foundation
import StackshipTesting
import Testing

/// One container state per host (issue 23, item 4), through the CLI as a user types it: a
/// container started in one folder is seen and managed from any other; `run IMAGE` in a folder
/// that is no stack's finds the image in the per-user store and leaves no `.stackship` there;
/// $STACKSHIP_STATE isolates; a container of the previous layout (under its store) is still
/// seen from its folder and removed by `rm`. Every test runs on a state directory of its own
/// (never the machine's /var/lib/stackship), removed at its end.
@Suite(.serialized) struct HostStateIntegrationTests {
    /// A temporary host state directory, removed (with its per-user store) when released.
    final class State {
        let path: String
        init() {
            let made = FileManager.default.temporaryDirectory.appendingPathComponent("stackship-hoststate-\(UUID().uuidString)").path
            try! FileManager.default.createDirectory(atPath: made, withIntermediateDirectories: true)
            path = realpath(made, nil).map { p in defer { free(p) }; return String(cString: p) } ?? made
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        var env: [String: String] { ["STACKSHIP_STATE": path] }
    }

    /// Busybox (Debian's busybox-static) with the tools these tests use, and a page for httpd,
    /// written into `folder` of `p`.
    static func writeBusybox(_ p: Project, folder: String = "bb", page: String = "served") throws {
        try requireTool("busybox", package: "busybox-static")
        try requireTool("runc", package: "runc")
        let busybox = try #require(["/bin/busybox", "/usr/bin/busybox"].first { FileManager.default.fileExists(atPath: $0) })
        try FileManager.default.createDirectory(atPath: p.path + "/\(folder)/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: busybox, toPath: p.path + "/\(folder)/bin/busybox")
        for tool in ["sh", "cat", "echo", "httpd", "sleep", "ls"] {
            try FileManager.default.createSymbolicLink(atPath: p.path + "/\(folder)/bin/" + tool, withDestinationPath: "busybox")
        }
        try p.write("\(folder)/www/index.html", page)
    }

    /// A stack folder whose store (its own `.stackship/store`) holds `tag`: busybox, cmd `cmd`,
    /// exposing port 80.
    static func stackFolder(tag: String, cmd: [String] = ["sh"], state: State) throws -> Project {
        let p = Project()
        try writeBusybox(p)
        let quoted = cmd.map { "\"\($0)\"" }.joined(separator: ", ")
        try p.write("stack.yaml", """
            images:
              bb:
                tags: [\(tag)]
                layers:
                  - source: ./bb
                    destination: /
                config:
                  cmd: [\(quoted)]
                  exposed_ports: [80]
            """)
        let r = try stackship(["build"], cwd: p.path, env: state.env)
        #expect(r.status == 0, "\(r.out)\n\(r.err)")
        return p
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    // MARK: - one state, every folder

    @Test func aContainerStartedInOneFolderIsSeenAndManagedFromAnother() throws {
        try requireTool("curl", package: "curl")
        let state = State()
        let a = try Self.stackFolder(tag: "web:1", state: state)
        let b = Project() // no stack, no store
        let port = try Loopback.freePort()
        let started = try stackship(["run", "-d", "-p", "\(port):80", "--name", "state-web", "web:1",
                                     "sh", "-c", "echo hello-from-a; exec httpd -f -p 80 -h /www"], cwd: a.path, env: state.env)
        #expect(started.status == 0, "\(started.err)")
        let id = started.out.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? stackship(["rm", "-f", id], cwd: b.path, env: state.env) }
        #expect(id.count == 64)
        // Its record is in the host state, none in the store's old place.
        #expect(Self.exists(state.path + "/containers/\(id)/state.json"))
        #expect(!Self.exists(a.store + "/runtime/containers"))
        var answer = ""
        for _ in 0..<100 {
            let c = try run("curl", ["-fsS", "http://127.0.0.1:\(port)/index.html"])
            if c.status == 0 { answer = c.out; break }
            usleep(100_000)
        }
        #expect(answer == "served")

        // From B: ps, logs, port, inspect, exec.
        let ps = try stackship(["ps"], cwd: b.path, env: state.env)
        #expect(ps.status == 0, "\(ps.err)")
        #expect(ps.out.contains("state-web") && ps.out.contains("0.0.0.0:\(port)->80/tcp") && ps.out.contains("Up "), "\(ps.out)")
        #expect(try stackship(["ps", "-q"], cwd: b.path, env: state.env).out == String(id.prefix(12)) + "\n")
        let logs = try stackship(["logs", "state-web"], cwd: b.path, env: state.env)
        #expect(logs.status == 0 && logs.out.contains("hello-from-a"), "\(logs.out)\n\(logs.err)")
        let portOut = try stackship(["port", "state-web", "80"], cwd: b.path, env: state.env)
        #expect(portOut.status == 0 && portOut.out == "0.0.0.0:\(port)\n", "\(portOut.out)\n\(portOut.err)")
        let inspect = try stackship(["inspect", String(id.prefix(12))], cwd: b.path, env: state.env)
        #expect(inspect.status == 0, "\(inspect.err)")
        let doc = try #require((try JSONSerialization.jsonObject(with: Data(inspect.out.utf8)) as? [[String: Any]])?.first, "\(inspect.out)")
        #expect(doc["Id"] as? String == id && doc["Name"] as? String == "/state-web")
        // The image's config is found in A's store, which the container names, from B too.
        let config = try #require(doc["Config"] as? [String: Any])
        #expect((config["ExposedPorts"] as? [String: Any])?.keys.contains("80/tcp") == true, "\(inspect.out)")
        #expect(((doc["Image"] as? String) ?? "").hasPrefix("sha256:"), "\(inspect.out)")
        let exec = try stackship(["exec", "state-web", "cat", "/www/index.html"], cwd: b.path, env: state.env)
        #expect(exec.status == 0 && exec.out == "served", "\(exec.out)\n\(exec.err)")

        // Names are unique per host state: another folder, another store, the same name.
        let d = try Self.stackFolder(tag: "other:1", state: state)
        let clash = try stackship(["run", "-d", "--name", "state-web", "other:1", "sleep", "30"], cwd: d.path, env: state.env)
        expectCleanFailure(clash, ["state-web"])
        #expect(clash.err.contains("already used by container \(id.prefix(12))"), "\(clash.err)")

        // stop and rm from B.
        let stop = try stackship(["stop", "-t", "2", "state-web"], cwd: b.path, env: state.env)
        #expect(stop.status == 0, "\(stop.err)")
        let all = try stackship(["ps", "-a"], cwd: b.path, env: state.env)
        #expect(all.out.contains("state-web") && all.out.contains("Exited ("), "\(all.out)")
        #expect(try run("curl", ["-fsS", "--max-time", "2", "http://127.0.0.1:\(port)/"]).status != 0)
        let rm = try stackship(["rm", "state-web"], cwd: b.path, env: state.env)
        #expect(rm.status == 0, "\(rm.err)")
        #expect(try stackship(["ps", "-aq"], cwd: a.path, env: state.env).out.isEmpty)
        #expect(!Self.exists(state.path + "/containers/\(id)"))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: state.path + "/oci")) ?? []).isEmpty)
        #expect(try HostMounts.lines(containing: state.path).isEmpty)
        // None of this made a store (or anything) in B.
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: b.path)) ?? ["?"]).isEmpty)
    }

    // MARK: - images: the stack's store, then the per-user store

    @Test func runInAnEmptyFolderFindsTheImageInThePerUserStoreAndLeavesNoStackshipFolder() throws {
        let state = State()
        // A Dockerfile build in a folder that is no stack's writes to the per-user store.
        let e = Project()
        try Self.writeBusybox(e)
        try e.write("Dockerfile", """
            FROM scratch
            COPY bb/ /
            CMD ["echo", "from-the-user-store"]
            """)
        let built = try stackship(["build", "-t", "shared:1", "."], cwd: e.path, env: state.env)
        #expect(built.status == 0, "\(built.out)\n\(built.err)")
        #expect(!Self.exists(e.path + "/.stackship"), "a Dockerfile build outside a stack folder made .stackship")
        let index = try String(contentsOfFile: state.path + "/store/index.json", encoding: .utf8)
        #expect(index.contains("shared:1"), "\(index)")

        // C: an empty folder. The image is found without a registry, and C stays empty.
        let c = Project()
        let r = try stackship(["run", "--rm", "shared:1"], cwd: c.path, env: state.env)
        #expect(r.status == 0, "\(r.out)\n\(r.err)")
        #expect(r.out == "from-the-user-store\n", "\(r.out)")
        #expect(!r.err.contains("pulling") && !r.err.contains("docker.io"), "\(r.err)")
        let images = try stackship(["images"], cwd: c.path, env: state.env)
        #expect(images.out.contains("shared"), "\(images.out)")
        // An image nobody has, never pulled: the error names the store, and C stays empty.
        let missing = try stackship(["run", "--rm", "--pull", "never", "ghost:1"], cwd: c.path, env: state.env)
        expectCleanFailure(missing, ["ghost:1", state.path + "/store"])
        #expect(try stackship(["ps", "-aq"], cwd: c.path, env: state.env).out.isEmpty)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: c.path)) ?? ["?"]).isEmpty, "run left something in C")

        // A stack folder's store comes first: its own shared:1 is the one that runs there.
        let a = try Self.stackFolder(tag: "shared:1", cmd: ["echo", "from-the-stack-store"], state: state)
        let inA = try stackship(["run", "--rm", "shared:1"], cwd: a.path, env: state.env)
        #expect(inA.status == 0 && inA.out == "from-the-stack-store\n", "\(inA.out)\n\(inA.err)")
        // ...and what only the per-user store has is still found from there.
        #expect(try stackship(["tag", "shared:1", "only-user:1"], cwd: c.path, env: state.env).status == 0)
        let fallback = try stackship(["run", "--rm", "only-user:1"], cwd: a.path, env: state.env)
        #expect(fallback.status == 0 && fallback.out == "from-the-user-store\n", "\(fallback.out)\n\(fallback.err)")
    }

    // MARK: - STACKSHIP_STATE isolates

    @Test func stackshipStateIsolatesContainers() throws {
        let one = State(), two = State()
        let a = try Self.stackFolder(tag: "iso:1", state: one)
        let started = try stackship(["run", "-d", "--name", "iso", "iso:1", "sleep", "60"], cwd: a.path, env: one.env)
        #expect(started.status == 0, "\(started.err)")
        let id = started.out.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? stackship(["rm", "-f", id], cwd: a.path, env: one.env) }
        #expect(Self.exists(one.path + "/containers/\(id)"))
        // Another state sees nothing and can act on nothing, even from the same folder.
        #expect(try stackship(["ps", "-aq"], cwd: a.path, env: two.env).out.isEmpty)
        expectCleanFailure(try stackship(["rm", "-f", "iso"], cwd: a.path, env: two.env), ["no container 'iso'"])
        // ...and may use the name itself.
        let again = try stackship(["run", "-d", "--name", "iso", "iso:1", "sleep", "60"], cwd: a.path, env: two.env)
        #expect(again.status == 0, "\(again.err)")
        #expect(try stackship(["rm", "-f", "iso"], cwd: a.path, env: two.env).status == 0)
        // The first is untouched.
        #expect(try stackship(["ps", "-q"], cwd: a.path, env: one.env).out == String(id.prefix(12)) + "\n")
        #expect(try stackship(["rm", "-f", "iso"], cwd: a.path, env: one.env).status == 0)
        #expect(!Self.exists(one.path + "/containers/\(id)"))
        #expect(try HostMounts.lines(containing: one.path).isEmpty && HostMounts.lines(containing: two.path).isEmpty)
    }

    // MARK: - migration from the layout with state under the store

    @Test func aContainerOfThePreviousLayoutIsSeenFromItsFolderAndRemovedByRm() throws {
        let state = State()
        let a = try Self.stackFolder(tag: "old:1", state: state)
        // The previous layout put a store's containers in <store>/runtime (containers/, oci/):
        // a state directory there makes exactly such a container.
        let old = a.store + "/runtime"
        let started = try stackship(["run", "-d", "--name", "before-the-move", "old:1", "sh", "-c", "echo old-layout; exec sleep 60"],
                                    cwd: a.path, env: ["STACKSHIP_STATE": old])
        #expect(started.status == 0, "\(started.err)")
        let id = started.out.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? stackship(["rm", "-f", id], cwd: a.path, env: ["STACKSHIP_STATE": old]) }
        #expect(Self.exists(old + "/containers/\(id)/state.json"))

        // With the host state, from the store's folder: listed, its log read, stopped.
        let ps = try stackship(["ps"], cwd: a.path, env: state.env)
        #expect(ps.out.contains("before-the-move") && ps.out.contains("Up "), "\(ps.out)\n\(ps.err)")
        let logs = try stackship(["logs", "before-the-move"], cwd: a.path, env: state.env)
        #expect(logs.out.contains("old-layout"), "\(logs.out)\n\(logs.err)")
        #expect(try stackship(["stop", "-t", "1", "before-the-move"], cwd: a.path, env: state.env).status == 0)
        // gc points at it rather than deleting it.
        let gc = try stackship(["gc"], cwd: a.path, env: state.env)
        #expect(gc.status == 0 && gc.err.contains("previous layout") && gc.err.contains("before-the-move"), "\(gc.err)")
        #expect(Self.exists(old + "/containers/\(id)"))
        // Its name is still taken in its store's folder (it is listed there).
        expectCleanFailure(try stackship(["run", "-d", "--name", "before-the-move", "old:1", "sleep", "1"], cwd: a.path, env: state.env),
                           ["before-the-move"])
        // Another folder does not see it: it belongs to its store.
        let elsewhere = Project()
        #expect(try stackship(["ps", "-aq"], cwd: elsewhere.path, env: state.env).out.isEmpty)
        // rm removes it, its runtime state and its mounts.
        let rm = try stackship(["rm", "before-the-move"], cwd: a.path, env: state.env)
        #expect(rm.status == 0, "\(rm.err)")
        #expect(!Self.exists(old + "/containers/\(id)"))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: old + "/oci")) ?? []).isEmpty)
        #expect(try stackship(["ps", "-aq"], cwd: a.path, env: state.env).out.isEmpty)
        #expect(try HostMounts.lines(containing: a.path).isEmpty)
        let quiet = try stackship(["gc"], cwd: a.path, env: state.env)
        #expect(quiet.status == 0 && !quiet.err.contains("previous layout"), "\(quiet.err)")
    }
}
