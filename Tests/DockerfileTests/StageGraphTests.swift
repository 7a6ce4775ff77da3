import Dockerfile
import Testing

/// `--target`, the stages a target needs, and the references between stages.
@Suite struct StageGraphTests {
    let multiStage = """
        FROM golang:1.22 AS deps
        RUN go mod download
        FROM deps AS build
        RUN --mount=type=cache,target=/root/.cache go build -o /app
        FROM alpine AS tools
        RUN apk add curl
        FROM build AS test
        RUN go test ./...
        FROM scratch AS release
        COPY --from=build /app /app
        COPY --from=tools /usr/bin/curl /usr/bin/curl
        COPY --from=busybox:1.36 /bin/busybox /bin/busybox
        """

    @Test func theLastStageIsTheDefaultTarget() throws {
        let plan = try BuildPlan(try Dockerfile.parse(multiStage))
        #expect(plan.targetIndex == 4)
        #expect(plan.requiredStages == [0, 1, 2, 4])
        #expect(plan.stages[4].dependencies.map(\.source) == [.stage(1), .stage(2), .image("busybox:1.36")])
        #expect(plan.stages[1].base == .stage(0))
        #expect(plan.stages[4].base == .scratch)
    }

    @Test func theParsedModelKnowsLiteralBases() throws {
        let dockerfile = try Dockerfile.parse(multiStage + "\nARG V\nFROM alpine:$V\n")
        #expect((0..<6).map { dockerfile.base(ofStage: $0) } == [.image("golang:1.22"), .stage(0), .image("alpine"), .stage(1), .scratch, nil])
        #expect(dockerfile.base(ofStage: 9) == nil)
        #expect(dockerfile.stageIndex(named: "Build") == 1)
    }

    @Test func aTargetNeedsOnlyWhatItReaches() throws {
        let plan = try BuildPlan(try Dockerfile.parse(multiStage), options: BuildOptions(target: "TEST"))
        #expect(plan.target.name == "test")
        #expect(plan.requiredStages == [0, 1, 3])
        #expect(try plan.resolve().map(\.index) == [0, 1, 3])
    }

    @Test func anUnknownTargetSuggestsOne() {
        let error = dockerfileError { () throws(DockerfileError) in
            _ = try BuildPlan(try Dockerfile.parse(multiStage), options: BuildOptions(target: "relase"))
        }
        #expect(error == .unknownTarget(name: "relase", suggestion: "release", available: ["deps", "build", "tools", "test", "release"]))
        #expect(error?.description == "target stage 'relase' is not in the Dockerfile; did you mean 'release'?")
    }

    @Test func copyFromAcceptsIndexesNamesAndImages() throws {
        let plan = try BuildPlan(try Dockerfile.parse("FROM alpine\nRUN true\nFROM alpine\nCOPY --from=0 /a /a\nCOPY --from=nginx:latest /b /b\n"))
        #expect(plan.stages[1].dependencies.map(\.source) == [.stage(0), .image("nginx:latest")])
        #expect(plan.requiredStages == [0, 1])
        let error = dockerfileError { () throws(DockerfileError) in
            _ = try BuildPlan(try Dockerfile.parse("FROM alpine\nFROM alpine\nCOPY --from=5 /a /a\n"))
        }
        #expect(error == .stageIndexOutOfRange(index: 5, stageCount: 2, at: DockerfileLocation(line: 3, column: 1)))
    }

    @Test func copyFromANameThatIsNeitherStageNorImageIsAnError() {
        let error = dockerfileError { () throws(DockerfileError) in
            _ = try BuildPlan(try Dockerfile.parse("FROM golang AS builder\nFROM alpine\nCOPY --from=Bulder_ /a /a\n"))
        }
        #expect(error == .unknownStage(name: "Bulder_", suggestion: "builder", at: DockerfileLocation(line: 3, column: 1)))
        #expect(error?.message == "'Bulder_' names no stage before this one and is not an image reference; did you mean 'builder'?")
        // A mount's from= the same way.
        let mount = dockerfileError { () throws(DockerfileError) in
            _ = try BuildPlan(try Dockerfile.parse("FROM alpine\nRUN --mount=type=bind,from=Nope!,target=/x true\n"))
        }
        #expect(mount == .unknownStage(name: "Nope!", suggestion: nil, at: DockerfileLocation(line: 2, column: 1)))
    }

    @Test func cyclesAreFoundAsBuildKitFindsThem() {
        // BuildKit's own test cases (dockerfile2llb TestDockerfileCircularDependencies).
        let selfCopy = dockerfileError { () throws(DockerfileError) in
            _ = try BuildPlan(try Dockerfile.parse("FROM busybox AS stage0\nCOPY --from=stage0 f1 /sub/\n"))
        }
        #expect(selfCopy == .dependencyCycle(stages: ["stage0"], at: DockerfileLocation(line: 2, column: 1)))
        let threeStages = dockerfileError { () throws(DockerfileError) in
            _ = try BuildPlan(try Dockerfile.parse("""
                FROM busybox AS stage0
                COPY --from=stage2 f1 /sub/
                FROM busybox AS stage1
                COPY --from=stage0 f2 /sub/
                FROM busybox AS stage2
                COPY --from=stage1 f2 /sub/
                """))
        }
        #expect(threeStages == .dependencyCycle(stages: ["stage0", "stage2", "stage1"], at: DockerfileLocation(line: 4, column: 1)))
        #expect(threeStages?.message == "stages depend on each other in a circle: stage0 -> stage2 -> stage1 -> stage0; remove one of the COPY --from or --mount references")
    }

    @Test func aStageUsedBeforeItIsDefinedIsAnErrorOnlyWhenBuilt() throws {
        let text = "FROM alpine AS early\nCOPY --from=late /a /a\nFROM alpine AS late\nRUN true\nFROM alpine AS other\n"
        let error = dockerfileError { () throws(DockerfileError) in
            _ = try BuildPlan(try Dockerfile.parse(text), options: BuildOptions(target: "early"))
        }
        #expect(error == .stageDefinedLater(name: "late", at: DockerfileLocation(line: 2, column: 1)))
        #expect(try BuildPlan(try Dockerfile.parse(text)).requiredStages == [2])
        // FROM sees only earlier stages: a later name is an image to pull.
        let plan = try BuildPlan(try Dockerfile.parse("FROM build\nFROM alpine AS build\n"))
        #expect(plan.stages[0].base == .image("build"))
    }

    @Test func baseNamesAreCheckedOnceExpanded() {
        let error = dockerfileError { () throws(DockerfileError) in
            _ = try BuildPlan(try Dockerfile.parse("ARG IMAGE\nFROM ${IMAGE}\n"))
        }
        #expect(error == .invalidBaseName(expression: "${IMAGE}", value: "", at: DockerfileLocation(line: 2, column: 1)))
        let upper = dockerfileError { () throws(DockerfileError) in
            _ = try BuildPlan(try Dockerfile.parse("FROM Alpine\n"))
        }
        #expect(upper?.message == "FROM 'Alpine' is not an image reference or stage name; check the name and the build arguments it uses")
        let platform = dockerfileError { () throws(DockerfileError) in
            _ = try BuildPlan(try Dockerfile.parse("ARG P\nFROM --platform=$P alpine\n"))
        }
        #expect(platform == .emptyPlatform(expression: "$P", at: DockerfileLocation(line: 2, column: 1)))
        for reference in ["alpine", "alpine:3.20", "library/alpine", "ghcr.io/org/app:v1.2", "localhost:5000/app", "registry.example.com:443/a/b/c",
                          "app@sha256:" + String(repeating: "a", count: 64), "my_app", "my__app", "my-app.x"] {
            #expect(throws: Never.self, "\(reference)") { try BuildPlan(try Dockerfile.parse("FROM \(reference)\n")) }
        }
        for reference in ["app:", ":tag", "-app", "app_", "my___app", "app@sha256:abc", String(repeating: "a", count: 64)] {
            #expect(throws: DockerfileError.self, "\(reference)") { try BuildPlan(try Dockerfile.parse("FROM \(reference)\n")) }
        }
    }
}
