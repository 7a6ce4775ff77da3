import Foundation
import StackshipTesting
import Testing

/// Docker's habits (issue 23, item 5) as a user types them: `run -i`, `-t`, `-it` (under
/// script(1), a real terminal), `port`, `inspect` of a container, and `images`/`ps --format`,
/// on a busybox image (Debian's busybox-static) built by the CLI.
@Suite(.serialized) struct DockerHabitsIntegrationTests {
    /// A project whose store holds `bb:latest`: busybox with sh, cat and httpd, cmd `sh`,
    /// exposing port 80.
    static func busyboxProject() throws -> Project {
        try requireTool("busybox", package: "busybox-static")
        try requireTool("runc", package: "runc")
        let busybox = try #require(["/bin/busybox", "/usr/bin/busybox"].first { FileManager.default.fileExists(atPath: $0) })
        let p = Project()
        try FileManager.default.createDirectory(atPath: p.path + "/bb/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: busybox, toPath: p.path + "/bb/bin/busybox")
        for tool in ["sh", "cat", "echo", "httpd", "sleep", "tty", "stty"] {
            try FileManager.default.createSymbolicLink(atPath: p.path + "/bb/bin/" + tool, withDestinationPath: "busybox")
        }
        try p.write("stack.yaml", """
            images:
              bb:
                layers:
                  - source: ./bb
                    destination: /
                config:
                  cmd: [sh]
                  exposed_ports: [80]
            """)
        let r = try stackship(["build"], cwd: p.path)
        #expect(r.status == 0, "\(r.out)\n\(r.err)")
        return p
    }

    /// `stackship ARGUMENTS` run by sh with `input` on its stdin (a pipe).
    static func piped(_ input: String, _ arguments: String, cwd: String) throws -> Result {
        let binary = try stackshipBinary()
        return try run("sh", ["-c", "printf '\(input)' | '\(binary)' \(arguments)"], cwd: cwd)
    }

    // MARK: - run -i / -t / -it

    @Test func runInteractivePipesStdinToTheContainer() throws {
        let p = try Self.busyboxProject()
        let cat = try Self.piped("hi\\n", "run -i --rm bb cat", cwd: p.path)
        #expect(cat.status == 0, "\(cat.out)\n\(cat.err)")
        #expect(cat.out == "hi\n", "\(cat.out)")
        // The exit code of a shell reading its commands from the pipe is run's.
        let sh = try Self.piped("echo from-sh\\nexit 5\\n", "run -i --rm bb sh", cwd: p.path)
        #expect(sh.status == 5 && sh.out == "from-sh\n", "\(sh.status) \(sh.out)\n\(sh.err)")
        // Without -i the container's stdin stays closed: cat ends at once with nothing.
        let closed = try Self.piped("hi\\n", "run --rm bb cat", cwd: p.path)
        #expect(closed.status == 0 && closed.out.isEmpty, "\(closed.out)\n\(closed.err)")
        #expect(try stackship(["ps", "-aq"], cwd: p.path).out.isEmpty, "--rm left a container")
    }

    @Test func runInteractiveTerminalUnderScriptTakesCommandsAndReturnsTheExitCode() throws {
        try requireTool("script", package: "util-linux")
        let p = try Self.busyboxProject()
        let binary = try stackshipBinary()
        // script(1) gives `run -it` a real terminal as its stdin and stdout; the commands are
        // typed into it, the second after the shell has had time to start.
        let r = try run("sh", ["-c", "(printf 'echo hi\\n'; sleep 1; printf 'tty; exit 3\\n'; sleep 2) | script -qec \"'\(binary)' run -it --rm bb sh\" /dev/null"],
                        cwd: p.path)
        #expect(r.status == 3, "exit \(r.status)\n\(r.out)\n\(r.err)")
        let lines = r.out.replacingOccurrences(of: "\r", with: "").split(separator: "\n").map(String.init)
        #expect(lines.contains("hi"), "\(r.out)")
        // The shell's stdin is a terminal inside the container (its own /dev/pts).
        #expect(lines.contains { $0.hasPrefix("/dev/pts/") }, "\(r.out)")
        #expect(try stackship(["ps", "-aq"], cwd: p.path).out.isEmpty, "--rm left a container")
    }

    @Test func runTerminalWithoutInputAndTheRefusedForms() throws {
        try requireTool("script", package: "util-linux")
        let p = try Self.busyboxProject()
        let binary = try stackshipBinary()
        // -t alone: a terminal for the output, the window size of script's terminal, no input.
        let r = try run("sh", ["-c", "script -qec \"stty cols 91 rows 17; '\(binary)' run -t --rm bb sh -c 'tty; stty size; exit 4'\" /dev/null </dev/null"],
                        cwd: p.path)
        #expect(r.status == 4, "exit \(r.status)\n\(r.out)\n\(r.err)")
        #expect(r.out.contains("/dev/pts/"), "\(r.out)")
        #expect(r.out.contains("17 91"), "the container's terminal has script's window size: \(r.out)")
        // Without --rm, what it wrote on its terminal is in its log.
        let kept = try run("sh", ["-c", "script -qec \"'\(binary)' run -t --name habits-tty bb sh -c 'echo on-the-terminal'\" /dev/null </dev/null"], cwd: p.path)
        #expect(kept.status == 0, "\(kept.out)\n\(kept.err)")
        let logs = try stackship(["logs", "habits-tty"], cwd: p.path)
        #expect(logs.out.contains("on-the-terminal"), "\(logs.out)\n\(logs.err)")
        #expect(try stackship(["rm", "habits-tty"], cwd: p.path).status == 0)
        // -it needs a terminal to join; -d leaves nothing attached.
        let notATTY = try Self.piped("x\\n", "run -it --rm bb sh", cwd: p.path)
        expectCleanFailure(notATTY, ["the input device is not a TTY", "drop -t"])
        let detached = try stackship(["run", "-dit", "bb", "sh"], cwd: p.path)
        expectCleanFailure(detached, ["-d cannot be combined with -i and -t"])
        #expect(try stackship(["ps", "-aq"], cwd: p.path).out.isEmpty)
    }

    // MARK: - port, inspect, --format

    @Test func portInspectAndFormatOfARunningContainer() throws {
        let p = try Self.busyboxProject()
        let port = try Loopback.freePort()
        let r = try stackship(["run", "-d", "-p", "\(port):80", "--name", "habits-web", "-e", "GREETING=hi", "-w", "/bin",
                               "-v", p.path + "/bb:/data:ro", "bb", "httpd", "-f", "-p", "80"], cwd: p.path)
        #expect(r.status == 0, "\(r.err)")
        let id = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? stackship(["rm", "-f", id], cwd: p.path) }

        // port, as docker prints it.
        let all = try stackship(["port", "habits-web"], cwd: p.path)
        #expect(all.status == 0 && all.out == "80/tcp -> 0.0.0.0:\(port)\n", "\(all.out)\n\(all.err)")
        #expect(try stackship(["port", String(id.prefix(8)), "80/tcp"], cwd: p.path).out == "0.0.0.0:\(port)\n")
        #expect(try stackship(["port", "habits-web", "80"], cwd: p.path).out == "0.0.0.0:\(port)\n")
        expectCleanFailure(try stackship(["port", "habits-web", "81"], cwd: p.path), ["no public port '81/tcp' published for habits-web", "80/tcp"])
        expectCleanFailure(try stackship(["port", "habits-web", "80/udp"], cwd: p.path), ["only TCP ports are published"])
        expectCleanFailure(try stackship(["port", "no-such-container"], cwd: p.path), ["no-such-container"])

        // inspect by name, ID and ID prefix: docker's field names.
        for reference in ["habits-web", id, String(id.prefix(12))] {
            let inspect = try stackship(["inspect", reference], cwd: p.path)
            #expect(inspect.status == 0, "\(inspect.err)")
            let array = try #require(try JSONSerialization.jsonObject(with: Data(inspect.out.utf8)) as? [[String: Any]], "\(inspect.out)")
            let doc = try #require(array.first)
            #expect(doc["Id"] as? String == id && doc["Name"] as? String == "/habits-web")
            let state = try #require(doc["State"] as? [String: Any])
            #expect(state["Status"] as? String == "running" && state["Running"] as? Bool == true && (state["Pid"] as? Int ?? 0) > 0)
            #expect(state["ExitCode"] as? Int == 0 && (state["StartedAt"] as? String)?.hasSuffix("Z") == true)
            #expect(state["FinishedAt"] as? String == "0001-01-01T00:00:00Z")
            let config = try #require(doc["Config"] as? [String: Any])
            #expect(config["Image"] as? String == "bb" && config["Cmd"] as? [String] == ["httpd", "-f", "-p", "80"])
            #expect(config["Entrypoint"] is NSNull && config["WorkingDir"] as? String == "/bin" && config["User"] as? String == "")
            #expect((config["Env"] as? [String])?.contains("GREETING=hi") == true)
            #expect((config["ExposedPorts"] as? [String: Any])?.keys.sorted() == ["80/tcp"])
            let ports = try #require((doc["NetworkSettings"] as? [String: Any])?["Ports"] as? [String: Any])
            #expect((ports["80/tcp"] as? [[String: String]]) == [["HostIp": "0.0.0.0", "HostPort": "\(port)"]], "\(ports)")
            let mounts = try #require(doc["Mounts"] as? [[String: Any]])
            #expect(mounts.count == 1 && mounts.first?["Source"] as? String == p.path + "/bb" && mounts.first?["Destination"] as? String == "/data"
                    && mounts.first?["RW"] as? Bool == false, "\(mounts)")
        }
        // An image is inspected as before, and --type container says when it is not a container.
        let image = try stackship(["inspect", "bb"], cwd: p.path)
        #expect(image.status == 0 && image.out.hasPrefix("Name:         bb:latest"), "\(image.out)")
        expectCleanFailure(try stackship(["inspect", "--type", "container", "bb"], cwd: p.path), ["no container 'bb'"])

        // ps --format.
        let names = try stackship(["ps", "--format", "{{.Names}} {{.Ports}} {{.ID}}"], cwd: p.path)
        #expect(names.out == "habits-web 0.0.0.0:\(port)->80/tcp \(id.prefix(12))\n", "\(names.out)\n\(names.err)")
        let status = try stackship(["ps", "--format", "{{.Status}}"], cwd: p.path)
        #expect(status.out.hasPrefix("Up "), "\(status.out)")
        let table = try stackship(["ps", "--format", "table {{.ID}}\\t{{.Names}}"], cwd: p.path)
        #expect(table.out == "CONTAINER ID   NAMES\n\(id.prefix(12))   habits-web\n", "\(table.out)")
        let json = try stackship(["ps", "--format", "{{json .}}"], cwd: p.path)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: String], "\(json.out)")
        #expect(object["Names"] == "habits-web" && object["ID"] == String(id.prefix(12)) && object["State"] == "running")

        // After it stops, inspect says so.
        #expect(try stackship(["stop", "-t", "1", "habits-web"], cwd: p.path).status == 0)
        let stopped = try stackship(["inspect", "habits-web"], cwd: p.path)
        let state = try #require(((try JSONSerialization.jsonObject(with: Data(stopped.out.utf8)) as? [[String: Any]])?.first?["State"]) as? [String: Any])
        #expect(state["Status"] as? String == "exited" && state["Running"] as? Bool == false && state["Pid"] as? Int == 0)
        #expect((state["FinishedAt"] as? String) != "0001-01-01T00:00:00Z")
    }

    @Test func imagesFormatAsDockerTakesItOrAClearRefusal() throws {
        let p = try Self.busyboxProject()
        let ids = try stackship(["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"], cwd: p.path)
        #expect(ids.status == 0, "\(ids.err)")
        let line = ids.out.trimmingCharacters(in: .newlines)
        #expect(line.hasPrefix("bb:latest ") && line.split(separator: " ").last?.count == 12, "\(ids.out)")
        let table = try stackship(["images", "--format", "table {{.Repository}}\\t{{.Tag}}"], cwd: p.path)
        #expect(table.out == "REPOSITORY   TAG\nbb           latest\n", "\(table.out)")
        let json = try stackship(["images", "--format", "{{json .}}"], cwd: p.path)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: String], "\(json.out)")
        #expect(object["Repository"] == "bb" && object["Tag"] == "latest" && object["Digest"]?.hasPrefix("sha256:") == true)
        // The JSON field alone, and `json` for a line per image.
        #expect(try stackship(["images", "--format", "{{json .Tag}}"], cwd: p.path).out == "\"latest\"\n")
        #expect(try stackship(["images", "--format", "json"], cwd: p.path).out == json.out)
        // What Go templates do beyond fields is refused, naming --json.
        for template in ["{{.Repository | lower}}", "{{range .}}x{{end}}", "{{.Nope}}", "{{.Repository"] {
            let r = try stackship(["images", "--format", template], cwd: p.path)
            #expect(r.status != 0 && r.err.contains("--json") && r.err.contains("{{.Field}}"), "\(template): \(r.err)")
        }
        let ps = try stackship(["ps", "--format", "{{.Names | upper}}"], cwd: p.path)
        #expect(ps.status != 0 && ps.err.contains("--json") && ps.err.contains(".Names"), "\(ps.err)")
    }
}
