import Foundation
import Testing

/// Each user mistake gets one clear line naming the thing and the fix, exit status 1, no
/// stack trace, and nothing half-written.
@Suite(.serialized) struct BadInputIntegrationTests {
    @Test func invalidYAML() throws {
        let p = Project()
        try p.write("stack.yaml", "images:\n  hello:\n    layers: [\n")
        expectCleanFailure(try stackship(["build"], cwd: p.path), ["stack.yaml:"])
        #expect(!FileManager.default.fileExists(atPath: p.store))
    }

    @Test func unknownKeyNamesTheClosest() throws {
        let p = Project()
        try p.makeHello()
        try p.write("stack.yaml", "images:\n  hello:\n    config:\n      entrypiont: [/x]\n")
        expectCleanFailure(try stackship(["build"], cwd: p.path), ["stack.yaml:4:7", "entrypiont", "did you mean 'entrypoint'"])
    }

    @Test func missingSourcePath() throws {
        let p = Project()
        try p.write("stack.yaml", "images:\n  hello:\n    layers:\n      - source: ./nowhere\n        destination: /x\n")
        expectCleanFailure(try stackship(["build"], cwd: p.path), ["stack.yaml:4:", "nowhere", "does not exist"])
    }

    @Test func symlinkLoopInASourceTree() throws {
        let p = Project()
        try p.makeHello()
        try FileManager.default.createSymbolicLink(atPath: p.path + "/app/share/loop", withDestinationPath: "..")
        try p.write("stack.yaml", "images:\n  hello:\n    layers:\n      - source: ./app\n        destination: /x\n        follow_symlinks: true\n")
        expectCleanFailure(try stackship(["build"], cwd: p.path), ["symlink loop", "app/share/loop"])
        // Not following links, the same tree builds: the loop is kept as a symlink.
        try p.write("stack.yaml", "images:\n  hello:\n    layers:\n      - source: ./app\n        destination: /x\n")
        #expect(try stackship(["build"], cwd: p.path).status == 0)
    }

    @Test func unreadableFileInASourceTree() throws {
        try requireTool("setpriv", package: "util-linux")
        let p = Project()
        try p.makeHello()
        try p.write("app/share/hello/private.key", "secret\n", mode: 0o600)
        // An unprivileged user who can write the project but not read the key.
        #expect(try run("chmod", ["-R", "a+rwX", p.path]).status == 0)
        #expect(try run("chmod", ["0600", p.path + "/app/share/hello/private.key"]).status == 0)
        #expect(try run("chmod", ["a+rx", (p.path as NSString).deletingLastPathComponent]).status == 0 || true)
        let r = try run(try stackshipBinary(), ["build"], cwd: p.path, prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        expectCleanFailure(r, ["private.key", "Permission denied"])
        // No half-written blob is left under its final name.
        let blobs = (try? FileManager.default.contentsOfDirectory(atPath: p.store + "/blobs/sha256")) ?? []
        #expect(blobs.allSatisfy { $0.hasPrefix(".tmp-") })
        #expect(blobs.isEmpty)
    }

    @Test func invalidReference() throws {
        let p = Project()
        try p.makeHello()
        #expect(try stackship(["build"], cwd: p.path).status == 0)
        expectCleanFailure(try stackship(["inspect", "Hello:latest"], cwd: p.path), ["invalid image reference 'Hello:latest'", "lowercase"])
        expectCleanFailure(try stackship(["tag", "hello", "bad tag"], cwd: p.path), ["invalid image reference"])
        expectCleanFailure(try stackship(["inspect", "missing:1"], cwd: p.path), ["no image 'missing:1'", "stackship images"])
    }

    @Test func corruptBlobIsFoundOnReadAndNamed() throws {
        let p = Project()
        try p.makeHello()
        #expect(try stackship(["build"], cwd: p.path).status == 0)
        let json = try stackship(["inspect", "hello", "--json"], cwd: p.path).out
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let manifest = object?["manifest"] as? [String: Any]
        let layer = ((manifest?["layers"] as? [[String: Any]])?.first?["digest"] as? String) ?? ""
        let config = ((manifest?["config"] as? [String: Any])?["digest"] as? String) ?? ""
        #expect(!layer.isEmpty && !config.isEmpty)

        // A flipped byte in a layer: save refuses and leaves no archive behind.
        let layerPath = p.store + "/blobs/sha256/" + layer.dropFirst(7)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: layerPath))
        bytes[bytes.count / 2] ^= 0x55
        try bytes.write(to: URL(fileURLWithPath: layerPath))
        expectCleanFailure(try stackship(["save", "hello", "-o", p.path + "/out.tar", "--format", "oci"], cwd: p.path), [layer, "corrupt"])
        #expect(!FileManager.default.fileExists(atPath: p.path + "/out.tar"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: p.path).allSatisfy { !$0.contains("out.tar") })

        // A changed config: inspect names it.
        let configPath = p.store + "/blobs/sha256/" + config.dropFirst(7)
        var configBytes = try Data(contentsOf: URL(fileURLWithPath: configPath))
        configBytes[configBytes.count - 2] = UInt8(ascii: " ")
        try configBytes.write(to: URL(fileURLWithPath: configPath))
        expectCleanFailure(try stackship(["inspect", "hello"], cwd: p.path), [config])
    }

    @Test func loadingSomethingThatIsNotAnArchive() throws {
        let p = Project()
        try p.write("notes.txt", "just text, not a tar file at all, padded out to more than one tar block of bytes " + String(repeating: "x", count: 600))
        expectCleanFailure(try stackship(["load", p.path + "/notes.txt"], cwd: p.path), ["notes.txt", "image archive"])
        expectCleanFailure(try stackship(["load", p.path + "/absent.tar"], cwd: p.path), ["absent.tar", "No such file"])
    }

    @Test func saveIntoAMissingDirectoryNamesThePath() throws {
        let p = Project()
        try p.makeHello()
        #expect(try stackship(["build"], cwd: p.path).status == 0)
        let target = p.path + "/no/such/dir/out.tar"
        let r = try stackship(["save", "hello", "-o", target], cwd: p.path)
        expectCleanFailure(r, ["cannot write \(target)", "No such file or directory"])
        #expect(!r.err.contains(".tmp-"))
    }

    @Test func noStackFile() throws {
        let p = Project()
        expectCleanFailure(try stackship(["build"], cwd: p.path), ["stack.yaml"])
    }
}
