import Support

/// Emits GitHub Actions workflows from a plan: a test workflow (pull requests and pushes to
/// branches other than the publish branch; no cloud credentials) and a publish workflow (pushes
/// to the publish branch) whose jobs get short-lived AWS credentials through OIDC.
///
/// Hardening: actions are pinned to full commit SHAs (version in a comment), checkout does not
/// persist the token, permissions are empty at workflow level and granted per job, and no
/// `${{ }}` expression reaches a `run:` script (values travel through `env:`).
public enum GitHubActionsEmitter {
    /// An action pinned to a commit.
    public struct PinnedAction: Sendable, Equatable {
        /// `owner/repo`.
        public var name: String
        /// The full 40-hex commit SHA.
        public var sha: String
        /// The release tag that SHA is, written as a comment.
        public var version: String
    }

    /// actions/checkout v4.3.1.
    public static let checkout = PinnedAction(name: "actions/checkout", sha: "34e114876b0b11c390a56381ad16ebd13914f8d5", version: "v4.3.1")
    /// aws-actions/configure-aws-credentials v4.3.1.
    public static let configureAWSCredentials = PinnedAction(name: "aws-actions/configure-aws-credentials", sha: "7474bc4690e29a8392af63c5b98e7449536d5c3a", version: "v4.3.1")

    /// The test workflow's path.
    public static let testWorkflowPath = ".github/workflows/stackship-test.yml"
    /// The publish workflow's path.
    public static let publishWorkflowPath = ".github/workflows/stackship-publish.yml"

    /// Emits both workflows.
    /// - Throws: `PipelineError.invalidSetting` for a secret name GitHub cannot hold, or a
    ///   missing role ARN or region when the plan publishes.
    public static func emit(_ plan: Plan) throws -> EmittedPipeline {
        let s = plan.settings
        try requireIdentifier(s.signingKeySecret, setting: "ci.signing_key_secret")
        try CommonEnvironment.requireSettings(plan)
        if plan.jobs.contains(where: { $0.kind == .publish }) {
            let role = try s.require(\.awsRoleARN, "ci.aws_role_arn", for: "the publish workflow assumes that role through GitHub's OIDC to push",
                                     example: "arn:aws:iam::ACCOUNT:role/NAME (the registry stack's PushRoleArn output)")
            guard role.hasPrefix("arn:") else {
                throw PipelineError.invalidSetting(name: "ci.aws_role_arn", value: role, reason: "the publish workflow assumes this role through OIDC; give the IAM role's ARN (arn:aws:iam::ACCOUNT:role/NAME)")
            }
            _ = try s.require(\.awsRegion, "ci.aws_region", for: "the publish workflow's AWS credentials are for that region", example: "us-east-1")
        }
        var notes: [String] = []
        // Nor the cache index: it is a write, and test workflow jobs have no cloud credentials.
        let (testJobs, dropped) = CommonEnvironment.withoutPublishing(plan, alsoDropping: [.reindex])
        let test = workflow(
            name: "stackship test (\(plan.stackName))", cancelInProgress: true,
            on: .map([
                ("push", .map([("branches-ignore", .list([.string(s.publishBranch)]))])),
                ("pull_request", .map([])),
            ]),
            jobs: testJobs.map { job(plan, $0, aws: false) }
        )
        let publish = workflow(
            name: "stackship publish (\(plan.stackName))", cancelInProgress: false,
            on: .map([
                ("push", .map([("branches", .list([.string(s.publishBranch)]))])),
                ("workflow_dispatch", .map([])),
            ]),
            jobs: plan.jobs.map { job(plan, $0, aws: $0.kind != .noop) }
        )
        if !dropped.isEmpty {
            notes.append("the test workflow leaves out the \(dropped.count) publish, cache index and cleanup job(s); they run in \(publishWorkflowPath) on pushes to \(s.publishBranch)")
        }
        notes.append("test workflow jobs get no cloud credentials: on pull requests from forks neither OIDC tokens nor secrets are available; give the cache read access for them or accept cache misses")
        var files = CommonEnvironment.installFiles(s)
        files[testWorkflowPath] = test.document(header: CommonEnvironment.header(plan))
        files[publishWorkflowPath] = publish.document(header: CommonEnvironment.header(plan))
        return EmittedPipeline(backend: "github", files: files, notes: notes)
    }

    static func requireIdentifier(_ value: String, setting: String) throws {
        guard VariableName.isValid(value) else {
            throw PipelineError.invalidSetting(name: setting, value: value, reason: "it names a CI secret or variable, so it may hold only letters, digits and underscores and must not start with a digit")
        }
    }

    /// One run per workflow and ref at a time: a newer push supersedes a test run, while a
    /// publish run finishes (a half-pushed release is worse than a late one).
    private static func workflow(name: String, cancelInProgress: Bool, on: YAMLNode, jobs: [(String, YAMLNode)]) -> YAMLNode {
        .map([
            ("name", .string(name)),
            ("on", on),
            ("permissions", .map([])),
            ("concurrency", .map([
                ("group", .string("${{ github.workflow }}-${{ github.ref }}")),
                ("cancel-in-progress", .bool(cancelInProgress)),
            ])),
            ("jobs", .map(jobs)),
        ])
    }

    /// A `ci.setup` step: its name, then `uses:` with `with:`, or `run:`.
    private static func setupStep(_ step: PlanInput.Settings.GitHubStep) -> YAMLNode {
        var pairs: [(String, YAMLNode)] = []
        if let name = step.name { pairs.append(("name", .string(name))) }
        if let uses = step.uses {
            pairs.append(("uses", .string(uses)))
            if !step.with.isEmpty { pairs.append(("with", .map(step.with.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))) }
        }
        if let run = step.run { pairs.append(("run", .string(run))) }
        return .map(pairs)
    }

    private static func uses(_ action: PinnedAction) -> YAMLNode {
        .commented(.string("\(action.name)@\(action.sha)"), action.version)
    }

    private static func job(_ plan: Plan, _ job: Job, aws: Bool) -> (String, YAMLNode) {
        let s = plan.settings
        var env = CommonEnvironment.variables(plan)
        for (k, v) in job.env.sorted(by: { $0.key < $1.key }) { env.append((k, .string(v))) }
        if job.kind == .package || job.kind == .reindex {
            env.append(("STACKSHIP_SIGNING_KEY", .string("${{ secrets.\(s.signingKeySecret) }}")))
        }
        let script = CIScript.lines(plan, job, commitVariable: "GITHUB_SHA").joined(separator: "\n")
        var steps: [YAMLNode] = [
            .map([
                ("name", .string("Check out")),
                ("uses", uses(checkout)),
                ("with", .map([("persist-credentials", .bool(false))])),
            ]),
        ]
        if aws {
            steps.append(.map([
                ("name", .string("AWS credentials (OIDC)")),
                ("uses", uses(configureAWSCredentials)),
                ("with", .map([
                    ("role-to-assume", .string(s.awsRoleARN ?? "")),
                    ("aws-region", .string(s.awsRegion ?? "")),
                ])),
            ]))
        }
        if CommonEnvironment.runsSetup(job.kind) {
            for step in s.setup.github { steps.append(setupStep(step)) }
        }
        if let install = CommonEnvironment.installCommand(s) {
            steps.append(.map([("name", .string("Install stackship \(s.toolVersion)")), ("run", .string(install))]))
        }
        var packagesWrite = false
        if job.kind == .publish && aws {
            let registry = s.registry ?? ""
            let login = CIScript.githubLogin(program: Escaping.shell(job.argv[0]), registry: registry)
            var step: [(String, YAMLNode)] = [("name", .string(CIScript.loginStepName(registry: registry)))]
            if !login.env.isEmpty { step.append(("env", .map(login.env))) }
            step.append(("run", .string(login.run)))
            steps.append(.map(step))
            packagesWrite = CIScript.isGHCR(registry)
        }
        steps.append(.map([("name", .string(RendererLabel.of(job))), ("run", .string(script))]))

        var pairs: [(String, YAMLNode)] = [
            ("name", .string(RendererLabel.of(job))),
            ("runs-on", .string(s.githubRunner)),
        ]
        if !job.needs.isEmpty { pairs.append(("needs", .list(job.needs.map { .string($0) }))) }
        let contents: (String, YAMLNode) = ("contents", .commented(.string("read"), "actions/checkout reads the repository"))
        var permissions: [(String, YAMLNode)] = [contents]
        if aws { permissions.insert(("id-token", .commented(.string("write"), "OIDC token for aws-actions/configure-aws-credentials")), at: 0) }
        if packagesWrite { permissions.append(("packages", .commented(.string("write"), "push to ghcr.io with the workflow's token"))) }
        pairs.append(("permissions", .map(permissions)))
        pairs.append(("env", .map(env)))
        pairs.append(("steps", .list(steps)))
        return (job.id, .map(pairs))
    }
}

/// A job's human label (`package zlib`), shared by emitters.
enum RendererLabel {
    static func of(_ job: Job) -> String { PlanRenderer.label(job) }
}
