import Foundation
import StackshipTesting
import Testing

/// The registry commands as a user types them, against the fixtures' registries.
@Suite(.serialized) final class RegistryCLIIntegrationTests {
    struct Run {
        var status: Int32
        var out: String
        var err: String
    }

    /// The built `stackship`, found as StackshipTesting finds it.
    static func binary() throws -> String {
        try StackshipTesting.stackshipExecutable()
    }

    let home: String

    init() throws {
        home = try Scratch.make("cli")
    }

    deinit { Scratch.remove(home) } // each test has its own instance, so its own home

    /// Runs stackship with a private DOCKER_CONFIG and store; `stdin` is fed from a file.
    @discardableResult
    func stackship(_ args: [String], stdin: String? = nil) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try Self.binary())
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["DOCKER_CONFIG"] = home + "/docker"
        env["STACKSHIP_STORE"] = home + "/store"
        env["STACKSHIP_STATE"] = home + "/state" // never the machine's /var/lib/stackship
        env["CI"] = "true"
        for k in ["REGISTRY_AUTH_FILE", "STACKSHIP_REGISTRY_USERNAME", "STACKSHIP_REGISTRY_PASSWORD"] { env.removeValue(forKey: k) }
        p.environment = env
        let out = home + "/out-\(UUID().uuidString)", err = home + "/err-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: out)
        p.standardError = FileHandle(forWritingAtPath: err)
        if let stdin {
            let input = home + "/in-\(UUID().uuidString)"
            try Data(stdin.utf8).write(to: URL(fileURLWithPath: input))
            p.standardInput = FileHandle(forReadingAtPath: input)
        }
        try p.run()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, out: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                   err: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    /// Builds a small image into the private store with the `layer` and a stack file.
    func buildImage(_ name: String) throws {
        let project = home + "/project"
        try FileManager.default.createDirectory(atPath: project + "/app", withIntermediateDirectories: true)
        try Data("hello from \(name)\n".utf8).write(to: URL(fileURLWithPath: project + "/app/greeting.txt"))
        try Data("images:\n  app:\n    tags: [\(name)]\n    layers:\n      - {source: ./app, destination: /app}\n".utf8)
            .write(to: URL(fileURLWithPath: project + "/stack.yaml"))
        let r = try stackship(["build", project + "/stack.yaml"])
        #expect(r.status == 0, "\(r.err)")
    }

    @Test func loginPushTagsPullLogout() async throws {
        try await withRegistry(.basic) { registry in
            try buildImage("app:1")
            // A wrong password is refused and nothing is saved.
            let bad = try stackship(["login", registry.host, "-u", registry.username ?? "", "--password-stdin"], stdin: "nope\n")
            #expect(bad.status == 1 && bad.err.contains("authentication required or refused"), "\(bad.err)")
            #expect(!FileManager.default.fileExists(atPath: home + "/docker/config.json"))

            let login = try stackship(["login", registry.host, "-u", registry.username ?? "", "--password-stdin"], stdin: (registry.password ?? "") + "\n")
            #expect(login.status == 0, "\(login.err)")
            #expect(login.out.contains("Login Succeeded"))
            let config = home + "/docker/config.json"
            let mode = (try FileManager.default.attributesOfItem(atPath: config)[.posixPermissions] as? Int) ?? 0
            #expect(mode == 0o600)
            #expect(!(try String(contentsOfFile: config, encoding: .utf8)).contains(registry.password ?? "-"), "stored base64, not in clear")

            let push = try stackship(["push", "app:1", "\(registry.host)/team/app:1"])
            #expect(push.status == 0, "\(push.err)")
            #expect(push.out.contains("\(registry.host)/team/app:1@sha256:"))
            #expect(push.err.contains("pushed"))
            let again = try stackship(["push", "app:1", "\(registry.host)/team/app:1"])
            #expect(again.status == 0 && again.err.contains("already there") && !again.err.contains("pushed ("), "\(again.err)")
            #expect(try stackship(["tags", "\(registry.host)/team/app"]).out == "1\n")

            let pull = try stackship(["pull", "\(registry.host)/team/app:1", "--store", home + "/other"])
            #expect(pull.status == 0, "\(pull.err)")
            #expect(try stackship(["images", "--store", home + "/other"]).out.contains("\(registry.host)/team/app"))

            #expect(try stackship(["logout", registry.host]).out.contains("Removed login credentials"))
            let denied = try stackship(["tags", "\(registry.host)/team/app"])
            #expect(denied.status == 1 && denied.err.contains("stackship login \(registry.host)"), "\(denied.err)")
            // --creds works without a login.
            #expect(try stackship(["tags", "\(registry.host)/team/app", "--creds", "\(registry.username ?? ""):\(registry.password ?? "")"]).status == 0)
        }
    }

    @Test func runPullsAMissingImageThenRunsIt() async throws {
        try await withRegistry(.plain) { registry in
            // A runnable image: the static busybox as /bin/sh and /bin/echo.
            let project = home + "/bb"
            try FileManager.default.createDirectory(atPath: project + "/root/bin", withIntermediateDirectories: true)
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/busybox") else {
                throw FixtureError("busybox is not installed: run scripts/setup, or apt-get install busybox-static")
            }
            try FileManager.default.copyItem(atPath: "/usr/bin/busybox", toPath: project + "/root/bin/busybox")
            for applet in ["sh", "echo"] {
                try FileManager.default.createSymbolicLink(atPath: project + "/root/bin/" + applet, withDestinationPath: "busybox")
            }
            try Data("images:\n  bb:\n    tags: [bb:1]\n    layers:\n      - {source: ./root, destination: /}\n    config:\n      cmd: [/bin/echo, ran from the registry]\n".utf8)
                .write(to: URL(fileURLWithPath: project + "/stack.yaml"))
            #expect(try stackship(["build", project + "/stack.yaml"]).status == 0)
            #expect(try stackship(["push", "bb:1", "\(registry.host)/team/bb:1"]).status == 0)
            // A store without the image: run pulls it, then runs it.
            let run = try stackship(["run", "--rm", "--store", home + "/empty", "\(registry.host)/team/bb:1"])
            #expect(run.status == 0, "\(run.err)")
            #expect(run.err.contains("Unable to find image '\(registry.host)/team/bb:1' locally"))
            #expect(run.out == "ran from the registry\n")
            // Now it is there: no second pull.
            let again = try stackship(["run", "--rm", "--store", home + "/empty", "\(registry.host)/team/bb:1", "/bin/echo", "again"])
            #expect(again.out == "again\n")
            #expect(!again.err.contains("Unable to find image"))
            #expect(try stackship(["ps", "-a", "-q", "--store", home + "/empty"]).out.isEmpty)
        }
    }

    @Test func copyBetweenRegistriesStoreAndArchives() async throws {
        try await withRegistry(.plain) { registry in
            try buildImage("app:2")
            let r = registry.host
            #expect(try stackship(["copy", "store:app:2", "docker://\(r)/a/app:2"]).status == 0)
            let streamed = try stackship(["copy", "docker://\(r)/a/app:2", "\(r)/b/app:2"])
            #expect(streamed.status == 0, "\(streamed.err)")
            #expect(streamed.err.contains("mounted"), "same registry: blobs are mounted, not sent")
            let archive = home + "/app.tar"
            #expect(try stackship(["copy", "\(r)/b/app:2", "oci-archive:\(archive):app:2"]).status == 0)
            #expect(try stackship(["copy", "oci-archive:\(archive):app:2", "\(r)/c/app:3"]).status == 0)
            #expect(try stackship(["copy", "\(r)/c/app:3", "docker-archive:\(home)/d.tar"]).status == 0)
            #expect(try stackship(["copy", "docker-archive:\(home)/d.tar", "store:copied:1"]).status == 0)
            let digests = try ["a/app:2", "b/app:2", "c/app:3"].map { try stackship(["tags", "\(r)/\($0.split(separator: ":")[0])"]).out }
            #expect(digests == ["2\n", "2\n", "3\n"])
            let unsupported = try stackship(["copy", "containers-storage:x", "\(r)/z:1"])
            #expect(unsupported.status != 0 && unsupported.err.contains("not supported"))
        }
    }

    @Test func tlsRegistryNeedsItsCA() async throws {
        try await withRegistry(.tls) { registry in
            try buildImage("app:3")
            let without = try stackship(["push", "app:3", "\(registry.host)/s/app:3"])
            #expect(without.status == 1 && without.err.contains("--ca-cert"), "\(without.err)")
            let with = try stackship(["push", "app:3", "\(registry.host)/s/app:3", "--ca-cert", registry.caCertificatePath ?? ""])
            #expect(with.status == 0, "\(with.err)")
        }
    }
}
