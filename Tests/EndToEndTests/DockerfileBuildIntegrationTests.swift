import Foundation
import OCI
import StackshipTesting
import Testing

/// `stackship build -f Dockerfile` as a user runs it: the step cache, failures, secrets,
/// reproducibility, errors and gc. Every image starts `FROM scratch` with Debian's static busybox
/// copied in, so nothing is pulled; the conformance suite and the Go example use real bases.
@Suite(.serialized)
struct DockerfileBuildIntegrationTests {
    /// A project holding busybox and a Dockerfile that starts with it installed.
    static func project(_ dockerfile: String, files: [String: String] = [:]) throws -> Project {
        try requireTool("busybox", package: "busybox-static")
        try requireTool("runc", package: "runc")
        let project = Project()
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: project.path + "/busybox")
        for (path, content) in files { try project.write(path, content) }
        try project.write("Dockerfile", """
        FROM scratch AS base
        COPY busybox /bin/busybox
        RUN ["/bin/busybox", "--install", "-s", "/bin"]
        \(dockerfile)
        """)
        return project
    }

    static func build(_ project: Project, _ extra: [String] = [], env: [String: String] = [:]) throws -> Result {
        try stackship(["build", "--store", project.store] + extra + ["."], cwd: project.path, env: env)
    }

    /// `N of M steps cached, R RUN executed` from a build's summary line.
    static func counts(_ r: Result) -> (cached: Int, steps: Int, runs: Int)? {
        guard let range = r.out.range(of: #"(\d+) of (\d+) steps cached, (\d+) RUN executed"#, options: .regularExpression) else { return nil }
        let numbers = r.out[range].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        return numbers.count == 3 ? (numbers[0], numbers[1], numbers[2]) : nil
    }

    static func digest(_ r: Result) -> String? {
        r.out.range(of: #"sha256:[0-9a-f]{64}"#, options: .regularExpression).map { String(r.out[$0]) }
    }

    @Test func aRebuildWithNothingChangedRunsNothingAndGivesTheSameDigest() throws {
        let project = try Self.project("""
        ENV GREETING=hello
        WORKDIR /app
        COPY a.txt ./
        RUN cat a.txt > copy.txt
        LABEL purpose=test
        EXPOSE 8080
        USER 1000:1000
        CMD ["cat", "/app/copy.txt"]
        """, files: ["a.txt": "A\n"])
        let first = try Self.build(project, ["-t", "cached"])
        #expect(first.status == 0, "\(first.err)")
        #expect(Self.counts(first)?.runs == 2, "\(first.out)")
        let started = Date()
        let second = try Self.build(project, ["-t", "cached"])
        let seconds = Date().timeIntervalSince(started)
        #expect(second.status == 0, "\(second.err)")
        let counts = Self.counts(second)
        #expect(counts?.runs == 0 && counts?.cached == counts?.steps, "\(second.out)")
        #expect(Self.digest(first) == Self.digest(second))
        // The benchmark holds the speed target; this only catches a rebuild that does real work.
        #expect(seconds < 5, "a cached rebuild took \(seconds) s")
        let ran = try stackship(["run", "--rm", "--store", project.store, "cached"], cwd: project.path)
        #expect(ran.out == "A\n", "\(ran.out) \(ran.err)")
    }

    @Test func aChangedCopySourceRerunsExactlyTheStepsAfterIt() throws {
        let project = try Self.project("""
        COPY a.txt /a.txt
        RUN cp /a.txt /a2.txt
        COPY c.txt /c.txt
        RUN cp /c.txt /c2.txt
        RUN echo done > /done
        """, files: ["a.txt": "A\n", "c.txt": "C\n"])
        #expect(try Self.build(project).status == 0)
        try project.write("c.txt", "changed\n")
        let second = try Self.build(project, ["-t", "changed"])
        #expect(second.status == 0, "\(second.err)")
        // Cached: COPY busybox, RUN --install, COPY a.txt, RUN cp a; then COPY c.txt and the two RUNs again.
        let counts = Self.counts(second)
        #expect(counts?.cached == 4 && counts?.steps == 7 && counts?.runs == 2, "\(second.out)\n\(second.err)")
        let ran = try stackship(["run", "--rm", "--store", project.store, "changed", "cat", "/c2.txt"], cwd: project.path)
        #expect(ran.out == "changed\n", "\(ran.err)")
    }

    @Test func aFailedRunShowsItsLastLinesAndExitCodeAndTagsNothing() throws {
        let project = try Self.project("""
        RUN echo first line; echo the last words; exit 3
        """)
        let r = try Self.build(project, ["-t", "broken"])
        expectCleanFailure(r, ["Dockerfile:4:1", "exit code 3", "the last words"])
        let images = try stackship(["images", "--store", project.store], cwd: project.path)
        #expect(!images.out.contains("broken"), "\(images.out)")
        #expect(try HostMounts.lines(containing: project.store).isEmpty)
        let scratch = project.store + "/runtime/build/scratch"
        #expect((try? FileManager.default.contentsOfDirectory(atPath: scratch))?.isEmpty ?? true)
    }

    @Test func aSecretReachesNoBlobNoLogAndNoFileOfTheStore() throws {
        let secret = "s3cr3t-" + UUID().uuidString
        let project = try Self.project("""
        RUN --mount=type=secret,id=token cat /run/secrets/token
        RUN --mount=type=secret,id=token,target=/tmp/t wc -c < /tmp/t > /length
        RUN --mount=type=secret,id=token sh -c 'test -s /run/secrets/token && echo seen > /seen'
        """)
        try Data(secret.utf8).write(to: URL(fileURLWithPath: project.path + "/token.txt"))
        let r = try Self.build(project, ["-t", "secret", "--secret", "id=token,src=token.txt", "-f", "Dockerfile"])
        #expect(r.status == 0, "\(r.err)")
        #expect(!(r.out + r.err).contains(secret))
        #expect(r.err.contains("***"), "the secret's output line is shown redacted: \(r.err)")
        let length = try stackship(["run", "--rm", "--store", project.store, "secret", "cat", "/length", "/seen"], cwd: project.path)
        #expect(length.out == "\(secret.utf8.count)\nseen\n", "\(length.err)")
        // Every file of the store, compressed blobs decompressed.
        let files = FileManager.default.enumerator(atPath: project.store)!.compactMap { $0 as? String }
        var checked = 0
        for rel in files {
            let path = project.store + "/" + rel
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            checked += 1
            #expect(data.range(of: Data(secret.utf8)) == nil, "the secret is in \(rel)")
            if data.starts(with: [0x1f, 0x8b]) {
                let unzipped = try run("/bin/sh", ["-c", "gzip -dc < '\(path)'"])
                #expect(!unzipped.out.contains(secret), "the secret is in the layer \(rel)")
            }
        }
        #expect(checked > 5)
        // A missing required secret is named with the fix.
        try project.write("Dockerfile.need", "FROM scratch\nRUN --mount=type=secret,id=other,required=true true\n")
        expectCleanFailure(try Self.build(project, ["-f", "Dockerfile.need"]), ["Dockerfile.need:2:1", "--secret id=other"])
    }

    @Test func twoCopiesWithOtherFileTimesGiveTheSameDigest() throws {
        let dockerfile = """
        WORKDIR /srv
        COPY app/ ./
        RUN sort names.txt > sorted.txt && chmod 0750 /srv
        ENTRYPOINT ["cat"]
        CMD ["/srv/sorted.txt"]
        """
        var digests: [String] = []
        for stamp in ["200001010000", "202401020304"] {
            let project = try Self.project(dockerfile, files: ["app/names.txt": "b\na\nc\n", "app/sub/x.txt": "x\n"])
            _ = try run("/bin/sh", ["-c", "find . -exec touch -h -t \(stamp) {} +"], cwd: project.path)
            let r = try Self.build(project, ["-t", "repro"])
            #expect(r.status == 0, "\(r.err)")
            digests.append(Self.digest(r) ?? "none")
        }
        #expect(digests.count == 2 && digests[0] == digests[1], "\(digests)")
        // SOURCE_DATE_EPOCH moves the digest (created and file times), as docker's does.
        let project = try Self.project(dockerfile, files: ["app/names.txt": "b\na\nc\n", "app/sub/x.txt": "x\n"])
        let dated = try Self.build(project, ["-t", "repro"], env: ["SOURCE_DATE_EPOCH": "1700000000"])
        #expect(Self.digest(dated) != digests[0])
    }

    @Test func mistakesNameTheLineAndTheFix() throws {
        let project = try Self.project("", files: ["a.txt": "A\n"])
        let cases: [(String, [String])] = [
            ("FROM scratch\nCOPI a.txt /x\n", ["Dockerfile.bad:2:1", "did you mean 'COPY'?"]),
            ("FROM scratch\nCOPY --chwon=1 a.txt /x\n", ["Dockerfile.bad:2:6", "did you mean '--chown'?"]),
            ("FROM scratch\nCOPY ../outside /x\n", ["Dockerfile.bad:2:1", "outside the build context"]),
            ("FROM scratch\nCOPY b.txt /x\n", ["Dockerfile.bad:2:1", "did you mean 'a.txt'?"]),
            ("FROM scratch AS builder\nFROM scratch\nCOPY --from=buidler /a /b\n", ["Dockerfile.bad:3:1", "did you mean 'builder'?"]),
            ("FROM scratch\nCOPY --chmod=rwx a.txt /x\n", ["Dockerfile.bad:2:1", "--chmod=755"]),
            ("FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/a.txt\"]\n", ["Dockerfile.bad:3:1", "could not start"]),
        ]
        for (text, fragments) in cases {
            try project.write("Dockerfile.bad", text)
            let r = try stackship(["build", "--store", project.store, "--pull", "never", "-f", "Dockerfile.bad", "."], cwd: project.path)
            expectCleanFailure(r, fragments)
        }
        expectCleanFailure(try Self.build(project, ["--target", "nope"]), ["target stage 'nope'"])
        // A RUN for another architecture needs binfmt emulation; without it the fix is named.
        let foreign = Platform.host.architecture == "arm64" ? "amd64" : "arm64"
        let emulated = FileManager.default.fileExists(atPath: "/proc/sys/fs/binfmt_misc/qemu-" + (foreign == "arm64" ? "aarch64" : "x86_64"))
        let cross = try Self.build(project, ["--platform", "linux/\(foreign)"])
        if emulated {
            #expect(cross.status == 0, "binfmt emulation is registered, so the RUN runs: \(cross.err)")
        } else {
            expectCleanFailure(cross, ["Dockerfile:3:1", "linux/\(foreign)", "qemu-user-static"])
        }
        expectCleanFailure(try stackship(["build", "--store", project.store, "-f", "missing.Dockerfile", "."], cwd: project.path),
                           ["missing.Dockerfile", "no such Dockerfile"])
        expectCleanFailure(try stackship(["build", "--store", project.store, "--image", "x", "-f", "Dockerfile", "."], cwd: project.path),
                           ["--image"])
        let empty = Project()
        expectCleanFailure(try stackship(["build", "--store", empty.store], cwd: empty.path), ["no stack.yaml or Dockerfile"])
    }

    @Test func gcKeepsTheBuildCacheUntilToldToEmptyIt() throws {
        let project = try Self.project("RUN echo kept > /kept\n")
        #expect(try Self.build(project, ["-t", "kept"]).status == 0)
        #expect(try stackship(["rmi", "--store", project.store, "kept"], cwd: project.path).status == 0)
        #expect(try stackship(["gc", "--store", project.store], cwd: project.path).status == 0)
        let again = try Self.build(project, ["-t", "kept"])
        #expect(Self.counts(again)?.runs == 0, "gc kept the cached layers: \(again.out)")
        let emptied = try stackship(["gc", "--build-cache", "--store", project.store], cwd: project.path)
        #expect(emptied.out.contains("build cache record"), "\(emptied.out)")
        #expect(!FileManager.default.fileExists(atPath: project.store + "/runtime/build/layers"))
        let third = try Self.build(project, ["-t", "kept"])
        #expect(Self.counts(third)?.runs == 2, "\(third.out)")
        #expect(Self.digest(third) == Self.digest(again))
    }

    @Test func addUnpacksLocalArchivesAndChecksDownloads() async throws {
        let project = try Self.project("""
        ADD files.tar.gz /unpacked/
        ADD --checksum=CHECKSUM URL/data.txt /downloaded.txt
        RUN cat /unpacked/dir/inner.txt /downloaded.txt > /both
        """)
        try project.write("tree/dir/inner.txt", "inner\n")
        _ = try run("/bin/sh", ["-c", "tar -C tree -czf files.tar.gz dir"], cwd: project.path)
        let body = "downloaded\n"
        let checksum = "sha256:" + (try run("/bin/sh", ["-c", "printf 'downloaded\\n' | sha256sum | cut -d' ' -f1"]).out.trimmingCharacters(in: .whitespacesAndNewlines))
        try await ScriptedServer.with([ScriptedServer.Response(status: 200, body: body)]) { server in
            let text = try String(contentsOfFile: project.path + "/Dockerfile", encoding: .utf8)
                .replacingOccurrences(of: "CHECKSUM", with: checksum).replacingOccurrences(of: "URL", with: server.endpoint)
            try project.write("Dockerfile", text)
            let r = try Self.build(project, ["-t", "added"])
            #expect(r.status == 0, "\(r.err)")
            let both = try stackship(["run", "--rm", "--store", project.store, "added", "cat", "/both"], cwd: project.path)
            #expect(both.out == "inner\ndownloaded\n", "\(both.err)")
            // Without --checksum the file is downloaded every build and keyed by its content.
            let original = try String(contentsOfFile: project.path + "/Dockerfile", encoding: .utf8)
            try project.write("Dockerfile.plain", original.components(separatedBy: "ADD files.tar.gz")[0] + "ADD \(server.endpoint)/data.txt /plain/\nRUN cat /plain/data.txt > /plain-copy\n")
            let plain = try Self.build(project, ["-f", "Dockerfile.plain", "-t", "plain"])
            #expect(plain.status == 0, "\(plain.err)")
            let copied = try stackship(["run", "--rm", "--store", project.store, "plain", "cat", "/plain-copy"], cwd: project.path)
            #expect(copied.out == "downloaded\n", "\(copied.err)")
            #expect(Self.counts(try Self.build(project, ["-f", "Dockerfile.plain", "-t", "plain"]))?.runs == 0)
            // A wrong checksum fails naming both digests, and nothing is tagged.
            try project.write("Dockerfile.wrong", "FROM scratch\nADD --checksum=sha256:\(String(repeating: "0", count: 64)) \(server.endpoint)/data.txt /d\n")
            let wrong = try Self.build(project, ["-f", "Dockerfile.wrong", "-t", "wrong"])
            expectCleanFailure(wrong, ["Dockerfile.wrong:2:1", "does not match --checksum", checksum])
        }
    }
}

extension DockerfileBuildIntegrationTests {
    @Test func aStackFileImageBuiltFromADockerfileBuildsAndRuns() throws {
        let project = try Self.project("""
        ARG GREETING=hi
        RUN echo "$GREETING" > /greeting
        FROM base AS final
        CMD ["cat", "/greeting"]
        """)
        try project.write("stack.yaml", """
        images:
          web:
            dockerfile: Dockerfile
            args: {GREETING: from the stack}
            target: final
            tags: [web:1]
        """)
        let r = try stackship(["build", "--store", project.store], cwd: project.path)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("web: sha256:") && r.out.contains("(Dockerfile;"), "\(r.out)")
        let ran = try stackship(["run", "--rm", "--store", project.store, "web:1"], cwd: project.path)
        #expect(ran.out == "from the stack\n", "\(ran.err)")
        let again = try stackship(["build", "--store", project.store, "--image", "web", "-t", "web:extra"], cwd: project.path)
        #expect(again.out.contains("3 of 3 steps cached, 0 RUN executed"), "\(again.out)")
        // docker's -t on a stack build names the one image built.
        let extra = try stackship(["run", "--rm", "--store", project.store, "web:extra"], cwd: project.path)
        #expect(extra.out == "from the stack\n", "\(extra.err)")
        try project.write("stack.yaml", "images:\n  web:\n    dockerfile: Dockerfile\n  other: {}\n")
        expectCleanFailure(try stackship(["build", "--store", project.store, "-t", "x"], cwd: project.path), ["--image NAME", "web, other"])
    }
}

extension DockerfileBuildIntegrationTests {
    @Test func aBasesOnBuildTriggersRunInTheImageBuiltOnItAndStopThere() throws {
        let project = try Self.project("""
        ONBUILD COPY trigger.txt /from-trigger.txt
        ONBUILD RUN echo ran > /triggered
        """, files: ["trigger.txt": "copied by the trigger\n"])
        #expect(try Self.build(project, ["-t", "onbase"]).status == 0)
        let config = try stackship(["inspect", "--store", project.store, "--json", "onbase"], cwd: project.path)
        #expect(config.out.contains("ONBUILD RUN echo ran > /triggered") || config.out.contains("RUN echo ran > /triggered"), "\(config.out)")
        try project.write("Dockerfile.child", "FROM onbase\nCMD [\"cat\", \"/triggered\", \"/from-trigger.txt\"]\n")
        let child = try stackship(["build", "--store", project.store, "--pull", "never", "-f", "Dockerfile.child", "-t", "child", "."], cwd: project.path)
        #expect(child.status == 0, "\(child.err)")
        let ran = try stackship(["run", "--rm", "--store", project.store, "child"], cwd: project.path)
        #expect(ran.out == "ran\ncopied by the trigger\n", "\(ran.err)")
        let childConfig = try stackship(["inspect", "--store", project.store, "--json", "child"], cwd: project.path)
        #expect(config.out.contains("\"OnBuild\""))
        #expect(!childConfig.out.contains("\"OnBuild\""), "the triggers are not passed on: \(childConfig.out)")
    }
}

extension DockerfileBuildIntegrationTests {
    @Test func aBindMountOfTheContextShowsWhatDockerignoreLeaves() throws {
        let project = try Self.project("""
        RUN --mount=type=bind,target=/ctx ls -a /ctx /ctx/sub > /listing
        RUN --mount=type=bind,source=sub,target=/sub,rw sh -c 'echo changed > /sub/kept.txt && cat /sub/kept.txt > /copy'
        COPY . /copied/
        RUN ls -a /copied > /copied-listing
        """, files: ["secret.env": "TOKEN=1\n", "sub/kept.txt": "kept\n", "sub/drop.log": "x\n", ".dockerignore": "secret.env\n**/*.log\n"])
        let r = try Self.build(project, ["-t", "ignored"])
        #expect(r.status == 0, "\(r.err)")
        let listing = try stackship(["run", "--rm", "--store", project.store, "ignored", "cat", "/listing", "/copy"], cwd: project.path)
        #expect(listing.out.contains("kept.txt") && listing.out.contains("Dockerfile"), "\(listing.out)")
        #expect(!listing.out.contains("secret.env") && !listing.out.contains("drop.log"), "\(listing.out)")
        #expect(listing.out.hasSuffix("changed\n"), "\(listing.out)")
        // The store, which lies in the context by default (.stackship/store), is never part of it.
        let copied = try stackship(["run", "--rm", "--store", project.store, "ignored", "cat", "/copied-listing"], cwd: project.path)
        #expect(copied.out.contains("Dockerfile") && !copied.out.contains(".stackship") && !copied.out.contains("secret.env"), "\(copied.out)")
        try project.write("Dockerfile.store", "FROM scratch\nCOPY .stackship/store/index.json /x\n")
        expectCleanFailure(try Self.build(project, ["-f", "Dockerfile.store"]), ["Dockerfile.store:2:1", "stackship's own store"])
        // A writable bind never changes the context.
        #expect(try String(contentsOfFile: project.path + "/sub/kept.txt", encoding: .utf8) == "kept\n")
    }
}

extension DockerfileBuildIntegrationTests {
    /// A context's symlinks resolve inside the context, and an ADDed archive's entries land
    /// inside the destination, whatever `..` or links they hold.
    @Test func hostileContextsAndArchivesStayInside() throws {
        let project = try Self.project("""
        COPY escape/ /copied/
        RUN ls -la /copied > /listing
        """)
        try FileManager.default.createSymbolicLink(atPath: project.path + "/escape", withDestinationPath: "/etc")
        try FileManager.default.createSymbolicLink(atPath: project.path + "/passwd-link", withDestinationPath: "/etc/passwd")
        // `escape` is /etc as the context sees it: the context has no etc, so nothing is found.
        let r = try Self.build(project, ["-t", "hostile"])
        expectCleanFailure(r, ["Dockerfile:4:1", "escape"])
        try project.write("Dockerfile.link", "FROM scratch\nCOPY passwd-link /x\n")
        expectCleanFailure(try Self.build(project, ["-f", "Dockerfile.link"]), ["Dockerfile.link:2:1", "passwd-link"])
        // An archive whose entry climbs out is refused whole, naming the entry; nothing lands.
        let canary = project.path + "/../canary-\(UUID().uuidString)"
        let canaryName = String(canary.split(separator: "/").last!)
        func archive(_ file: String, climbing: Bool) throws {
            _ = try run("/usr/bin/python3", ["-c", """
            import tarfile, io
            with tarfile.open('\(project.path)/\(file)', 'w') as t:
                entries = [('ok.txt', b'fine')] + ([('../../../../../../\(canaryName)', b'x')] if \(climbing ? "True" : "False") else [])
                for name, data in entries:
                    info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
                link = tarfile.TarInfo('tmp-link'); link.type = tarfile.SYMTYPE; link.linkname = '/tmp'; t.addfile(link)
                info = tarfile.TarInfo('tmp-link/evil-through-link'); info.size = 1; t.addfile(info, io.BytesIO(b'y'))
            """])
        }
        try archive("climbing.tar", climbing: true)
        try archive("linked.tar", climbing: false)
        let prefix = try String(contentsOfFile: project.path + "/Dockerfile", encoding: .utf8).components(separatedBy: "COPY escape/")[0]
        try project.write("Dockerfile.climbing", prefix + "ADD climbing.tar /unpacked/\n")
        expectCleanFailure(try Self.build(project, ["-f", "Dockerfile.climbing", "-t", "climbing"]), ["Dockerfile.climbing:4:1", "climbs out"])
        #expect(!FileManager.default.fileExists(atPath: canary), "an archive entry escaped to \(canary)")
        // A file written through a link the archive made is refused too, never written to the host's /tmp.
        try project.write("Dockerfile.archive", prefix + "ADD linked.tar /unpacked/\n")
        expectCleanFailure(try Self.build(project, ["-f", "Dockerfile.archive", "-t", "archive"]),
                           ["Dockerfile.archive:4:1", "tmp-link/evil-through-link", "symlink"])
        #expect(!FileManager.default.fileExists(atPath: "/tmp/evil-through-link"))
        let images = try stackship(["images", "--store", project.store], cwd: project.path)
        #expect(!images.out.contains("climbing") && !images.out.contains("archive"), "\(images.out)")
    }
}
