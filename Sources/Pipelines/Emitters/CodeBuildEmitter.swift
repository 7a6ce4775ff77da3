import Support

/// Emits AWS CodeBuild: `buildspec.yml` holding a batch `build-graph` (one build per job,
/// `depend-on` as in the plan) and one buildspec per job kind under `codebuild/`, which each
/// build runs with its job's variables.
///
/// CodeBuild's limits: a build inside a batch cannot start another batch (no nested batches),
/// and a batch holds at most the project's `maximumBuildsAllowed` builds (batch restrictions).
/// A larger plan is split, in dependency order, into several batch buildspecs run one after
/// another from outside (a pipeline stage each); the notes say where and why.
public enum CodeBuildEmitter {
    /// The first (or only) batch buildspec of the CI project, without publish builds.
    public static let batchPath = "buildspec.yml"
    /// The first (or only) batch buildspec of the release project: the whole plan.
    public static let releaseBatchPath = "buildspec-release.yml"
    /// The longest identifier CodeBuild accepts in a build graph.
    public static let maxIdentifierLength = 127

    /// Emits the batch buildspec(s) and the per-kind buildspecs.
    /// - Throws: `PipelineError.invalidSetting` for an unusable batch limit, secret name or tag;
    ///   `PipelineError.backendLimit` for an identifier CodeBuild would reject.
    public static func emit(_ plan: Plan) throws -> EmittedPipeline {
        let s = plan.settings
        try CommonEnvironment.requireSettings(plan)
        guard s.codebuildMaxBuildsPerBatch >= 1 else {
            throw PipelineError.invalidSetting(name: "codebuildMaxBuildsPerBatch", value: String(s.codebuildMaxBuildsPerBatch), reason: "a batch must hold at least one build; use the project's batch restriction maximumBuildsAllowed")
        }
        if s.signingKeySecret.isEmpty {
            throw PipelineError.invalidSetting(name: "signingKeySecret", value: "", reason: "name the Secrets Manager secret holding the signing key")
        }
        for job in plan.jobs {
            try validateIdentifier(job.id)
        }
        var notes: [String] = []
        var files = CommonEnvironment.installFiles(s)

        // Pull requests start the CI project, whose batch has no publish (nor cleanup) build; the
        // release project, which no webhook starts, runs the whole plan and publishes.
        let (ciJobs, dropped) = CommonEnvironment.withoutPublishing(plan)
        batchFiles(ciJobs, base: batchBase, plan: plan, into: &files, notes: &notes)
        batchFiles(plan.jobs, base: releaseBase, plan: plan, into: &files, notes: &notes)
        if !dropped.isEmpty {
            notes.append("\(batchPath) (the CI project's, which pull requests start) leaves out the \(dropped.count) publish and cleanup build(s); \(releaseBatchPath) (the release project's, which no webhook starts) runs them")
        }
        let program = plan.jobs.first?.argv.first ?? "stackship"
        for kind in Set(plan.jobs.map(\.kind)).sorted() {
            files[kindPath(kind)] = kindBuildspec(kind, plan: plan, program: program).document(header: CommonEnvironment.header(plan))
        }
        return EmittedPipeline(backend: "codebuild", files: files, notes: notes)
    }

    static let batchBase = "buildspec"
    static let releaseBase = "buildspec-release"
    static func partPath(_ i: Int, base: String = batchBase) -> String { i == 0 ? "\(base).yml" : "\(base)-batch-\(i + 1).yml" }

    /// Writes `jobs` as batch buildspecs `BASE.yml`, `BASE-batch-2.yml`, …: parts in plan order
    /// (stages ascending, so every need is in the same or an earlier part) of at most the
    /// project's batch limit each.
    static func batchFiles(_ jobs: [Job], base: String, plan: Plan, into files: inout [String: String], notes: inout [String]) {
        let s = plan.settings
        let max = s.codebuildMaxBuildsPerBatch
        let parts = stride(from: 0, to: jobs.count, by: max).map { Array(jobs[$0..<min($0 + max, jobs.count)]) }
        var partOf: [String: Int] = [:]
        for (i, part) in parts.enumerated() { for job in part { partOf[job.id] = i } }
        if parts.count > 1 {
            notes.append("split the \(jobs.count) builds of \(partPath(0, base: base)) into \(parts.count) batch buildspecs (\(parts.indices.map { partPath($0, base: base) }.joined(separator: ", "))): a CodeBuild batch holds at most \(max) builds (the project's batch restriction maximumBuildsAllowed), and a build cannot start a nested batch, so run the parts one after another from outside, each after the previous succeeded (e.g. one CodePipeline stage per part)")
        }
        for (i, part) in parts.enumerated() {
            var graph: [YAMLNode] = []
            var crossing = 0
            for job in part {
                let inPart = job.needs.filter { partOf[$0] == i }
                crossing += job.needs.count - inPart.count
                var env: [(String, YAMLNode)] = [
                    ("compute-type", .string(job.kind == .package ? s.codebuildComputeType : (s.codebuildImageComputeType ?? s.codebuildComputeType))),
                    ("image", .string(s.codebuildImage)),
                    ("privileged-mode", .bool(job.kind == .test)),
                ]
                var variables: [(String, YAMLNode)] = [("STACKSHIP_JOB", .string(job.id))]
                if let subject = job.subject { variables.append(("STACKSHIP_SUBJECT", .string(subject))) }
                if job.kind == .publish, job.argv.count >= 4 {
                    variables.append(("STACKSHIP_PUSH_SOURCE", .string(job.argv[2])))
                    variables.append(("STACKSHIP_PUSH_DESTINATION", .string(job.argv[3])))
                }
                for (k, v) in job.env.sorted(by: { $0.key < $1.key }) { variables.append((k, .string(v))) }
                env.append(("variables", .map(variables)))
                var entry: [(String, YAMLNode)] = [
                    ("identifier", .string(job.id)),
                    ("buildspec", .string(kindPath(job.kind))),
                ]
                if !inPart.isEmpty { entry.append(("depend-on", .list(inPart.map { .string($0) }))) }
                entry.append(("env", .map(env)))
                entry.append(("ignore-failure", .bool(false)))
                graph.append(.map(entry))
            }
            if crossing > 0 {
                notes.append("\(partPath(i, base: base)): dropped \(crossing) depend-on edge(s) to builds of earlier parts; run it only after those parts succeeded")
            }
            let doc: YAMLNode = .map([
                ("version", .string("0.2")),
                ("batch", .map([("fast-fail", .bool(false)), ("build-graph", .list(graph))])),
                ("phases", .map([("build", .map([("commands", .list([
                    .string("echo \"this buildspec runs as a batch build: start it with start-build-batch\" >&2; exit 1"),
                ]))]))])),
            ])
            var header = CommonEnvironment.header(plan)
            if parts.count > 1 { header.append("Part \(i + 1) of \(parts.count): run after part \(i) succeeded.".replacingOccurrences(of: "after part 0 succeeded", with: "first")) }
            files[partPath(i, base: base)] = doc.document(header: header)
        }
    }

    /// The publish buildspec's first command: a build a pull request started never pushes, even
    /// if someone points the CI project at the release graph.
    static let publishGuard = "case \"${CODEBUILD_WEBHOOK_EVENT:-}\" in PULL_REQUEST_*) echo \"refusing to publish from a pull-request build ($CODEBUILD_WEBHOOK_EVENT): publish builds run in the release project\" >&2; exit 1;; esac"

    static func kindPath(_ kind: Job.Kind) -> String { "codebuild/\(kind.rawValue).yml" }

    static func validateIdentifier(_ id: String) throws {
        guard !id.isEmpty, id.utf8.count <= maxIdentifierLength,
              id.unicodeScalars.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" }) else {
            throw PipelineError.backendLimit(backend: "CodeBuild", reason: "job id '\(id)' is not a valid build-graph identifier (letters, digits and underscores, at most \(maxIdentifierLength) characters). Rename the job.")
        }
    }

    static func kindBuildspec(_ kind: Job.Kind, plan: Plan, program: String) -> YAMLNode {
        let s = plan.settings
        let p = Escaping.shell(program)
        let stack = "\"$STACKSHIP_STACK_FILE\""
        let reassemble = [CIScript.reassembleComment, "\(p) build \(stack) --image \"$STACKSHIP_SUBJECT\""]
        var commands: [String]
        switch kind {
        case .package: commands = ["\(p) build \(stack) --package \"$STACKSHIP_SUBJECT\""]
        case .image: commands = ["\(p) build \(stack) --image \"$STACKSHIP_SUBJECT\""]
        case .test: commands = reassemble + ["\(p) test \"$STACKSHIP_SUBJECT\" --stack \(stack)"]
        case .publish: commands = [publishGuard] + reassemble + ["\(p) push \"$STACKSHIP_PUSH_SOURCE\" \"$STACKSHIP_PUSH_DESTINATION\"",
                                                "\(p) push \"$STACKSHIP_PUSH_SOURCE\" \"${STACKSHIP_PUSH_DESTINATION%:*}:$CODEBUILD_RESOLVED_SOURCE_VERSION\""]
        case .reindex: commands = ["\(p) cache reindex"]
        case .cleanup: commands = ["\(p) cache gc --stack \(stack)"]
        case .noop: commands = ["\(p) plan --stack \(stack)"]
        }
        var env: [(String, YAMLNode)] = [
            ("shell", .string("bash")),
            ("variables", .map(CommonEnvironment.variables(plan))),
        ]
        if kind == .package || kind == .reindex {
            env.append(("secrets-manager", .map([("STACKSHIP_SIGNING_KEY", .string(s.signingKeySecret))])))
        }
        var phases: [(String, YAMLNode)] = []
        let install = (CommonEnvironment.runsSetup(kind) ? s.setup.codebuild : []) + (CommonEnvironment.installCommand(s).map { [$0] } ?? [])
        if !install.isEmpty { phases.append(("install", .map([("commands", .list(install.map { .string($0) }))]))) }
        if kind == .publish {
            phases.append(("pre_build", .map([("commands", .list([.string(CIScript.registryLogin(program: p, registry: s.registry ?? ""))]))])))
        }
        phases.append(("build", .map([("commands", .list(commands.map { .string($0) }))])))
        return .map([
            ("version", .string("0.2")),
            ("env", .map(env)),
            ("phases", .map(phases)),
            ("artifacts", .map([
                ("files", .list([.string("**/*")])),
                ("base-directory", .string(".stackship/reports")),
                ("name", .string("$STACKSHIP_JOB")),
            ])),
        ])
    }
}
