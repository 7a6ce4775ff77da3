import Foundation
import OCI
import Testing
@testable import Stack

/// A stack file's host paths stay inside its build context (the stack file's folder, or
/// `context:`), symlinks resolved, and no two images share a tag.
///
/// Each test lays out `project/` (holding stack.yaml) beside `outside/` (holding a secret) in
/// its own temporary folder, so "outside" is a real sibling the way a CI runner's home is.
@Suite("stack.yaml: build context")
struct BuildContextTests {
    /// `project/` and `outside/secret` in a fresh folder.
    struct Layout {
        let root: StackDir
        var project: StackDir { StackDir(path: root.path + "/project") }

        init(_ root: StackDir) throws {
            self.root = root
            try root.write("project/app/bin/tool", "tool\n")
            try root.write("outside/secret", "secret\n")
            try root.write("outside/base.tar", "not really a tar\n")
        }

        func parse(_ yaml: String) throws -> StackFile {
            try StackFile.parse(yaml: yaml, path: "stack.yaml", directory: project.path)
        }

        func error(_ yaml: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> StackFileError? {
            #expect(throws: StackFileError.self, sourceLocation: sourceLocation) { try parse(yaml) }
        }
    }

    static let outsideHint = "move it inside, or set `context:` to a folder that holds it"

    // MARK: Parse-time checks

    @Test func dotDotEscapesAreRefused() throws {
        try withStackDir { dir in
            let l = try Layout(dir)
            let error = l.error("images:\n  app:\n    layers:\n      - source: ../outside\n        destination: /x\n")
            check(error, line: 4, column: 17, message: "layer source '../outside' is outside the build context \(l.project.path)",
                  hint: Self.outsideHint)
            // Climbing to the real /etc, as a hostile pull request would.
            let climb = String(repeating: "../", count: 40) + "etc"
            check(l.error("images:\n  app:\n    layers:\n      - source: \(climb)\n        destination: /x\n"),
                  line: 4, column: 17, message: "layer source '\(climb)' is outside the build context", hint: Self.outsideHint)
            // `..` that comes back inside is fine.
            let stack = try l.parse("images:\n  app:\n    layers:\n      - {source: ../project/app, destination: /x}\n")
            #expect(stack.images[0].layers[0].source == l.project.path + "/app")
        }
    }

    @Test func absolutePathsOutsideAreRefused() throws {
        try withStackDir { dir in
            let l = try Layout(dir)
            check(l.error("images:\n  app:\n    layers:\n      - {source: /etc/passwd, destination: /x}\n"),
                  line: 4, column: 18, message: "layer source '/etc/passwd' is outside the build context \(l.project.path)")
            check(l.error("images:\n  app:\n    layers:\n      - {executable: /usr/bin/ls, destination: /x}\n"),
                  line: 4, column: 22, message: "executable '/usr/bin/ls' is outside the build context")
            // An absolute path inside is a path like any other.
            let stack = try l.parse("images:\n  app:\n    layers:\n      - {source: \(l.project.path)/app, destination: /x}\n")
            #expect(stack.images[0].layers[0].source == l.project.path + "/app")
        }
    }

    @Test func aSymlinkedSourceIsJudgedByItsTarget() throws {
        try withStackDir { dir in
            let l = try Layout(dir)
            try l.project.symlink("etc", to: "/etc")
            try l.project.symlink("secret", to: "../outside/secret")
            try l.project.symlink("ls", to: "/usr/bin/ls")
            try l.project.symlink("tool", to: "app/bin/tool")
            check(l.error("images:\n  app:\n    layers:\n      - {source: etc, destination: /x}\n"),
                  line: 4, column: 18, message: "layer source 'etc' is a symlink to /etc, outside the build context \(l.project.path)",
                  hint: "copy what it points to inside, or set `context:`")
            check(l.error("images:\n  app:\n    layers:\n      - {source: ./secret, destination: /x}\n"),
                  line: 4, column: 18, message: "layer source './secret' is a symlink to \(dir.path)/outside/secret, outside")
            check(l.error("images:\n  app:\n    layers:\n      - {executable: ls, destination: /x}\n"),
                  line: 4, column: 22, message: "executable 'ls' is a symlink to")
            // A folder on the way that is a link out counts too.
            try l.project.symlink("vendor", to: "../outside")
            check(l.error("images:\n  app:\n    layers:\n      - {source: vendor/secret, destination: /x}\n"),
                  line: 4, column: 18, message: "layer source 'vendor/secret' is outside the build context \(l.project.path) (it resolves to \(dir.path)/outside/secret)")
            // A link that stays inside is fine.
            #expect(try l.parse("images:\n  app:\n    layers:\n      - {source: tool, destination: /x}\n").images.count == 1)
        }
    }

    @Test func everyHostPathIsConfined() throws {
        try withStackDir { dir in
            let l = try Layout(dir)
            check(l.error("images:\n  app: {base: \"oci-archive:../outside/base.tar\"}\n"),
                  line: 2, column: 15, message: "base archive '../outside/base.tar' is outside the build context")
            check(l.error("images:\n  app: {base: \"docker-archive:\(dir.path)/outside/base.tar:x:1\"}\n"),
                  line: 2, column: 15, message: "base archive '\(dir.path)/outside/base.tar' is outside")
            let v2 = "version: 2\nimages:\n  app: {packages: [p]}\n"
            check(l.error("version: 2\nbases: {builder: \"oci-archive:../outside/base.tar\"}\n" + "packages:\n  p: {build: {script: x}}\n"),
                  line: 2, column: 18, message: "base archive '../outside/base.tar' is outside")
            check(l.error(v2 + "packages:\n  p: {source: ../outside, build: {script: x, host: true}}\n"),
                  line: 5, column: 15, message: "source of package 'p' '../outside' is outside")
            check(l.error(v2 + "packages:\n  p: {build: {files: [{source: ../outside/secret, destination: bin/}]}}\n"),
                  line: 5, column: 32, message: "file source '../outside/secret' is outside")
            // A local git repository is a host path too, existing yet or not; a remote one is not.
            check(l.error(v2 + "packages:\n  p: {source: {git: ../outside/repo}, build: {script: x, host: true}}\n"),
                  line: 5, column: 21, message: "git source of package 'p' '../outside/repo' is outside")
            check(l.error(v2 + "packages:\n  p: {source: {git: \"file://\(dir.path)/outside/repo\"}, build: {script: x, host: true}}\n"),
                  line: 5, column: 21, message: "git source of package 'p' 'file://\(dir.path)/outside/repo' is outside")
            for remote in ["https://example.com/r.git", "git@example.com:r.git", "example.com:team/r.git", "ssh://h/r"] {
                let stack = try l.parse(v2 + "packages:\n  p: {source: {git: \"\(remote)\"}, build: {script: x, host: true}}\n")
                #expect(stack.packages[0].source == .git(url: remote, ref: "HEAD"))
            }
            let local = try l.parse(v2 + "packages:\n  p: {source: {git: ./repo}, build: {script: x, host: true}}\n")
            #expect(local.packages[0].source == .git(url: l.project.path + "/repo", ref: "HEAD"))
        }
    }

    @Test func contextWidensWhatIsInside() throws {
        try withStackDir { dir in
            let l = try Layout(dir)
            let yaml = "context: ..\nimages:\n  app:\n    layers:\n      - {source: ../outside/secret, destination: /secret}\n"
            let stack = try l.parse(yaml)
            #expect(stack.context == dir.path)
            #expect(stack.directory == l.project.path)
            #expect(stack.images[0].layers[0].source == dir.path + "/outside/secret")
            // Still not past it, and the hint points at the `context:` that limits it.
            check(l.error("context: ..\nimages:\n  app:\n    layers:\n      - {source: /etc/passwd, destination: /x}\n"),
                  line: 5, column: 18, message: "is outside the build context \(dir.path)",
                  hint: "widen `context:` (stack.yaml:1:10) to a folder that holds it")
            // Relative paths still resolve against the stack file's folder, not the context.
            check(l.error("context: ..\nimages:\n  app:\n    layers:\n      - {source: outside/secret, destination: /x}\n"),
                  line: 5, column: 18, message: "layer source 'outside/secret' does not exist (looked for \(l.project.path)/outside/secret)")
            // Without `context:`, the stack file's folder.
            #expect(try l.parse("images:\n  app: {}\n").context == l.project.path)
        }
    }

    @Test func contextMustBeAFolder() throws {
        try withStackDir { dir in
            let l = try Layout(dir)
            check(l.error("context: ../nowhere\nimages:\n  app: {}\n"), line: 1, column: 10,
                  message: "build context '../nowhere' does not exist")
            check(l.error("context: app/bin/tool\nimages:\n  app: {}\n"), line: 1, column: 10,
                  message: "build context 'app/bin/tool' is a file", hint: "such as `context: ..`")
            check(l.error("context: [a]\nimages:\n  app: {}\n"), line: 1, column: 10, message: "`context` must be")
            check(l.error("context: \"\"\nimages:\n  app: {}\n"), line: 1, column: 10, message: "`context` is empty")
            // Empty counts as absent, as for other optional keys.
            #expect(try l.parse("context:\nimages:\n  app: {}\n").context == l.project.path)
        }
    }

    @Test func contextThroughASymlinkIsResolved() throws {
        try withStackDir { dir in
            let l = try Layout(dir)
            try dir.symlink("alias", to: "project")
            let stack = try StackFile.parse(yaml: "images:\n  app:\n    layers: [{source: app, destination: /a}]\n",
                                            path: "stack.yaml", directory: dir.path + "/alias")
            #expect(stack.context == l.project.path)
            #expect(stack.images[0].layers[0].source == dir.path + "/alias/app")
        }
    }

    // MARK: Walk-time checks (follow_symlinks: true)

    /// Builds image `app` of `yaml` (in `project/`) into `project/store`.
    func build(_ l: Layout, _ yaml: String) throws -> (BuiltImage, OCILayoutStore) {
        let stack = try l.parse(yaml)
        let store = try OCILayoutStore(root: l.project.path + "/store")
        return (try ImageAssembler.build(try stack.image(named: "app"), stack: stack, store: store, options: AssemblyOptions()), store)
    }

    @Test func aFollowedSymlinkOutIsRefusedWherever() throws {
        try withStackDir { dir in
            let l = try Layout(dir)
            try l.project.mkdir("app/deep/a/b")
            try l.project.symlink("app/deep/a/b/escape", to: "../../../../../outside")
            let yaml = "images:\n  app:\n    layers:\n      - source: ./app\n        destination: /app\n        follow_symlinks: true\n"
            #expect {
                try build(l, yaml)
            } throws: { error in
                guard case let .sourceOutsideContext(image, layer, path, resolved, context)? = error as? StackBuildError else { return false }
                return image == "app" && layer == SourceLocation(file: "stack.yaml", line: 4, column: 17)
                    && path == l.project.path + "/app/deep/a/b/escape" && resolved == dir.path + "/outside"
                    && context == l.project.path
                    && "\(error)".hasPrefix("stack.yaml:4:17: image 'app': \(path) resolves through a symlink to \(resolved), outside the build context \(context);")
            }
            // Nothing was written: the walk that measures the layer comes first.
            let blobs = (try? FileManager.default.contentsOfDirectory(atPath: l.project.path + "/store/blobs/sha256")) ?? []
            #expect(blobs.isEmpty, "\(blobs)")

            // A file link is followed too; excluding it, or not following links, builds.
            try FileManager.default.removeItem(atPath: l.project.path + "/app/deep/a/b/escape")
            try l.project.symlink("app/shadow", to: "/etc/passwd")
            #expect(throws: StackBuildError.self) { try build(l, yaml) }
            _ = try build(l, yaml + "        exclude: [shadow]\n")
            let (kept, store) = try build(l, "images:\n  app:\n    layers:\n      - {source: ./app, destination: /app}\n")
            #expect(try layerNames(kept, in: store).contains("app/shadow"))
        }
    }

    @Test func followedLinksInsideTheContextAreFollowed() throws {
        try withStackDir { dir in
            let l = try Layout(dir)
            try l.project.symlink("app/tools", to: "bin")
            try l.project.symlink("app/sibling", to: "../../outside")
            let yaml = "context: ..\nimages:\n  app:\n    layers:\n      - {source: ./app, destination: /app, follow_symlinks: true}\n"
            let (built, store) = try build(l, yaml)
            let names = try layerNames(built, in: store)
            for name in ["app/tools/tool", "app/sibling/secret", "app/bin/tool"] {
                #expect(names.contains(name), "\(name) not in \(names)")
            }
            // Without `context: ..`, the sibling is outside.
            #expect(throws: StackBuildError.self) { try build(l, String(yaml.dropFirst("context: ..\n".count))) }
        }
    }

    @Test func theWalkerChecksTheSourceItselfToo() throws {
        try withStackDir { dir in
            _ = try Layout(dir)
            try dir.symlink("project/link", to: "../outside")
            let source = LayerSource(source: dir.path + "/project/link", destination: "/x", confinement: dir.path + "/project")
            #expect(throws: OCIError.sourceOutside(path: dir.path + "/project/link", resolved: dir.path + "/outside",
                                                   root: dir.path + "/project")) {
                try SourceTree.walk([source]) { _ in }
            }
            // Unconfined, as library callers that pass no context get.
            var count = 0
            try SourceTree.walk([LayerSource(source: dir.path + "/project/link", destination: "/x")]) { _ in count += 1 }
            #expect(count == 3)
            #expect(SourceTree.isInside("/a/b", root: "/a") && SourceTree.isInside("/a", root: "/a") && SourceTree.isInside("/x", root: "/"))
            #expect(!SourceTree.isInside("/a/bc", root: "/a/b") && !SourceTree.isInside("/a", root: "/a/b"))
        }
    }

    // MARK: Tags across images

    @Test func twoImagesMayNotShareATag() throws {
        try withStackDir { dir in
            let l = try Layout(dir)
            check(l.error("images:\n  a: {tags: [hello]}\n  b: {tags: [x:1, \"docker.io/library/hello:latest\"]}\n"),
                  line: 3, column: 19, message: "tag 'hello:latest' of image 'b' is also a tag of image 'a' (at stack.yaml:2:14); both are docker.io/library/hello:latest",
                  hint: "the second image built would silently replace the first")
            // A default tag (NAME:latest) counts, before or after.
            check(l.error("images:\n  hello: {}\n  b: {tags: [\"hello:latest\"]}\n"),
                  line: 3, column: 14, message: "tag 'hello:latest' of image 'b' is also the default tag of image 'hello' (at stack.yaml:2:3)")
            check(l.error("images:\n  b: {tags: [hello]}\n  hello: {}\n"),
                  line: 3, column: 3, message: "the default tag 'hello:latest' of image 'hello' is also a tag of image 'b' (at stack.yaml:2:14)")
            // Same name, other tag or registry: distinct.
            let stack = try l.parse("images:\n  a: {tags: [hello:1]}\n  b: {tags: [hello:2, localhost:5000/hello:1]}\n")
            #expect(stack.images.count == 2)
        }
    }
}
