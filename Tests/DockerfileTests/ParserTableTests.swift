import Dockerfile
import Testing

/// One small Dockerfile per feature, with the model it must read as.
struct ParserCase: Sendable, CustomTestStringConvertible {
    struct Stage: Sendable {
        var base: String
        var name: String?
        var platform: String?
        var kinds: [InstructionKind]
    }

    var title: String
    var text: String
    var globals: [InstructionKind] = []
    var stages: [Stage]

    var testDescription: String { title }

    init(_ title: String, _ text: String, globals: [InstructionKind] = [], base: String = "alpine", _ kinds: [InstructionKind]) {
        self.title = title
        self.text = text
        self.globals = globals
        stages = [Stage(base: base, kinds: kinds)]
    }

    init(_ title: String, _ text: String, globals: [InstructionKind] = [], stages: [Stage]) {
        self.title = title
        self.text = text
        self.globals = globals
        self.stages = stages
    }
}

private func run(_ text: String) -> InstructionKind { .run(RunInstruction(command: .shell(text))) }

private func mounted(_ spec: String, _ mount: RunMount, command: String) -> InstructionKind {
    var mount = mount
    mount.spec = spec
    return .run(RunInstruction(command: .shell(command), mounts: [mount]))
}

let parserCases: [ParserCase] = [
    ParserCase("a FROM alone", "FROM alpine:3.20\n", base: "alpine:3.20", []),
    ParserCase("a stage name, lowercased as Docker stores it", "FROM golang:1.22 AS Build\n",
               stages: [.init(base: "golang:1.22", name: "build", kinds: [])]),
    ParserCase("AS in any case", "FROM golang as builder",
               stages: [.init(base: "golang", name: "builder", kinds: [])]),
    ParserCase("FROM --platform", "FROM --platform=$BUILDPLATFORM golang AS build",
               stages: [.init(base: "golang", name: "build", platform: "$BUILDPLATFORM", kinds: [])]),
    ParserCase("keywords in any case", "from alpine\nRuN echo hi\n", [run("echo hi")]),
    ParserCase("comments and blank lines", "# a comment\n\nFROM alpine\n\n   # indented comment\nRUN true\n", [run("true")]),
    ParserCase("leading white space before instructions", "   FROM alpine\n\t  RUN true", [run("true")]),
    ParserCase("a line continuation keeps the next line's indentation", "FROM alpine\nRUN echo hello \\\n    world\n",
               [run("echo hello     world")]),
    ParserCase("a comment inside a continuation is dropped", "FROM alpine\nRUN echo hello \\\n# comment\nworld\n",
               [run("echo hello world")]),
    ParserCase("# inside an argument is not a comment", "FROM alpine\nRUN echo 'we are running some # of cool things'",
               [run("echo 'we are running some # of cool things'")]),
    ParserCase("CRLF line endings", "FROM alpine\r\nRUN echo hi\r\n", [run("echo hi")]),
    ParserCase("a byte-order mark", "\u{FEFF}FROM alpine\nUSER app", [.user("app")]),
    ParserCase("ARG with several names", "FROM alpine\nARG a=1 b c=",
               [.arg([ArgDeclaration(name: "a", defaultValue: "1"), ArgDeclaration(name: "b"), ArgDeclaration(name: "c", defaultValue: "")])]),
    ParserCase("a global ARG used in FROM", "ARG VERSION=1.22\nFROM golang:${VERSION}",
               globals: [.arg([ArgDeclaration(name: "VERSION", defaultValue: "1.22")])], base: "golang:${VERSION}", []),
    ParserCase("ENV pairs keep their quotes and escapes until expansion", "FROM alpine\nENV A=1 B=\"two words\" C=three\\ words",
               [.env([KeyValue(key: "A", value: "1"), KeyValue(key: "B", value: "\"two words\""), KeyValue(key: "C", value: "three\\ words")])]),
    ParserCase("legacy ENV key value", "FROM alpine\nENV PATH /usr/local/bin:$PATH",
               [.env([KeyValue(key: "PATH", value: "/usr/local/bin:$PATH", legacyForm: true)])]),
    ParserCase("LABEL pairs", "FROM alpine\nLABEL org.opencontainers.image.title=\"app\" version=1.0",
               [.label([KeyValue(key: "org.opencontainers.image.title", value: "\"app\""), KeyValue(key: "version", value: "1.0")])]),
    ParserCase("WORKDIR", "FROM alpine\nWORKDIR /app", [.workdir("/app")]),
    ParserCase("USER with a group", "FROM alpine\nUSER app:staff", [.user("app:staff")]),
    ParserCase("COPY with several sources", "FROM alpine\nCOPY a.txt b.txt /dst/",
               [.copy(CopyInstruction(sources: [.path("a.txt"), .path("b.txt")], destination: "/dst/"))]),
    ParserCase("COPY with every flag",
               "FROM alpine\nCOPY --from=build --chown=1000:1000 --chmod=0755 --link --parents --exclude=*.tmp --exclude=*.log src /dst",
               [.copy(CopyInstruction(sources: [.path("src")], destination: "/dst", from: "build", chown: "1000:1000", chmod: "0755",
                                      link: true, parents: true, excludes: ["*.tmp", "*.log"]))]),
    ParserCase("empty flag values count as unset, as in BuildKit", "FROM --platform= alpine\nCOPY --from= --chown= a /b",
               [.copy(CopyInstruction(sources: [.path("a")], destination: "/b"))]),
    ParserCase("COPY in JSON form keeps spaces in paths", "FROM alpine\nCOPY [\"my file.txt\", \"/dst dir/\"]",
               [.copy(CopyInstruction(sources: [.path("my file.txt")], destination: "/dst dir/"))]),
    ParserCase("ADD --checksum", "FROM alpine\nADD --checksum=sha256:24454f830cdd https://example.com/a.tar.gz /",
               [.add(AddInstruction(sources: [.path("https://example.com/a.tar.gz")], destination: "/", checksum: "sha256:24454f830cdd"))]),
    ParserCase("ADD --keep-git-dir, --link and --unpack", "FROM alpine\nADD --keep-git-dir=true --link --unpack=false git@github.com:moby/buildkit.git /bk",
               [.add(AddInstruction(sources: [.path("git@github.com:moby/buildkit.git")], destination: "/bk", keepGitDir: true, link: true, unpack: false))]),
    ParserCase("RUN in shell form", "FROM alpine\nRUN apt-get update && apt-get install -y curl", [run("apt-get update && apt-get install -y curl")]),
    ParserCase("RUN in exec form", "FROM alpine\nRUN [\"/bin/bash\", \"-c\", \"echo hi\"]",
               [.run(RunInstruction(command: .exec(["/bin/bash", "-c", "echo hi"])))]),
    ParserCase("RUN --mount=type=cache", "FROM alpine\nRUN --mount=type=cache,target=/root/.cache/go-build,id=gocache,sharing=locked go build",
               [mounted("type=cache,target=/root/.cache/go-build,id=gocache,sharing=locked",
                        RunMount(type: .cache, target: "/root/.cache/go-build", id: "gocache", sharing: .locked), command: "go build")]),
    ParserCase("RUN --mount=type=bind from a stage, read-write", "FROM alpine\nRUN --mount=type=bind,from=build,source=/out,target=/in,rw ls /in",
               [mounted("type=bind,from=build,source=/out,target=/in,rw",
                        RunMount(type: .bind, from: "build", source: "/out", target: "/in", readOnly: false), command: "ls /in")]),
    ParserCase("RUN --mount=type=secret as an environment variable", "FROM alpine\nRUN --mount=type=secret,id=token,env=TOKEN,required=true ./deploy",
               [mounted("type=secret,id=token,env=TOKEN,required=true",
                        RunMount(type: .secret, id: "token", required: true, env: "TOKEN"), command: "./deploy")]),
    ParserCase("RUN --mount=type=tmpfs with a size", "FROM alpine\nRUN --mount=type=tmpfs,target=/scratch,size=64m make",
               [mounted("type=tmpfs,target=/scratch,size=64m", RunMount(type: .tmpfs, target: "/scratch", sizeLimit: 64 << 20), command: "make")]),
    ParserCase("RUN --mount=type=ssh with mode and uid", "FROM alpine\nRUN --mount=type=ssh,mode=0600,uid=1000 git clone x",
               [mounted("type=ssh,mode=0600,uid=1000", RunMount(type: .ssh, mode: 0o600, uid: 1000), command: "git clone x")]),
    ParserCase("RUN --network=none", "FROM alpine\nRUN --network=none make test",
               [.run(RunInstruction(command: .shell("make test"), network: .none))]),
    ParserCase("RUN --security=insecure", "FROM alpine\nRUN --security=insecure make",
               [.run(RunInstruction(command: .shell("make"), security: .insecure))]),
    ParserCase("RUN with a here-document", "FROM debian\nRUN <<EOF\napt-get update\napt-get install -y vim\nEOF\n", base: "debian",
               [.run(RunInstruction(command: .shell("<<EOF"),
                                    heredocs: [Heredoc(name: "EOF", rawContent: "apt-get update\napt-get install -y vim\n")]))]),
    ParserCase("two here-documents on one line", "FROM alpine\nRUN <<FILE1 cat > file1 && <<FILE2 cat > file2\nI am\nfirst\nFILE1\nI am\nsecond\nFILE2\n",
               [.run(RunInstruction(command: .shell("<<FILE1 cat > file1 && <<FILE2 cat > file2"),
                                    heredocs: [Heredoc(name: "FILE1", rawContent: "I am\nfirst\n"), Heredoc(name: "FILE2", rawContent: "I am\nsecond\n")]))]),
    ParserCase("<<- strips tabs, delimiter line included", "FROM alpine\nRUN <<-EOT\n\techo hi\n\tEOT\n",
               [.run(RunInstruction(command: .shell("<<-EOT"), heredocs: [Heredoc(name: "EOT", rawContent: "\techo hi\n", stripsLeadingTabs: true)]))]),
    ParserCase("COPY from a here-document", "FROM alpine\nCOPY <<EOF /greeting.txt\nhello world\nEOF\n",
               [.copy(CopyInstruction(sources: [.inline(Heredoc(name: "EOF", rawContent: "hello world\n"))], destination: "/greeting.txt"))]),
    ParserCase("a quoted delimiter turns expansion off", "FROM alpine\nCOPY <<-\"EOT\" /script.sh\n  echo \"hello ${FOO}\"\nEOT\n",
               [.copy(CopyInstruction(sources: [.inline(Heredoc(name: "EOT", rawContent: "  echo \"hello ${FOO}\"\n", expands: false,
                                                                stripsLeadingTabs: true))], destination: "/script.sh"))]),
    ParserCase("EXPOSE ports, protocols and ranges", "FROM alpine\nEXPOSE 80 53/udp 8000-8010", [.expose(["80", "53/udp", "8000-8010"])]),
    ParserCase("VOLUME as JSON", "FROM alpine\nVOLUME [\"/data\", \"/logs\"]", [.volume(["/data", "/logs"])]),
    ParserCase("VOLUME as words", "FROM alpine\nVOLUME /data /logs", [.volume(["/data", "/logs"])]),
    ParserCase("ENTRYPOINT in exec form", "FROM alpine\nENTRYPOINT [\"/usr/local/bin/app\", \"--serve\"]",
               [.entrypoint(.exec(["/usr/local/bin/app", "--serve"]))]),
    ParserCase("CMD in shell form", "FROM alpine\nCMD app --port 80", [.cmd(.shell("app --port 80"))]),
    ParserCase("malformed JSON runs in shell form", "FROM alpine\nCMD ['a', 'b']", [.cmd(.shell("['a', 'b']"))]),
    ParserCase("SHELL", "FROM alpine\nSHELL [\"powershell\", \"-command\"]", [.shell(["powershell", "-command"])]),
    ParserCase("HEALTHCHECK NONE", "FROM alpine\nHEALTHCHECK NONE", [.healthcheck(Healthcheck(test: .none))]),
    ParserCase("HEALTHCHECK with every option",
               "FROM alpine\nHEALTHCHECK --interval=5m --timeout=3s --start-period=1m30s --start-interval=500ms --retries=3 \\\n  CMD curl -f http://localhost/ || exit 1",
               [.healthcheck(Healthcheck(test: .command(.shell("curl -f http://localhost/ || exit 1")), interval: .seconds(300), timeout: .seconds(3),
                                         startPeriod: .seconds(90), startInterval: .milliseconds(500), retries: 3))]),
    ParserCase("HEALTHCHECK in exec form", "FROM alpine\nHEALTHCHECK CMD [\"/bin/check\", \"--quick\"]",
               [.healthcheck(Healthcheck(test: .command(.exec(["/bin/check", "--quick"]))))]),
    ParserCase("STOPSIGNAL", "FROM alpine\nSTOPSIGNAL SIGQUIT", [.stopSignal("SIGQUIT")]),
    ParserCase("ONBUILD with its trigger parsed", "FROM alpine\nONBUILD RUN make",
               [.onbuild(Instruction(kind: run("make"), location: DockerfileLocation(line: 2, column: 9), original: "RUN make"))]),
    ParserCase("MAINTAINER", "FROM alpine\nMAINTAINER Jane <jane@example.com>", [.maintainer("Jane <jane@example.com>")]),
    ParserCase("two stages", "FROM golang AS build\nRUN go build\nFROM scratch\nCOPY --from=build /app /app",
               stages: [.init(base: "golang", name: "build", kinds: [run("go build")]),
                        .init(base: "scratch", kinds: [.copy(CopyInstruction(sources: [.path("/app")], destination: "/app", from: "build"))])]),
    ParserCase("the escape directive's backtick (Docker's Windows example)",
               "# escape=`\n\nFROM microsoft/nanoserver\nCOPY testfile.txt c:\\\nRUN dir c:\\\n", base: "microsoft/nanoserver",
               [.copy(CopyInstruction(sources: [.path("testfile.txt")], destination: "c:\\")), run("dir c:\\")]),
    ParserCase("a backtick continues lines under escape=`", "# escape=`\nFROM alpine\nRUN echo a `\n    b", [run("echo a     b")]),
]

@Suite struct ParserTableTests {
    @Test(arguments: parserCases)
    func readsAsExpected(_ example: ParserCase) throws {
        let dockerfile = try Dockerfile.parse(example.text)
        #expect(dockerfile.globalArgs.map(\.kind) == example.globals)
        #expect(dockerfile.stages.count == example.stages.count)
        for (stage, expected) in zip(dockerfile.stages, example.stages) {
            #expect(stage.baseName == expected.base)
            #expect(stage.name == expected.name)
            #expect(stage.platform == expected.platform)
            #expect(stage.instructions.map(\.kind) == expected.kinds)
        }
    }

    @Test func theTableHasAtLeastFortyCases() {
        #expect(parserCases.count >= 40)
    }
}
