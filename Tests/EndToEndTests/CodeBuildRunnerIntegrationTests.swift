import AWS
import Foundation
import StackshipTesting
import Testing

/// The CodeBuild files `stackship ci generate codebuild` writes, run build by build by
/// `CodeBuildPhaseRunner` (issue 18, "It must show"): the batch graph checked against the
/// ci-build project's batch restrictions from `stackship aws render ci-build`, then every
/// build in `depend-on` order, each in a fresh clone, against a loopback registry, a moto S3
/// cache and moto's Secrets Manager (the signing key).
@Suite(.serialized)
struct CodeBuildRunnerIntegrationTests {
    static let project = "small"

    /// The `aws:` section of the test stack: a ci-build project whose batches allow 20 builds
    /// of two compute types.
    static let awsSection = """
        aws:
          project: small
          ci_build:
            source: {type: GITHUB, location: "https://github.com/acme/small.git"}
            batch: {max_builds: 20, compute_types: [BUILD_GENERAL1_SMALL, BUILD_GENERAL1_MEDIUM]}
        """

    @Test func everyBuildOfTheSmallStacksBatchSucceeds() async throws {
        let repository = try CITestRepository()
        let services = try await CIServices.start(keys: try repository.folder("keys"))
        defer { services.stop() }
        let bin = try repository.folder("bin")
        try CITestStacks.prepare(repository, services: services, bin: bin)
        let ci = CITestStacks.ciSection(name: Self.project, cache: services.cache, registry: services.registry.host + "/ci")
        try CITestStacks.writeSmall(in: repository, trailer: ci + "\n" + Self.awsSection)
        let generate = try stackship(["ci", "generate", "codebuild", "--output", "."], cwd: repository.origin, env: services.awsEnvironment)
        #expect(generate.status == 0, "ci generate codebuild: \(generate.out)\n\(generate.err)")
        let render = try stackship(["aws", "render", "ci-build", "-o", repository.root + "/cfn"], cwd: repository.origin, env: services.awsEnvironment)
        #expect(render.status == 0, "aws render ci-build: \(render.out)\n\(render.err)")
        let commit = try repository.commitAll("stackship ci generate codebuild")

        // The graph against the project's batch restrictions.
        let restrictions = try CodeBuildPhaseRunner.readRestrictions(template: repository.root + "/cfn/ci-build.json")
        #expect(restrictions == .init(maximumBuildsAllowed: 20, computeTypesAllowed: ["BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_SMALL"]))
        // buildspec.yml (the CI project's) has no publish or cleanup builds; buildspec-release.yml
        // (the release project's, same batch settings) is the whole plan, and is what runs here.
        let ciGraph = try CodeBuildPhaseRunner.readGraph(try repository.read("buildspec.yml"))
        #expect(CodeBuildPhaseRunner.problems(in: ciGraph, restrictions: restrictions, source: repository.origin).isEmpty)
        #expect(Set(ciGraph.builds.map(\.identifier)) == ["image_builder", "package_site", "image_web", "cache_reindex", "test_web"],
                "\(ciGraph.builds.map(\.identifier))")
        let graph = try CodeBuildPhaseRunner.readGraph(try repository.read("buildspec-release.yml"))
        let problems = CodeBuildPhaseRunner.problems(in: graph, restrictions: restrictions, source: repository.origin)
        #expect(problems.isEmpty, "\(problems)")
        #expect(Set(graph.builds.map(\.identifier)) == ["image_builder", "package_site", "image_web", "cache_reindex", "test_web",
                                                         "publish_web_latest", "cache_cleanup"], "\(graph.builds.map(\.identifier))")

        // The signing key where the buildspecs' secrets-manager entries look for it.
        try await CIServices.withClient(services.moto) { client in
            _ = try await SecretsManagerClient(client: client).createSecret(name: "STACKSHIP_SIGNING_KEY", secretString: services.signingKey)
        }
        var base = testEnvironment(cwd: nil)
        base.removeValue(forKey: "STACKSHIP_STATE")
        for (k, v) in services.awsEnvironment { base[k] = v }
        base["PATH"] = bin + ":" + (base["PATH"] ?? "/usr/bin:/bin")
        let moto = services.moto
        // The project hands no build the signing key: image and test builds verify the fetched
        // packages with the committed public key (ci: trusted_key, STACKSHIP_TRUSTED_KEYS).
        let project = try CodeBuildPhaseRunner.readProjectVariables(template: repository.root + "/cfn/ci-build.json")
        #expect(project.secrets.isEmpty, "\(project.secrets)")
        let runner = CodeBuildPhaseRunner(
            project: Self.project, commit: commit, branch: "main", base: base,
            projectVariables: project.plain, projectSecrets: project.secrets,
            secret: { id in
                try await CIServices.withClient(moto) { try await SecretsManagerClient(client: $0).getSecretValue(id: id).secretString ?? "" }
            },
            checkout: { identifier in
                (try repository.freshClone(identifier), try repository.folder("builds/\(identifier)"))
            })
        let runs = try await runner.runBatch(graph)
        for run in runs {
            #expect(run.status == 0, "build \(run.identifier) failed (\(run.status.map(String.init) ?? "not started")):\n\(run.output.suffix(6000))")
            #expect(!run.output.contains(CIServices.secretAccessKey), "build \(run.identifier) printed a secret")
        }
        let byID = Dictionary(uniqueKeysWithValues: runs.map { ($0.identifier, $0) })
        // CodeBuild's variables and the graph's reached the builds; the key came from Secrets Manager.
        #expect(byID["package_site"]?.environment["CODEBUILD_BATCH_BUILD_IDENTIFIER"] == "package_site")
        #expect(byID["package_site"]?.environment["STACKSHIP_SUBJECT"] == "site")
        #expect(byID["package_site"]?.environment["STACKSHIP_SIGNING_KEY"] == services.signingKey)
        #expect(byID["test_web"]?.environment["STACKSHIP_SIGNING_KEY"] == nil)
        #expect(byID["test_web"]?.environment["STACKSHIP_TRUSTED_KEYS"]?.isEmpty == false, "\(byID["test_web"]?.environment ?? [:])")
        #expect(byID["package_site"]?.output.contains("pushed to \(services.cache)") == true, "\(byID["package_site"]?.output ?? "")")
        #expect(byID["test_web"]?.output.contains("test web: passed") == true, "\(byID["test_web"]?.output ?? "")")
        #expect(try services.cachedPackages(in: repository.origin) == ["site"])
        let page = try services.fetchPage(of: services.registry.host + "/ci/web:" + commit, in: Project())
        #expect(page.contains(CITestStacks.smallGreeting), "the image pushed under the commit answered: '\(page)'")
    }

    /// The runner's own checks, on a graph made by hand.
    @Test func theRunnerRefusesWhatCodeBuildRefusesAndStopsAtTheFirstFailure() async throws {
        let graph = try CodeBuildPhaseRunner.readGraph("""
            version: 0.2
            batch:
              fast-fail: false
              build-graph:
                - {identifier: b, buildspec: x.yml, depend-on: [a], env: {compute-type: BUILD_GENERAL1_LARGE}}
                - {identifier: a, buildspec: x.yml}
                - {identifier: c, buildspec: x.yml, depend-on: [nope]}
            """)
        #expect(try CodeBuildPhaseRunner.order(Array(graph.builds.prefix(2))).map(\.identifier) == ["a", "b"])
        let problems = CodeBuildPhaseRunner.problems(in: graph, restrictions: .init(maximumBuildsAllowed: 2, computeTypesAllowed: ["BUILD_GENERAL1_SMALL"]),
                                                     source: "/nonexistent")
        #expect(problems.contains("the graph has 3 builds; the project allows 2"), "\(problems)")
        #expect(problems.contains { $0.contains("compute type BUILD_GENERAL1_LARGE is not allowed") }, "\(problems)")
        #expect(problems.contains("c depends on nope, which is not in the graph"), "\(problems)")

        let folder = Project()
        let spec = try CodeBuildPhaseRunner.readBuildspec("""
            version: 0.2
            env:
              shell: bash
              variables: {GREETING: from-buildspec, KEPT: kept}
            phases:
              install: {commands: ["cd sub", "export CARRIED=yes"]}
              build: {commands: ["echo \\"$GREETING $KEPT $CARRIED $(basename $PWD) $CODEBUILD_BATCH_BUILD_IDENTIFIER\\"", "false", "echo never"]}
            """)
        #expect(spec.phases.map(\.name) == ["install", "build"])
        try FileManager.default.createDirectory(atPath: folder.path + "/src/sub", withIntermediateDirectories: true)
        let text = """
            version: 0.2
            env:
              shell: bash
              variables: {GREETING: from-buildspec, KEPT: kept}
            phases:
              install: {commands: ["cd sub", "export CARRIED=yes"]}
              build: {commands: ["echo \\"$GREETING $KEPT $CARRIED $(basename $PWD) $CODEBUILD_BATCH_BUILD_IDENTIFIER\\"", "false", "echo never"]}
            """
        try folder.write("src/x.yml", text)
        let runner = CodeBuildPhaseRunner(project: "p", commit: "abc", branch: "main", base: ["PATH": "/usr/bin:/bin"],
                                          secret: { _ in "" }, checkout: { id in
                                              try FileManager.default.createDirectory(atPath: folder.path + "/scratch-" + id, withIntermediateDirectories: true)
                                              return (folder.path + "/src", folder.path + "/scratch-" + id)
                                          })
        let one = CodeBuildPhaseRunner.GraphBuild(identifier: "one", buildspec: "x.yml", dependOn: [], computeType: nil, image: nil, privilegedMode: false,
                                                  variables: [.init(name: "GREETING", value: "from-graph")], ignoreFailure: false)
        let two = CodeBuildPhaseRunner.GraphBuild(identifier: "two", buildspec: "x.yml", dependOn: ["one"], computeType: nil, image: nil, privilegedMode: false,
                                                  variables: [], ignoreFailure: false)
        let runs = try await runner.runBatch(.init(builds: [one, two], fastFail: false))
        #expect(runs[0].status == 1, "\(runs[0].output)")
        #expect(runs[0].output.contains("from-graph kept yes sub one"), "graph over buildspec, one shell: \(runs[0].output)")
        #expect(!runs[0].output.contains("never"), "stops at the first failure: \(runs[0].output)")
        #expect(runs[1].status == nil, "a build whose dependency failed does not start")
    }
}
