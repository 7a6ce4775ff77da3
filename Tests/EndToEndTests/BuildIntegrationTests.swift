import Foundation
import Testing

@Suite(.serialized) struct BuildIntegrationTests {
    @Test func sameStackSameDigestAcrossRebuildsAndCopies() throws {
        let p = Project()
        try p.makeHello()
        let first = try stackship(["build"], cwd: p.path)
        #expect(first.status == 0, "\(first.err)")
        #expect(first.out.contains("hello: sha256:"))
        let d1 = try p.digest(of: "hello:latest")
        #expect(try stackship(["build"], cwd: p.path).status == 0)
        #expect(try p.digest(of: "hello:latest") == d1)

        // A copy of the project with other mtimes and owners builds the same image.
        let copy = Project()
        #expect(try run("cp", ["-a", p.path + "/app", p.path + "/stack.yaml", copy.path]).status == 0)
        #expect(try run("touch", ["-d", "2011-11-11 11:11", copy.path + "/app/bin/hello", copy.path + "/app/share"]).status == 0)
        #expect(try run("chown", ["-R", "-h", "4321:8765", copy.path + "/app"]).status == 0)
        #expect(try stackship(["build"], cwd: copy.path).status == 0)
        #expect(try copy.digest(of: "hello:latest") == d1)
    }

    @Test func sourceDateEpochIsRecordedAndChangesTheDigest() throws {
        let p = Project()
        try p.makeHello()
        #expect(try stackship(["build"], cwd: p.path).status == 0)
        let zero = try p.digest(of: "hello:latest")
        let r = try stackship(["build"], cwd: p.path, env: ["SOURCE_DATE_EPOCH": "1700000000"])
        #expect(r.status == 0, "\(r.err)")
        #expect(try p.digest(of: "hello:latest") != zero)
        let inspect = try stackship(["inspect", "hello", "--json"], cwd: p.path)
        #expect(inspect.out.contains("2023-11-14T22:13:20Z"))
    }

    @Test func imagesInspectTagRmiAndGC() throws {
        let p = Project()
        try p.makeHello()
        #expect(try stackship(["build", "--image", "hello"], cwd: p.path).status == 0)
        let images = try stackship(["images"], cwd: p.path)
        #expect(images.out.contains("REPOSITORY"))
        #expect(images.out.contains("hello") && images.out.contains("1.0"))

        let inspect = try stackship(["inspect", "hello:1.0"], cwd: p.path)
        #expect(inspect.status == 0)
        #expect(inspect.out.contains("Entrypoint:   [\"/opt/hello/bin/hello\"]"))
        #expect(inspect.out.contains("Env:          GREETING=hi"))
        #expect(inspect.out.contains("Ports:        8080/tcp"))
        let json = try stackship(["inspect", "hello", "--json"], cwd: p.path)
        let object = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
        #expect((object?["manifest"] as? [String: Any])?["layers"] != nil)

        #expect(try stackship(["tag", "hello", "example.com/team/hello:2"], cwd: p.path).status == 0)
        #expect(try stackship(["images"], cwd: p.path).out.contains("example.com/team/hello"))
        #expect(try stackship(["rmi", "hello:1.0", "hello:latest"], cwd: p.path).status == 0)
        // Still named once, so nothing was reclaimed yet.
        #expect(try stackship(["inspect", "example.com/team/hello:2"], cwd: p.path).status == 0)
        let blobsBefore = try FileManager.default.contentsOfDirectory(atPath: p.store + "/blobs/sha256").count
        let rmi = try stackship(["rmi", "example.com/team/hello:2"], cwd: p.path)
        #expect(rmi.out.contains("Reclaimed"))
        let blobsAfter = try FileManager.default.contentsOfDirectory(atPath: p.store + "/blobs/sha256").count
        #expect(blobsBefore == 3 && blobsAfter == 0)
        #expect(try stackship(["gc"], cwd: p.path).out.contains("Reclaimed 0 B in 0 blobs"))
    }

    @Test func storeFlagAndEnvironmentChooseTheStore() throws {
        let p = Project()
        try p.makeHello()
        #expect(try stackship(["build", "--store", p.path + "/elsewhere"], cwd: p.path).status == 0)
        #expect(FileManager.default.fileExists(atPath: p.path + "/elsewhere/index.json"))
        #expect(!FileManager.default.fileExists(atPath: p.store))
        #expect(try stackship(["images"], cwd: p.path, env: ["STACKSHIP_STORE": p.path + "/elsewhere"]).out.contains("hello"))
    }

    @Test func everyCommandHelpHasAnExample() throws {
        for command in ["build", "images", "inspect", "save", "load", "tag", "rmi", "gc", "layer"] {
            let r = try stackship([command, "--help"])
            #expect(r.status == 0)
            #expect(r.out.contains("Example"), "\(command) --help has no example")
        }
    }

    @Test func killedBuildLeavesAConsistentStore() throws {
        let p = Project()
        try p.makeHello()
        // Enough data that the build is still writing its layer when it is killed.
        let big = p.path + "/app/share/big"
        try FileManager.default.createDirectory(atPath: big, withIntermediateDirectories: true)
        #expect(try run("sh", ["-c", "head -c 300000000 /dev/urandom > \(big)/blob.bin"]).status == 0)
        #expect(try stackship(["build"], cwd: p.path).status == 0)
        let before = try String(contentsOfFile: p.store + "/index.json", encoding: .utf8)
        try p.write("app/share/hello/greeting.txt", "changed\n")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try stackshipBinary())
        process.arguments = ["build"]
        process.currentDirectoryURL = URL(fileURLWithPath: p.path)
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait until the layer is being written, then kill.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: p.store + "/blobs/sha256")) ?? []
            if names.contains(where: { $0.hasPrefix(".tmp-") }) { break }
            usleep(10_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)

        // index.json is whole and unchanged; every blob still matches its name.
        #expect(try String(contentsOfFile: p.store + "/index.json", encoding: .utf8) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: p.store + "/blobs/sha256").filter { $0.hasPrefix(".tmp-") }
        #expect(!leftovers.isEmpty)
        #expect(try run("sh", ["-c", "cd \(p.store)/blobs/sha256 && for f in [0-9a-f]*; do echo \"$f  $f\"; done | sha256sum -c --quiet"]).status == 0)
        // The next build succeeds and gc clears the leftovers.
        let again = try stackship(["build"], cwd: p.path)
        #expect(again.status == 0, "\(again.err)")
        let gc = try stackship(["gc"], cwd: p.path)
        #expect(gc.out.contains("temporary file"))
        #expect(try stackship(["save", "hello", "-o", p.path + "/out.tar"], cwd: p.path).status == 0)
    }
}
