import Foundation
import Testing
@testable import Pipelines

@Suite("Pipelines emitters")
struct EmitterTests {
    static func jobs(_ workflow: Any) -> [String: [String: Any]] {
        ((workflow as? [String: Any])?["jobs"] as? [String: Any] ?? [:]).compactMapValues { $0 as? [String: Any] }
    }

    @Test func githubWorkflowsFollowTheDAGAndAreHardened() throws {
        let plan = try Plan.make(from: Fixtures.hello)
        let out = try GitHubActionsEmitter.emit(plan)
        #expect(Set(out.files.keys) == [InstallScript.path, GitHubActionsEmitter.publishWorkflowPath, GitHubActionsEmitter.testWorkflowPath])
        let test = try Fixtures.yaml(out.files[GitHubActionsEmitter.testWorkflowPath]!)
        let publish = try Fixtures.yaml(out.files[GitHubActionsEmitter.publishWorkflowPath]!)
        let testJobs = Self.jobs(test), publishJobs = Self.jobs(publish)
        // Test workflow: every job but publish and cleanup (the publish branch's); needs as in the plan.
        #expect(Set(testJobs.keys) == Set(plan.jobs.filter { ![.publish, .cleanup, .reindex].contains($0.kind) }.map(\.id)))
        #expect(Set(publishJobs.keys) == Set(plan.jobs.map(\.id)))
        for job in plan.jobs {
            let needs = publishJobs[job.id]?["needs"] as? [String] ?? []
            #expect(needs == job.needs, "publish workflow needs of \(job.id)")
        }
        #expect(testJobs["cache_cleanup"] == nil && publishJobs["cache_cleanup"] != nil)
        #expect(testJobs["cache_reindex"] == nil && publishJobs["cache_reindex"] != nil, "the index is a write: no credentials in the test workflow")
        #expect(((test as! [String: Any])["on"] as? [String: Any])?.keys.sorted() == ["pull_request", "push"])
        // OIDC at job level, no long-lived keys.
        #expect(((publish as! [String: Any])["permissions"] as? [String: Any])?.isEmpty == true)
        let pub = publishJobs["publish_hello_latest"]!
        #expect(pub["permissions"] as? [String: String] == ["id-token": "write", "contents": "read"])
        let steps = pub["steps"] as! [[String: Any]]
        let uses = steps.compactMap { $0["uses"] as? String }
        #expect(uses.count == 2)
        for u in uses { #expect(u.range(of: "^[a-z-]+/[a-z-]+@[0-9a-f]{40}$", options: .regularExpression) != nil, "\(u) pinned to a SHA") }
        let aws = steps.first { ($0["uses"] as? String)?.hasPrefix("aws-actions/configure-aws-credentials@") == true }!
        #expect((aws["with"] as? [String: String])?["role-to-assume"] == "arn:aws:iam::123456789012:role/stackship-ci")
        let checkout = steps.first { ($0["uses"] as? String)?.hasPrefix("actions/checkout@") == true }!
        #expect((checkout["with"] as? [String: String])?["persist-credentials"] == "false")
        let runs = steps.compactMap { $0["run"] as? String }
        #expect(runs.contains { $0 == "stackship login ecr --registry \"$STACKSHIP_REGISTRY\"" })
        // CI jobs do not share the store: the image is re-assembled from the cache, then pushed,
        // and (once per image) tagged with the commit SHA.
        #expect(runs.last!.hasPrefix(CIScript.reassembleComment + "\nstackship build examples/hello/stack.yaml --image hello\n"))
        #expect(runs.last!.contains("\nstackship push hello:latest 123456789012.dkr.ecr.us-east-1.amazonaws.com/hello:latest\n"))
        let shaPushes = runs.filter { $0.contains("hello:\"${GITHUB_SHA}\"") }
        #expect(shaPushes.count == 1 && shaPushes[0].contains("\nstackship push hello:latest 123456789012.dkr.ecr.us-east-1.amazonaws.com/hello:\"${GITHUB_SHA}\""), "\(shaPushes)")
        let text = out.files.values.joined()
        #expect(text.contains("# v4.3.1"))
        for key in ["aws-access-key-id", "aws-secret-access-key", "AWS_SECRET_ACCESS_KEY"] { #expect(!text.contains(key)) }
        // No expression in any run script: values reach scripts through env.
        for workflow in [test, publish] {
            for (_, job) in Self.jobs(workflow) {
                for step in job["steps"] as! [[String: Any]] {
                    if let run = step["run"] as? String { #expect(!run.contains("${{"), "run: \(run)") }
                    if step["uses"] as? String != nil, (step["uses"] as! String).hasPrefix("actions/checkout") {
                        #expect((step["with"] as? [String: String])?["persist-credentials"] == "false")
                    }
                }
            }
        }
        // The signing key only as a secret reference.
        #expect((publishJobs["package_openssl"]?["env"] as? [String: String])?["STACKSHIP_SIGNING_KEY"] == "${{ secrets.STACKSHIP_SIGNING_KEY }}")
        // Test workflow jobs carry no id-token permission.
        for (_, job) in testJobs { #expect((job["permissions"] as? [String: String])?["id-token"] == nil) }
    }

    @Test func githubRejectsUnusableSettings() throws {
        var input = Fixtures.hello
        input.settings.signingKeySecret = "KEY }} ${{ github.event.issue.title"
        let plan = try Plan.make(from: input)
        let error = #expect(throws: PipelineError.self) { try GitHubActionsEmitter.emit(plan) }
        #expect(error?.description.contains("ci.signing_key_secret") == true)
        #expect(error?.description.contains("github.event") == false, "a secret-named setting's value is never echoed")
        input.settings.signingKeySecret = "OK"
        input.settings.awsRoleARN = "role/stackship-ci"
        let plan2 = try Plan.make(from: input)
        let e2 = #expect(throws: PipelineError.self) { try GitHubActionsEmitter.emit(plan2) }
        #expect(e2?.description.contains("ci.aws_role_arn") == true)
        // Nothing given is invented: each missing setting is named with an example.
        for (path, key) in [(\PlanInput.Settings.awsRoleARN, "ci.aws_role_arn"), (\.awsRegion, "ci.aws_region"), (\.cacheURL, "ci.cache")] {
            var missing = Fixtures.hello
            missing.settings[keyPath: path] = nil
            let error = #expect(throws: PipelineError.self) { try GitHubActionsEmitter.emit(try Plan.make(from: missing)) }
            guard case .missingSetting(key, _, _)? = error else { Issue.record("\(key): \(String(describing: error))"); continue }
            #expect(error?.description.contains("e.g.") == true)
        }
        var noRegistry = Fixtures.hello
        noRegistry.settings.registry = nil
        #expect(throws: PipelineError.missingSetting(key: "ci.registry", needs: "the publish jobs push image 'hello' to it (or leave the image out with `ci: publish: [...]`)",
                                                     example: "123456789012.dkr.ecr.us-east-1.amazonaws.com/team")) { try Plan.make(from: noRegistry) }
        let local = try Plan.make(from: noRegistry, options: .init(omitPublishWithoutRegistry: true))
        #expect(!local.jobs.contains { $0.kind == .publish }, "a local run leaves publishing out instead")
    }

    @Test func gitlabParentTriggersTheChildAndChildFollowsTheDAG() throws {
        let plan = try Plan.make(from: Fixtures.hello)
        let out = try GitLabCIEmitter.emit(plan)
        let parent = try Fixtures.yaml(out.files[GitLabCIEmitter.parentPath]!) as! [String: Any]
        let trigger = (parent["pipeline"] as! [String: Any])["trigger"] as! [String: Any]
        #expect(trigger["strategy"] as? String == "depend")
        let include = (trigger["include"] as! [[String: String]])[0]
        #expect(include == ["artifact": GitLabCIEmitter.childPath, "job": "generate"])
        #expect(((parent["generate"] as! [String: Any])["artifacts"] as! [String: Any])["paths"] as? [String] == [".stackship-ci/"])
        let child = try Fixtures.yaml(out.files[GitLabCIEmitter.childPath]!) as! [String: Any]
        #expect(child["stages"] as? [String] == ["base", "packages", "containers", "cleanup"])
        let vars = child["variables"] as! [String: String]
        #expect(vars["STACKSHIP_CACHE"] == "s3://stackship-cache/packages")
        // The default name is the variable stackship reads: nothing to map, and never the key.
        #expect(vars["STACKSHIP_SIGNING_KEY"] == nil)
        #expect(vars["STACKSHIP_VERSION"] == "0.1.0")
        for job in plan.jobs {
            let j = child[job.id] as! [String: Any]
            #expect(j["needs"] as? [String] == job.needs)
            #expect(j["stage"] as? String == GitLabCIEmitter.stage(job.kind))
            let retry = j["retry"] as! [String: Any]
            #expect(retry["max"] as? String == "2")
            #expect(retry["when"] as? [String] == ["runner_system_failure", "stuck_or_timeout_failure", "api_failure"])
            // Publish and cleanup only on the publish branch and tags; the rest everywhere.
            let rules = (j["rules"] as? [[String: Any]])?.compactMap { $0["if"] as? String }
            if job.kind == .publish || job.kind == .cleanup {
                #expect(rules == ["$CI_COMMIT_BRANCH == \"main\" || $CI_COMMIT_TAG"], "\(job.id)")
            } else {
                #expect(rules == nil, "\(job.id)")
            }
        }
        #expect(out.notes.count == 1 && out.notes[0].contains("GitLab OIDC token"), "only the role's trust is worth a note: \(out.notes)")
    }

    @Test func gitlabSplitsNeedsOverTheLimitWithFanIns() throws {
        let plan = try Plan.make(from: Fixtures.hpc)
        let image = plan.jobsByID["image_exago"]!
        #expect(image.needs.count > 50)
        let out = try GitLabCIEmitter.emit(plan)
        let child = try Fixtures.yaml(out.files[GitLabCIEmitter.childPath]!) as! [String: Any]
        var reached = Set<String>()
        func collect(_ id: String) {
            for need in (child[id] as! [String: Any])["needs"] as! [String] {
                if need.contains("_fanin") { collect(need) } else { reached.insert(need) }
            }
        }
        collect("image_exago")
        #expect(reached == Set(image.needs))
        for (id, value) in child {
            guard let job = value as? [String: Any], let needs = job["needs"] as? [String] else { continue }
            #expect(needs.count <= 50, "\(id) needs \(needs.count)")
            for need in needs { #expect(child[need] != nil, "\(id) needs \(need), which exists") }
        }
        #expect(out.notes.contains { $0.contains("split job image_exago") && $0.contains("limit of 50") })
        #expect(out.files[GitLabCIEmitter.childPath]!.contains("# note: split job image_exago"))
        // A tiny limit forces several levels of fan-in.
        var small = Fixtures.hpc
        small.settings.gitlabMaxNeeds = 3
        let deep = try GitLabCIEmitter.emit(try Plan.make(from: small))
        let deepChild = try Fixtures.yaml(deep.files[GitLabCIEmitter.childPath]!) as! [String: Any]
        for (_, value) in deepChild {
            if let needs = (value as? [String: Any])?["needs"] as? [String] { #expect(needs.count <= 3) }
        }
        #expect(deep.notes.contains { $0.contains("image_exago") })
        // A package whose job id is a fan-in's id: refused, not silently merged.
        var clash = Fixtures.hpc
        clash.packages.append(.init(name: "x", hash: "1"))
        clash.images.append(.init(name: "exago_fanin1_1", packages: ["x"]))
        clash.packages.append(.init(name: "y", hash: "2"))
        clash.images[0].packages.append("y")
        let clashPlan = try Plan.make(from: clash)
        #expect(clashPlan.jobsByID["image_exago_fanin1_1"] != nil)
        let ce = #expect(throws: PipelineError.self) { try GitLabCIEmitter.emit(clashPlan) }
        #expect(ce?.description.contains("fan-in job image_exago_fanin1_1") == true)
        small.settings.gitlabMaxNeeds = 1
        let tooSmall = try Plan.make(from: small)
        #expect(throws: PipelineError.self) { try GitLabCIEmitter.emit(tooSmall) }
    }

    static func checkBuildGraph(_ text: String) throws -> [String] {
        let doc = try Fixtures.yaml(text) as! [String: Any]
        #expect(doc["version"] as? String == "0.2")
        let graph = (doc["batch"] as! [String: Any])["build-graph"] as! [[String: Any]]
        let ids = graph.map { $0["identifier"] as! String }
        #expect(Set(ids).count == ids.count)
        var edges: [String: [String]] = [:]
        for entry in graph {
            let id = entry["identifier"] as! String
            #expect(id.range(of: "^[A-Za-z0-9_]{1,127}$", options: .regularExpression) != nil, "identifier \(id)")
            let deps = entry["depend-on"] as? [String] ?? []
            for d in deps { #expect(ids.contains(d), "\(id) depends on \(d), which exists") }
            edges[id] = deps
            let env = entry["env"] as! [String: Any]
            #expect(env["compute-type"] is String)
            #expect(env["privileged-mode"] as? String == "true" || env["privileged-mode"] as? String == "false")
            #expect((env["variables"] as! [String: String])["STACKSHIP_JOB"] == id)
            #expect((entry["buildspec"] as! String).hasPrefix("codebuild/"))
        }
        #expect(GraphCycle.find(nodes: ids, edges: edges) == nil)
        return ids
    }

    @Test func codebuildBuildGraphIsValid() throws {
        let plan = try Plan.make(from: Fixtures.hello)
        let out = try CodeBuildEmitter.emit(plan)
        let ids = try Self.checkBuildGraph(out.files[CodeBuildEmitter.releaseBatchPath]!)
        #expect(ids == plan.jobs.map(\.id))
        let kinds = Set(plan.jobs.map(\.kind))
        #expect(Set(out.files.keys) == Set([CodeBuildEmitter.batchPath, CodeBuildEmitter.releaseBatchPath, InstallScript.path] + kinds.map(CodeBuildEmitter.kindPath)))
        for kind in kinds {
            let spec = try Fixtures.yaml(out.files[CodeBuildEmitter.kindPath(kind)]!) as! [String: Any]
            #expect(spec["version"] as? String == "0.2")
            let env = spec["env"] as! [String: Any]
            if kind == .package || kind == .reindex {
                #expect(env["secrets-manager"] as? [String: String] == ["STACKSHIP_SIGNING_KEY": "STACKSHIP_SIGNING_KEY"])
            } else {
                #expect(env["secrets-manager"] == nil)
            }
            let build = ((spec["phases"] as! [String: Any])["build"] as! [String: Any])["commands"] as! [String]
            // Test and publish builds re-assemble their image first (no shared store), and say why.
            let reassembles = kind == .test || kind == .publish
            // Publish also pushes the commit tag (CodeBuild's resolved source version).
            // Publish starts with the pull-request guard.
            let guarded = kind == .publish ? Array(build.dropFirst()) : build
            if kind == .publish { #expect(build.first == CodeBuildEmitter.publishGuard) }
            #expect(guarded.count == (kind == .publish ? 4 : reassembles ? 3 : 1) && guarded.last!.hasPrefix("stackship "))
            if kind == .publish { #expect(guarded.last!.hasSuffix(":$CODEBUILD_RESOLVED_SOURCE_VERSION\"")) }
            if reassembles {
                #expect(guarded[0] == CIScript.reassembleComment)
                #expect(guarded[1] == "stackship build \"$STACKSHIP_STACK_FILE\" --image \"$STACKSHIP_SUBJECT\"")
            }
            #expect((spec["artifacts"] as! [String: Any])["files"] as? [String] == ["**/*"])
        }
        let graph = (try Fixtures.yaml(out.files[CodeBuildEmitter.batchPath]!) as! [String: Any])["batch"] as! [String: Any]
        let test = (graph["build-graph"] as! [[String: Any]]).first { $0["identifier"] as? String == "test_hello" }!
        #expect((test["env"] as! [String: Any])["privileged-mode"] as? String == "true")
        #expect(try Self.checkBuildGraph(out.files[CodeBuildEmitter.batchPath]!) == plan.jobs.filter { $0.kind != .publish && $0.kind != .cleanup }.map(\.id))
        #expect(out.notes == ["buildspec.yml (the CI project's, which pull requests start) leaves out the 3 publish and cleanup build(s); buildspec-release.yml (the release project's, which no webhook starts) runs them"])
    }

    @Test func codebuildSplitsPlansOverTheBatchLimit() throws {
        let plan = try Plan.make(from: Fixtures.hpc)
        #expect(plan.jobs.count > 40)
        let out = try CodeBuildEmitter.emit(plan)
        let parts = out.files.keys.filter { $0 == "buildspec-release.yml" || $0.hasPrefix("buildspec-release-batch-") }.sorted()
        #expect(parts.count == (plan.jobs.count + 39) / 40)
        var all: [String] = []
        for part in parts {
            let ids = try Self.checkBuildGraph(out.files[part]!)
            #expect(ids.count <= 40)
            all += ids
        }
        #expect(Set(all) == Set(plan.jobs.map(\.id)))
        #expect(out.notes.contains { $0.contains("split the \(plan.jobs.count) builds of buildspec-release.yml") && $0.contains("at most 40 builds") && $0.contains("nested batch") }, "\(out.notes)")
        #expect(out.notes.contains { $0.hasPrefix("buildspec-release-batch-2.yml: dropped") })
        // Every job lands in a part no earlier than the parts of the jobs it needs.
        var partOf: [String: Int] = [:]
        for (i, part) in parts.sorted(by: { ($0 == "buildspec-release.yml" ? 0 : 1, $0) < ($1 == "buildspec-release.yml" ? 0 : 1, $1) }).enumerated() {
            for id in try Self.checkBuildGraph(out.files[part]!) { partOf[id] = i }
        }
        for job in plan.jobs { for need in job.needs { #expect(partOf[need]! <= partOf[job.id]!) } }
    }

    @Test func codebuildRejectsBadInput() throws {
        var input = Fixtures.hello
        input.images[0].publishTags = ["latest; rm -rf /"]
        let e = #expect(throws: PipelineError.self) { try Plan.make(from: input) }
        #expect(e?.description.contains("image tag") == true)
        var zero = Fixtures.hello
        zero.settings.codebuildMaxBuildsPerBatch = 0
        let plan2 = try Plan.make(from: zero)
        #expect(throws: PipelineError.self) { try CodeBuildEmitter.emit(plan2) }
        #expect(throws: PipelineError.self) { try CodeBuildEmitter.validateIdentifier(String(repeating: "a", count: 128)) }
    }

    @Test func emittersAreDeterministicAndHoldNoSecretValues() throws {
        for input in [Fixtures.hello, Fixtures.hpc] {
            let a = try Plan.make(from: input)
            var shuffled = input
            shuffled.packages.reverse()
            let b = try Plan.make(from: shuffled)
            for backend in CIBackend.allCases {
                let x = try backend.emit(a), y = try backend.emit(b)
                #expect(x == y, "\(backend) output is the same for the same stack")
                for (path, text) in x.files {
                    #expect(!text.contains("BEGIN PRIVATE KEY"), "\(path)")
                    #expect(text.hasSuffix("\n"))
                }
            }
        }
    }

    @Test func yamlQuotingRoundTrips() throws {
        let tricky = ["true", "no", "on", "null", "0.1.0", "1e3", "- x", "a: b", "a #b", "'q'", "\"dq\"", "${{ x }}",
                      "tab\there", "multi\nline\n", "multi\nline", " lead", "trail ", "ctrl\u{07}", "ünïcode", "*", "&a", "!tag", "%x", "@x", "`x`", "", "~"]
        let node = YAMLNode.map(tricky.enumerated().map { ("k\($0.offset)", .string($0.element)) } + [("list", .list(tricky.map { .string($0) }))])
        let back = try Fixtures.yaml(node.document()) as! [String: Any]
        for (i, s) in tricky.enumerated() { #expect(back["k\(i)"] as? String == s, "round trip of \(s.debugDescription)") }
        #expect(back["list"] as? [String] == tricky)
    }

    @Test func writerWritesAtomicallyAndRefusesEscapes() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try CIBackend.github.emit(try Plan.make(from: Fixtures.hello))
        let written = try PipelineWriter.write(out, to: dir)
        #expect(written.count == 3, "two workflows and the install script")
        for (path, text) in out.files {
            #expect(try String(contentsOf: dir.appendingPathComponent(path), encoding: .utf8) == text)
        }
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
        for bad in ["../evil.yml", "/etc/evil.yml", "a//b.yml", ""] {
            let e = #expect(throws: PipelineError.self) { try PipelineWriter.write(EmittedPipeline(backend: "x", files: [bad: "x"]), to: dir) }
            #expect(e?.description.contains("relative path") == true)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.deletingLastPathComponent().appendingPathComponent("evil.yml").path))
    }
}
