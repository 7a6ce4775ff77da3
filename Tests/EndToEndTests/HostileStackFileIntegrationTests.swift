import Foundation
import Testing

/// A stack file from a pull request, built in CI, must not be able to put the runner's files in
/// an image: every host path it names, and every symlink a layer follows, stays inside its build
/// context. Each refusal is one `error:` line with the key's file:line:col, exit 1, and leaves no
/// image or blob in the store. Also: two images with one tag, and `run` options with an empty
/// part, are refused the same way.
@Suite(.serialized) struct HostileStackFileIntegrationTests {
    /// No image is tagged and no blob (or half-written one) is in the project's store.
    func expectEmptyStore(_ p: Project, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let blobs = (try? FileManager.default.contentsOfDirectory(atPath: p.store + "/blobs/sha256")) ?? []
        #expect(blobs.isEmpty, "\(blobs)", sourceLocation: sourceLocation)
        if FileManager.default.fileExists(atPath: p.store + "/index.json") {
            let images = try stackship(["images", "--json"], cwd: p.path)
            #expect(images.status == 0 && !images.out.contains("repository"), "\(images.out)", sourceLocation: sourceLocation)
        }
    }

    func layerStack(_ source: String, extra: String = "") -> String {
        "images:\n  hello:\n    layers:\n      - source: \(source)\n        destination: /x\n\(extra)"
    }

    @Test func dotDotOutOfTheProjectIsRefused() throws {
        let p = Project()
        try p.makeHello()
        let climb = String(repeating: "../", count: 30) + "etc"
        try p.write("stack.yaml", layerStack(climb))
        expectCleanFailure(try stackship(["build"], cwd: p.path),
                           ["stack.yaml:4:17: layer source '\(climb)' is outside the build context \(p.path)",
                            "move it inside, or set `context:` to a folder that holds it"])
        #expect(!FileManager.default.fileExists(atPath: p.store))
    }

    @Test func anAbsolutePathOutsideIsRefused() throws {
        let p = Project()
        try p.write("stack.yaml", layerStack("/etc/shadow"))
        expectCleanFailure(try stackship(["build"], cwd: p.path),
                           ["stack.yaml:4:17: layer source '/etc/shadow' is outside the build context \(p.path)"])
        try p.write("stack.yaml", "images:\n  hello:\n    layers:\n      - executable: /usr/bin/ls\n        destination: /ls\n")
        expectCleanFailure(try stackship(["build"], cwd: p.path), ["stack.yaml:4:21: executable '/usr/bin/ls' is outside the build context"])
        #expect(!FileManager.default.fileExists(atPath: p.store))
    }

    @Test func aSymlinkedSourcePointingOutIsRefused() throws {
        let p = Project()
        try FileManager.default.createSymbolicLink(atPath: p.path + "/etc", withDestinationPath: "/etc")
        try p.write("stack.yaml", layerStack("./etc"))
        expectCleanFailure(try stackship(["build"], cwd: p.path),
                           ["stack.yaml:4:17: layer source './etc' is a symlink to /etc, outside the build context \(p.path)"])
        #expect(!FileManager.default.fileExists(atPath: p.store))
    }

    @Test func aFollowedDirectorySymlinkPointingOutIsRefused() throws {
        let p = Project()
        try p.makeHello()
        // At the top of the tree, and deep inside it.
        for (link, target) in [("app/host-etc", "/etc"), ("app/share/hello/a/b/c/up", "../../../../../../..")] {
            try FileManager.default.createDirectory(atPath: p.path + "/" + (link as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: p.path + "/" + link, withDestinationPath: target)
            try p.write("stack.yaml", layerStack("./app", extra: "        follow_symlinks: true\n"))
            let resolved = target.hasPrefix("/") ? target : (p.path as NSString).deletingLastPathComponent
            expectCleanFailure(try stackship(["build"], cwd: p.path),
                               ["stack.yaml:4:17: image 'hello': \(p.path)/\(link) resolves through a symlink to \(resolved), outside the build context \(p.path)",
                                "set follow_symlinks: false"])
            try expectEmptyStore(p)
            try FileManager.default.removeItem(atPath: p.path + "/" + link)
        }
        // Not following links, the tree with a link out builds: the link is kept as a link.
        try FileManager.default.createSymbolicLink(atPath: p.path + "/app/host-etc", withDestinationPath: "/etc")
        try p.write("stack.yaml", layerStack("./app"))
        let r = try stackship(["build"], cwd: p.path)
        #expect(r.status == 0, "\(r.err)")
    }

    @Test func contextAllowsASiblingFolder() throws {
        let p = Project()
        try p.write("build/bin/tool", "#!/bin/sh\necho tool\n", mode: 0o755)
        try p.write("shared/data.txt", "shared\n")
        try FileManager.default.createSymbolicLink(atPath: p.path + "/build/shared", withDestinationPath: "../shared")
        let stack = """
            images:
              tool:
                layers:
                  - source: ../build
                    destination: /opt/tool
                    follow_symlinks: true

            """
        try p.write("deploy/stack.yaml", stack)
        let deploy = p.path + "/deploy"
        // The stack file's folder alone does not hold ../build.
        expectCleanFailure(try stackship(["build"], cwd: deploy),
                           ["stack.yaml:4:17: layer source '../build' is outside the build context \(deploy)", "set `context:`"])
        try p.write("deploy/stack.yaml", "context: ..\n" + stack)
        let r = try stackship(["build"], cwd: deploy)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("tool: sha256:"))
        let saved = p.path + "/tool.tar"
        #expect(try stackship(["save", "tool", "-o", saved, "--format", "oci"], cwd: deploy).status == 0)
        // The followed link into the sibling folder is in the layer as its files.
        let listing = try run("sh", ["-c", "cd \(p.path) && mkdir x && tar -xf tool.tar -C x && for l in x/blobs/sha256/*; do tar -tzf $l 2>/dev/null; done"])
        #expect(listing.out.contains("opt/tool/shared/data.txt"), "\(listing.out)")
        #expect(listing.out.contains("opt/tool/bin/tool"), "\(listing.out)")
    }

    @Test func twoImagesWithOneTagAreRefused() throws {
        let p = Project()
        try p.makeHello()
        try p.write("stack.yaml", """
            images:
              hello:
                layers: [{source: ./app, destination: /opt/hello}]
              other:
                tags: [docker.io/library/hello:latest]
                layers: [{source: ./app/share, destination: /share}]

            """)
        expectCleanFailure(try stackship(["build"], cwd: p.path),
                           ["stack.yaml:5:12: tag 'hello:latest' of image 'other' is also the default tag of image 'hello' (at stack.yaml:2:3)",
                            "silently replace"])
        #expect(!FileManager.default.fileExists(atPath: p.store))
    }

    @Test func runRefusesEmptyPartsBeforeDoingAnything() throws {
        let p = Project()
        let store = p.path + "/store"
        for (arguments, fragments) in [
            (["-l", "=x"], ["invalid label '=x' (-l/--label): the key is empty", "KEY=VALUE"]),
            (["--label", "="], ["invalid label '=' (-l/--label)"]),
            (["-e", "=x"], ["invalid environment variable '=x' (-e)", "NAME=VALUE"]),
            (["-p", "80:"], ["-p 80:", "is not a port number"]),
            (["-v", ":/data"], ["-v :/data", "HOST:CONTAINER"]),
            (["-v", "/tmp:/data:"], ["-v /tmp:/data:", "nothing follows the last ':'"]),
        ] {
            expectCleanFailure(try stackship(["run", "--store", store] + arguments + ["hello"], cwd: p.path), fragments)
        }
        try p.write("env.list", "A=1\n=x\n")
        expectCleanFailure(try stackship(["run", "--store", store, "--env-file", p.path + "/env.list", "hello"], cwd: p.path),
                           ["invalid environment variable '=x' (\(p.path)/env.list:2)"])
        #expect(!FileManager.default.fileExists(atPath: store))
    }
}
