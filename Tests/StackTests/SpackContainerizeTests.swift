import Dockerfile
import Foundation
import Stack
import Testing
import Yams

@Suite struct SpackContainerizeTests {
    func packages() throws -> [PackageSpec] {
        let here = SourceLocation(file: "stack.yaml", line: 1, column: 1)
        return [
            PackageSpec(name: "hdf5", location: here, recipe: .spack(SpackRecipe(specs: ["hdf5+mpi", "openmpi@4"], osPackages: ["libgomp1"]))),
            PackageSpec(name: "zlib", location: here, recipe: .spack(SpackRecipe(specs: ["zlib@1.3"]))),
        ]
    }

    @Test func theEnvironmentIsValidYAMLWithEverySpecAndTheCacheAsAMirror() throws {
        let generator = try SpackContainerize(packages: try packages(), cacheURL: "s3://team/cache")
        let parsed = try #require(try Yams.load(yaml: generator.spackYAML) as? [String: Any])
        let spack = try #require(parsed["spack"] as? [String: Any])
        #expect(spack["specs"] as? [String] == ["hdf5+mpi", "openmpi@4", "zlib@1.3"])
        #expect(spack["view"] as? String == "/opt/views/view")
        #expect(((spack["config"] as? [String: Any])?["install_tree"] as? [String: Any])?["root"] as? String == "/opt/software")
        #expect(((spack["mirrors"] as? [String: Any])?["stackship"] as? [String: Any])?["url"] as? String == "s3://team/cache/spack")
        // A local cache directory becomes a file:// mirror.
        let local = try SpackContainerize(packages: try packages(), cacheURL: "/srv/cache")
        #expect(local.spackYAML.contains("url: file:///srv/cache/spack"))
    }

    @Test func theDockerfileHasBuilderAndRuntimeStagesAndNoSecret() throws {
        let text = try SpackContainerize(packages: try packages(), cacheURL: "s3://team/cache", labels: ["a": "b"]).dockerfile
        let froms = text.split(separator: "\n").filter { $0.hasPrefix("FROM ") }
        #expect(froms == ["FROM spack/ubuntu-jammy:latest AS builder", "FROM ubuntu:22.04"])
        for needle in ["spack install --fail-fast", "COPY --from=builder /opt/software /opt/software", "COPY --from=builder /opt/views /opt/views",
                       "xargs strip", "install --no-install-recommends libgomp1", "ENTRYPOINT [ \"/entrypoint.sh\" ]",
                       "--mount=type=secret,id=spack_signing_key", "spack buildcache push --update-index stackship", "LABEL \"a\"=\"b\""] {
            #expect(text.contains(needle), "missing: \(needle)")
        }
        // The echo lines rebuild exactly the spack.yaml: run them through sh.
        let echoes = text.components(separatedBy: "&&  (echo spack: \\\n")[1].components(separatedBy: ") > /opt/spack-environment/spack.yaml")[0]
        let script = "(echo spack: \\\n" + echoes + ")"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script.replacingOccurrences(of: "&&   echo", with: "&& echo")]
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("spack-\(UUID().uuidString).yaml")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out) }
        process.standardOutput = try FileHandle(forWritingTo: out)
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let generator = try SpackContainerize(packages: try packages(), cacheURL: "s3://team/cache")
        #expect(try String(contentsOf: out, encoding: .utf8) == generator.spackYAML)
    }

    /// What `stackship dockerfile` writes is a Dockerfile `stackship build -f` reads and plans:
    /// both stages needed, the secret mount and the stage copy understood, no build argument left.
    @Test func theDockerfileIsOneStackshipBuildCanPlan() throws {
        let text = try SpackContainerize(packages: try packages(), cacheURL: "s3://team/cache").dockerfile
        let plan = try BuildPlan(try Dockerfile.parse(text))
        #expect(plan.requiredStages == [0, 1])
        #expect(plan.stages[0].base == .image("spack/ubuntu-jammy:latest") && plan.stages[1].base == .image("ubuntu:22.04"))
        #expect(plan.stages[1].dependencies.contains { $0.stageIndex == 0 && $0.kind == .copy })
        let stages = try plan.resolve()
        let mounts = stages[0].steps.compactMap { step -> [RunMount]? in
            if case let .run(run) = step.instruction.kind { return run.mounts } else { return nil }
        }.flatMap { $0 }
        #expect(mounts.map(\.type) == [.secret] && mounts.first?.id == "spack_signing_key" && mounts.first?.required == false)
    }

    @Test func singularityHasBothStagesAndNonSpackPackagesAreRefused() throws {
        let text = try SpackContainerize(packages: try packages()).singularity
        #expect(text.components(separatedBy: "Bootstrap: docker").count == 3)
        #expect(text.contains("Stage: build") && text.contains("Stage: final") && text.contains("%files from build"))
        #expect(!text.contains("mirrors:"))
        let script = PackageSpec(name: "tool", location: SourceLocation(file: "s", line: 1, column: 1), recipe: .script("make", host: true))
        #expect(throws: PackageBuildError.self) { _ = try SpackContainerize(packages: [script]) }
        #expect(throws: PackageBuildError.self) { _ = try SpackContainerize(packages: []) }
    }
}
