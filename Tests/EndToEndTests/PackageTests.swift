import Foundation
import Testing

/// Stack file version 2: script packages built in a busybox builder image under runc, cached by
/// input hash, assembled into images that share their layers.
@Suite(.serialized)
struct PackageTests {
    /// A busybox builder defined in the stack itself, and five script packages:
    /// a ← b ← c, a ← d, e needs c and d to run and b to build.
    static func makeStack(_ project: Project) throws {
        try requireTool("busybox", package: "busybox-static")
        try requireTool("runc", package: "runc")
        let busybox = ["/bin/busybox", "/usr/bin/busybox"].first { FileManager.default.fileExists(atPath: $0) }!
        try FileManager.default.createDirectory(atPath: project.path + "/builder/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: busybox, toPath: project.path + "/builder/bin/busybox")
        for tool in ["sh", "cat", "echo", "mkdir", "cp", "chmod", "printf", "false"] {
            try FileManager.default.createSymbolicLink(atPath: project.path + "/builder/bin/" + tool, withDestinationPath: "busybox")
        }
        try project.write("src/a/a.txt", "alpha\n")
        try project.write("src/b/b.txt", "beta\n")
        try project.write("stack.yaml", """
        version: 2
        bases:
          builder: builder:latest
          runtime: builder:latest
        packages:
          a:
            version: "1.0"
            source: ./src/a
            build:
              script: |
                mkdir -p $PREFIX/share $PREFIX/bin
                cp a.txt $PREFIX/share/a.txt
                printf '#!/bin/sh\\ncat /opt/stack/*/share/*.txt\\n' > $PREFIX/bin/show
                chmod 755 $PREFIX/bin/show
          b:
            source: ./src/b
            depends_on: [a]
            build:
              script: mkdir -p $PREFIX/share && cat $A_PREFIX/share/a.txt b.txt > $PREFIX/share/ab.txt
          c:
            depends_on: [b]
            build:
              script: mkdir -p $PREFIX/share && cat $B_PREFIX/share/ab.txt > $PREFIX/share/c.txt
          d:
            depends_on: [a]
            build:
              script: mkdir -p $PREFIX/share && echo d > $PREFIX/share/d.txt
          e:
            depends_on: [c, d]
            build_depends_on: [b]
            build:
              script: mkdir -p $PREFIX/share && cat $C_PREFIX/share/c.txt $D_PREFIX/share/d.txt > $PREFIX/share/e.txt
        images:
          builder:
            layers:
              - source: ./builder
                destination: /
          one:
            packages: [c]
            config: {entrypoint: [show]}
          two:
            packages: [e]
            config: {entrypoint: [show]}
        """)
    }

    static func built(_ output: String) -> Set<String> {
        Set(output.split(separator: "\n").compactMap { line in
            line.contains(": built in ") ? String(line.split(separator: ":")[0]) : nil
        })
    }

    static func layers(_ project: Project, _ image: String) throws -> [String] {
        let r = try stackship(["inspect", image, "--json"], cwd: project.path)
        let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        let manifest = object?["manifest"] as? [String: Any]
        return (manifest?["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
    }

    @Test func buildsInTheBuilderCachesByHashAndRebuildsOnlyWhatChanged() throws {
        let project = Project()
        try Self.makeStack(project)

        let first = try stackship(["build", "-j", "2"], cwd: project.path)
        #expect(first.status == 0, "\(first.err)")
        #expect(Self.built(first.err) == ["a", "b", "c", "d", "e"])

        // The images share their common packages' layers, byte for byte.
        let one = try Self.layers(project, "one")
        let two = try Self.layers(project, "two")
        #expect(one.count == 1 + 3)  // builder + a, b, c
        #expect(two.count == 1 + 5)  // builder + a, b, c, d, e
        #expect(Array(two.prefix(4)) == one)

        // What the packages built, seen from inside the running image.
        let shown = try stackship(["run", "--rm", "two"], cwd: project.path)
        #expect(shown.status == 0, "\(shown.err)")
        #expect(shown.out.contains("alpha\nbeta\n"))
        #expect(shown.out.contains("alpha\nbeta\nd\n"))

        // Second build: every package up to date, same image digests.
        let lock = try String(contentsOfFile: project.path + "/stack.lock", encoding: .utf8)
        let second = try stackship(["build"], cwd: project.path)
        #expect(second.status == 0, "\(second.err)")
        #expect(Self.built(second.err).isEmpty)
        #expect(second.err.contains("0 built, 0 fetched, 5 up to date"))
        #expect(try String(contentsOfFile: project.path + "/stack.lock", encoding: .utf8) == lock)
        #expect(try Self.layers(project, "two") == two)

        // Change b's source: b and what depends on it (c, e) are rebuilt, a and d are not.
        try project.write("src/b/b.txt", "BETA\n")
        let third = try stackship(["build"], cwd: project.path)
        #expect(third.status == 0, "\(third.err)")
        #expect(Self.built(third.err) == ["b", "c", "e"])
        let rerun = try stackship(["run", "--rm", "one"], cwd: project.path)
        #expect(rerun.out.contains("alpha\nBETA\n"))
        let newLock = try String(contentsOfFile: project.path + "/stack.lock", encoding: .utf8)
        #expect(newLock != lock)
        let check = try stackship(["lock", "--check"], cwd: project.path)
        #expect(check.status == 0, "\(check.err)")
    }

    @Test func aFailingPackageShowsItsLogAndSkipsWhatNeedsIt() throws {
        let project = Project()
        try Self.makeStack(project)
        let stack = try String(contentsOfFile: project.path + "/stack.yaml", encoding: .utf8)
        try project.write("stack.yaml", stack.replacingOccurrences(
            of: "script: mkdir -p $PREFIX/share && echo d > $PREFIX/share/d.txt",
            with: "script: echo about to fail && false"))
        let failed = try stackship(["build", "--keep-going"], cwd: project.path)
        #expect(failed.status == 1)
        #expect(failed.err.contains("d: FAILED: package 'd' failed to build (exit status 1)"))
        #expect(failed.err.contains("about to fail"))
        #expect(failed.err.contains("e: skipped, because d failed"))
        #expect(failed.err.contains("error: 1 package failed: d; not built: e"))
        // --keep-going built what did not need d.
        #expect(Self.built(failed.err) == ["a", "b", "c"])
        #expect(!failed.err.contains("Fatal error"))
        #expect(FileManager.default.fileExists(atPath: project.path + "/.stackship/logs/d.log"))
        // No work folder left behind.
        let work = (try? FileManager.default.contentsOfDirectory(atPath: project.path + "/.stackship/work")) ?? []
        #expect(work.isEmpty)
    }

    @Test func stackFileMistakesAreNamed() throws {
        let project = Project()
        let cases: [(String, String)] = [
            ("""
            version: 2
            packages:
              a: {depends_on: [b], build: {script: x, host: true}}
              b: {depends_on: [a], build: {script: x, host: true}}
            """, "dependency cycle: a → b → a"),
            ("""
            version: 2
            packages:
              a: {depends_on: [bb], build: {script: x, host: true}}
              b: {build: {script: x, host: true}}
            """, "unknown package 'bb' in the dependencies of 'a'; did you mean 'b'?"),
            ("""
            version: 2
            packages:
              a: {build: {script: make}}
            """, "package 'a' builds its script in a container, but `bases:` names no builder image"),
            ("""
            packages:
              a: {build: {script: make, host: true}}
            """, "`packages:` needs stack file version 2"),
            ("""
            version: 2
            packages:
              a: {build: {script: x, files: [], host: true}}
            """, "has both `script:` and `files:`"),
            ("""
            version: 2
            packages:
              a: {build: {script: x, host: true}}
            images:
              app: {packages: [aa]}
            """, "unknown package 'aa' in image 'app'; did you mean 'a'?"),
        ]
        for (yaml, message) in cases {
            try project.write("stack.yaml", yaml)
            let r = try stackship(["build"], cwd: project.path)
            #expect(r.status == 1)
            #expect(r.err.contains(message), "\(r.err)")
            #expect(r.err.hasPrefix("error: stack.yaml:"), "\(r.err)")
        }
    }

    @Test func hostBuildsGitSourcesAndFiles() throws {
        let project = Project()
        try requireTool("git", package: "git")
        let repo = project.path + "/repo"
        try project.write("repo/VERSION", "1\n")
        for args in [["init", "-q", "-b", "main"], ["add", "."],
                     ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "one"]] {
            #expect(try run("git", ["-C", repo] + args).status == 0)
        }
        try project.write("notes.txt", "notes\n")
        try project.write("stack.yaml", """
        version: 2
        packages:
          fromgit:
            source: {git: ./repo, ref: main}
            build: {script: "mkdir -p $PREFIX && cp VERSION $PREFIX/", host: true}
          docs:
            depends_on: [fromgit]
            build:
              files:
                - {source: ./notes.txt, destination: share/doc/, mode: 0600}
        images:
          app: {packages: [docs]}
        """)
        let first = try stackship(["build"], cwd: project.path)
        #expect(first.status == 0, "\(first.err)")
        #expect(Self.built(first.err) == ["fromgit", "docs"])
        let unchanged = try stackship(["build"], cwd: project.path)
        #expect(Self.built(unchanged.err).isEmpty)
        // A new commit on the ref changes the hash.
        try project.write("repo/VERSION", "2\n")
        #expect(try run("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-am", "two"]).status == 0)
        let second = try stackship(["build"], cwd: project.path)
        #expect(Self.built(second.err) == ["fromgit", "docs"])
        let unpacked = project.path + "/root"
        let r = try stackship(["unpack", "app", unpacked], cwd: project.path)
        #expect(r.status == 0, "\(r.err)")
        #expect(try String(contentsOfFile: unpacked + "/opt/stack/fromgit/VERSION", encoding: .utf8) == "2\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: unpacked + "/opt/stack/docs/share/doc/notes.txt")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // A ref that does not exist is named.
        let bad = try String(contentsOfFile: project.path + "/stack.yaml", encoding: .utf8).replacingOccurrences(of: "ref: main", with: "ref: nope")
        try project.write("stack.yaml", bad)
        let missing = try stackship(["build"], cwd: project.path)
        #expect(missing.status == 1)
        #expect(missing.err.contains("ref 'nope' is not in"), "\(missing.err)")
    }
}
