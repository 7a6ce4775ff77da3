import Dockerfile
import Testing

/// Build arguments, ARG scoping and ENV, with Docker's documented examples.
@Suite struct ResolutionTests {
    @Test func theEnvironmentReplacementExample() throws {
        // The reference's example: values shown after each `#` there.
        let kinds = try resolvedKinds("FROM busybox\nENV FOO=/bar\nWORKDIR ${FOO}\nADD . $FOO\nCOPY \\$FOO /quux\n")
        #expect(kinds[1] == .workdir("/bar"))
        #expect(kinds[2] == .add(AddInstruction(sources: [.path(".")], destination: "/bar")))
        #expect(kinds[3] == .copy(CopyInstruction(sources: [.path("$FOO")], destination: "/quux")))
    }

    @Test func oneInstructionSeesTheValuesFromBeforeIt() throws {
        // "ENV abc=hello / ENV abc=bye def=$abc / ENV ghi=$abc": def is hello, ghi is bye.
        let stage = try #require(try resolve("FROM busybox\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\n").last)
        #expect(stage.imageEnvironment["def"] == "hello")
        #expect(stage.imageEnvironment["ghi"] == "bye")
        #expect(stage.steps[1].environment["abc"] == "hello")
    }

    @Test func globalArgumentsServeFromLinesOnly() throws {
        let text = """
            ARG  CODE_VERSION=latest
            FROM base:${CODE_VERSION}
            CMD  /code/run-app
            FROM extras:${CODE_VERSION}
            RUN echo $CODE_VERSION
            WORKDIR /v/${CODE_VERSION:-none}
            ARG CODE_VERSION
            WORKDIR /v/${CODE_VERSION}
            """
        let plan = try BuildPlan(try Dockerfile.parse(text))
        #expect(plan.stages.map(\.base) == [.image("base:latest"), .image("extras:latest")])
        let stage = try #require(try plan.resolve().last)
        // Not seen before the stage declares it again; then its global value.
        #expect(stage.steps[1].instruction.kind == .workdir("/v/none"))
        #expect(stage.steps[3].instruction.kind == .workdir("/v/latest"))
        // A build argument wins over the default everywhere.
        let given = try BuildPlan(try Dockerfile.parse(text), options: BuildOptions(buildArguments: ["CODE_VERSION": "2.0"]))
        #expect(given.stages.map(\.baseName) == ["base:2.0", "extras:2.0"])
        #expect(try given.resolve().last?.steps[3].instruction.kind == .workdir("/v/2.0"))
    }

    @Test func anArgTakesEffectFromItsLine() throws {
        // The reference's Scope example, built with --build-arg username=what_user.
        let kinds = try resolvedKinds("FROM busybox\nUSER ${username:-some_user}\nARG username\nUSER $username\n",
                                      arguments: ["username": "what_user"])
        #expect(kinds[0] == .user("some_user"))
        #expect(kinds[1] == .arg([ArgDeclaration(name: "username", defaultValue: "what_user")]))
        #expect(kinds[2] == .user("what_user"))
    }

    @Test func envOverridesAnEarlierArg() throws {
        // The reference's CONT_IMG_VER examples.
        let fixed = try #require(try resolve("FROM ubuntu\nARG CONT_IMG_VER\nENV CONT_IMG_VER=v1.0.0\nRUN echo $CONT_IMG_VER\n",
                                             arguments: ["CONT_IMG_VER": "v2.0.1"]).last)
        #expect(fixed.steps[2].environment["CONT_IMG_VER"] == "v1.0.0")
        let text = "FROM ubuntu\nARG CONT_IMG_VER\nENV CONT_IMG_VER=${CONT_IMG_VER:-v1.0.0}\nRUN echo $CONT_IMG_VER\n"
        #expect(try resolve(text, arguments: ["CONT_IMG_VER": "v2.0.1"]).last?.imageEnvironment["CONT_IMG_VER"] == "v2.0.1")
        #expect(try resolve(text).last?.imageEnvironment["CONT_IMG_VER"] == "v1.0.0")
        // ARG values reach RUN but not the image config.
        let stage = try #require(try resolve("FROM ubuntu\nARG TOKEN=abc\nRUN make\n").last)
        #expect(stage.steps[1].environment["TOKEN"] == "abc")
        #expect(stage.imageEnvironment["TOKEN"] == nil)
    }

    @Test func argsOnOneLineSeeEachOtherInOrder() throws {
        let kinds = try resolvedKinds("FROM alpine\nARG a=1 b=${a}2\n")
        #expect(kinds[0] == .arg([ArgDeclaration(name: "a", defaultValue: "1"), ArgDeclaration(name: "b", defaultValue: "12")]))
    }

    @Test func platformArgumentsComeFromTheCallerAndNeedRedeclaring() throws {
        let text = "FROM --platform=$BUILDPLATFORM golang AS build\nRUN echo $TARGETARCH\nARG TARGETOS TARGETARCH\nENV GOOS=$TARGETOS GOARCH=$TARGETARCH\n"
        let options = BuildOptions(targetPlatform: BuildPlatform(os: "linux", architecture: "arm64"),
                                   buildPlatform: BuildPlatform(os: "linux", architecture: "amd64"))
        let plan = try BuildPlan(try Dockerfile.parse(text), options: options)
        #expect(plan.stages[0].platform == "linux/amd64")
        #expect(plan.globalArguments["TARGETPLATFORM"] == "linux/arm64")
        let stage = try #require(try plan.resolve().first)
        #expect(stage.steps[0].environment["TARGETARCH"] == nil)
        #expect(stage.imageEnvironment["GOOS"] == "linux")
        #expect(stage.imageEnvironment["GOARCH"] == "arm64")
    }

    @Test func unusedBuildArgumentsAreReported() throws {
        let text = "ARG USED_IN_FROM=3\nFROM alpine:$USED_IN_FROM AS a\nARG USED\nFROM alpine AS b\nARG ONLY_IN_B\n"
        let arguments = ["USED": "1", "USED_IN_FROM": "3.20", "TYPO": "x", "HTTP_PROXY": "http://proxy:3128", "ONLY_IN_B": "y"]
        let plan = try BuildPlan(try Dockerfile.parse(text), options: BuildOptions(buildArguments: arguments, target: "a"))
        // ONLY_IN_B is declared in a stage this target does not build.
        #expect(plan.unusedBuildArguments == ["ONLY_IN_B", "TYPO"])
        #expect(plan.proxyEnvironment.list == ["HTTP_PROXY=http://proxy:3128"])
    }

    @Test func aStageBasedOnAStageInheritsItsVariables() throws {
        let stages = try resolve("FROM alpine AS base\nARG VERSION=1\nENV HOME=/home/app\nFROM base\nWORKDIR $HOME/$VERSION\n")
        #expect(stages.count == 2)
        #expect(stages[1].steps[0].instruction.kind == .workdir("/home/app/1"))
    }

    @Test func baseImageVariablesAreVisibleAndPATHHasADefault() throws {
        let stages = try resolve("FROM node:20\nWORKDIR $HOME/app\nFROM scratch\nENV P=$PATH\n", target: nil) { reference in
            reference == "node:20" ? ["HOME=/root", "PATH=/usr/local/bin:/usr/bin", "NODE_VERSION=20.1"] : []
        }
        #expect(stages.count == 1)
        #expect(stages[0].imageEnvironment["P"] == BuildPlan.defaultPath)
        let node = try resolve("FROM node:20\nWORKDIR $HOME/app\n") { _ in ["HOME=/root", "PATH=/usr/local/bin:/usr/bin"] }
        #expect(node[0].steps[0].instruction.kind == .workdir("/root/app"))
        #expect(node[0].imageEnvironment.list == ["HOME=/root", "PATH=/usr/local/bin:/usr/bin"])
    }

    @Test func exposeSplitsWordsAfterExpansionAndNormalises() throws {
        let kinds = try resolvedKinds("FROM alpine\nARG PORTS=\"80 443/UDP\"\nEXPOSE $PORTS 8000-8002/tcp\n")
        #expect(kinds[1] == .expose(["80/tcp", "443/udp", "8000/tcp", "8001/tcp", "8002/tcp"]))
        #expect(throws: DockerfileError.invalidPort(value: "80/quic", reason: "unknown protocol 'quic' (use tcp, udp or sctp)",
                                                    at: DockerfileLocation(line: 2, column: 1))) {
            try resolve("FROM alpine\nEXPOSE 80/quic\n")
        }
        #expect(throws: DockerfileError.self) { try resolve("FROM alpine\nEXPOSE 70000\n") }
    }

    @Test func hereDocumentBodiesExpandUnlessTheDelimiterIsQuoted() throws {
        // The reference's script.sh examples, with ARG FOO=bar.
        let expanded = try resolvedKinds("FROM alpine\nARG FOO=bar\nCOPY <<-EOT /script.sh\n\techo \"hello ${FOO}\"\nEOT\n")
        #expect(expanded[1] == .copy(CopyInstruction(sources: [.inline(Heredoc(name: "EOT", rawContent: "echo \"hello bar\"\n"))],
                                                     destination: "/script.sh")))
        let quoted = try resolvedKinds("FROM alpine\nARG FOO=bar\nCOPY <<-\"EOT\" /script.sh\n  echo \"hello ${FOO}\"\nEOT\n")
        guard case let .copy(copy) = quoted[1], case let .inline(heredoc) = copy.sources[0] else {
            Issue.record("not an inline COPY: \(quoted[1])")
            return
        }
        #expect(heredoc.content == "  echo \"hello ${FOO}\"\n")
    }

    @Test func runCommandsAreLeftToTheShellButMountValuesExpand() throws {
        let kinds = try resolvedKinds("FROM alpine\nARG CACHE=/root/.cache\nRUN --mount=type=cache,target=$CACHE,id=${CACHE}-id echo $CACHE\n")
        #expect(kinds[1] == .run(RunInstruction(command: .shell("echo $CACHE"), mounts: [
            RunMount(spec: "type=cache,target=$CACHE,id=${CACHE}-id", type: .cache, target: "/root/.cache", id: "/root/.cache-id"),
        ])))
        // A variable holding the type is read once expanded.
        let typed = try resolvedKinds("FROM alpine\nARG T=tmpfs\nRUN --mount=type=$T,target=/t x\n")
        guard case let .run(run) = typed[1] else {
            Issue.record("not a RUN")
            return
        }
        #expect(run.mounts[0].type == .tmpfs)
    }

    @Test func expansionErrorsPointAtTheInstruction() {
        let error = dockerfileError { () throws(DockerfileError) in
            let plan = try BuildPlan(try Dockerfile.parse("FROM alpine\n\n  WORKDIR ${DIR:?set DIR with --build-arg}\n"))
            _ = try plan.resolve()
        }
        #expect(error == .substitution(text: "${DIR:?set DIR with --build-arg}", reason: "DIR: set DIR with --build-arg",
                                       at: DockerfileLocation(line: 3, column: 3)))
    }

    @Test func runInvocationsFollowBuildKit() throws {
        let dockerfile = try Dockerfile.parse("""
            FROM alpine
            RUN <<EOF
            #!/usr/bin/env python3
            print("hi")
            EOF
            RUN <<EOF
            echo plain
            EOF
            RUN <<A cat > a && <<-B cat > b
            one
            A
            \ttwo
            \tB
            RUN ["echo", "exec"]
            """)
        func run(_ index: Int) throws -> RunInstruction {
            guard case let .run(run) = dockerfile.stages[0].instructions[index].kind else { throw DockerfileError.emptyDockerfile }
            return run
        }
        let script = try run(0).invocation()
        #expect(script.arguments == ["/bin/sh", "-c", "/dev/pipes/EOF"])
        #expect(script.files == [RunInvocation.InlineFile(path: "/dev/pipes/EOF", content: "#!/usr/bin/env python3\nprint(\"hi\")\n", mode: 0o755)])
        #expect(try run(1).invocation().arguments == ["/bin/sh", "-c", "echo plain\n"])
        #expect(try run(2).invocation(shell: ["/bin/bash", "-c"]).arguments == ["/bin/bash", "-c", "<<A cat > a && <<-B cat > b\none\nA\n\ttwo\nB"])
        #expect(try run(3).invocation().arguments == ["echo", "exec"])
    }
}
