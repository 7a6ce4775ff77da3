import Dockerfile
import Foundation
import StackshipTesting
import Support
import Testing

/// Dockerfiles as people write them, and as `stackship dockerfile` writes them.
@Suite struct RealWorldTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
    }

    @Test func theTwoStageGoService() throws {
        let dockerfile = try Dockerfile.parse(try Self.fixture("go-service.Dockerfile"))
        #expect(dockerfile.directives.syntax == "docker/dockerfile:1")
        #expect(dockerfile.globalArgs.count == 1)
        #expect(dockerfile.stages.map(\.instructions.count) == [5, 4])
        #expect(dockerfile.warnings.isEmpty)
        guard case let .run(build) = dockerfile.stages[0].instructions[4].kind else {
            Issue.record("not a RUN: \(dockerfile.stages[0].instructions[4].kind)")
            return
        }
        #expect(build.mounts.map(\.target) == ["/go/pkg/mod", "/root/.cache/go-build"])
        #expect(build.command == .shell("CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o /bin/server ./cmd/server"))
        let plan = try BuildPlan(dockerfile, options: BuildOptions(buildArguments: ["GO_VERSION": "1.23"]))
        #expect(plan.stages.map(\.base) == [.image("golang:1.23"), .scratch])
        #expect(plan.requiredStages == [0, 1])
        #expect(plan.unusedBuildArguments.isEmpty)
        let stages = try plan.resolve()
        #expect(stages[1].steps.map(\.instruction.kind).contains(.expose(["8080/tcp"])))
    }

    @Test func theSpackContainerizeDockerfileCheckedIn() throws {
        try RealWorldTests.checkSpackDockerfile(try Self.fixture("spack-containerize.Dockerfile"))
    }

    static func checkSpackDockerfile(_ text: String) throws {
        let dockerfile = try Dockerfile.parse(text)
        #expect(dockerfile.stages.map(\.name) == ["builder", nil])
        #expect(dockerfile.stages.map(\.instructions.count) == [4, 9])
        let plan = try BuildPlan(dockerfile)
        #expect(plan.stages[1].dependencies.map(\.source) == [.stage(0), .stage(0), .stage(0)])
        let stages = try plan.resolve()
        #expect(stages.count == 2)
        guard case let .run(install) = dockerfile.stages[0].instructions[1].kind else {
            Issue.record("not a RUN")
            return
        }
        #expect(install.mounts == [RunMount(spec: "type=secret,id=spack_signing_key", type: .secret, id: "spack_signing_key")])
        #expect(dockerfile.stages[1].instructions.last?.kind == .cmd(.exec(["/bin/bash"])))
    }
}

extension RealWorldTests {
    /// The tests of this suite that start a real component or need root:
    /// `swift test --skip Integration` (the unit tier) leaves them out.
    @Suite struct Integration {
        /// `stackship dockerfile`, run from this build on a stack with two spack: packages (the
        /// examples under Examples/ have none, and the command refuses a stack without them).
        @Test func whatStackshipDockerfileWritesParses() throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dockerfile-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            try """
                version: 2
                packages:
                  hdf5:
                    build: {spack: {specs: [hdf5+mpi, openmpi@4], os_packages: [libgomp1]}}
                  zlib:
                    build: {spack: {specs: [zlib@1.3]}}
                images:
                  app:
                    packages: [hdf5, zlib]
                """.write(to: directory.appendingPathComponent("stack.yaml"), atomically: true, encoding: .utf8)
            let output = directory.appendingPathComponent("Dockerfile").path
            let binary = try StackshipTesting.stackshipExecutable()
            let result = try ChildProcess.run(binary, ["dockerfile", "stack.yaml", "--cache", "s3://team/cache", "-o", output],
                                              directory: directory.path)
            #expect(result.status == 0, "\(result.output)")
            try RealWorldTests.checkSpackDockerfile(try String(contentsOfFile: output, encoding: .utf8))
            // The refusal for the examples, which have no spack: packages.
            let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Examples/pipeline").path
            let refused = try ChildProcess.run(binary, ["dockerfile"], directory: examples)
            #expect(refused.status != 0 && refused.output.contains("no spack: packages"), "\(refused.output)")
        }
    }
}
