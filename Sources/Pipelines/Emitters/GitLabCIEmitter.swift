import Support

/// Emits GitLab CI: a parent `.gitlab-ci.yml` whose `generate` job writes the child pipeline as
/// an artifact, and a trigger job running it (`strategy: depend`, so the parent reflects the
/// child's result); plus the child pipeline itself, generated from the same plan.
///
/// GitLab refuses a job that lists more than `ci_max_needs` needs (50 by default). Such a job
/// gets aggregation (fan-in) jobs that need up to the limit each, and a note says so.
public enum GitLabCIEmitter {
    /// The parent pipeline's path.
    public static let parentPath = ".gitlab-ci.yml"
    /// Where the generate job writes the child pipeline (and where this emitter puts it).
    public static let childPath = ".stackship-ci/gitlab-child.yml"
    /// The variable GitLab puts each job's OIDC token for AWS in (`id_tokens`).
    public static let idTokenVariable = "STACKSHIP_AWS_ID_TOKEN"
    /// Failures worth a retry: the runner's or GitLab's, not the job's own.
    public static let retryWhen = ["runner_system_failure", "stuck_or_timeout_failure", "api_failure"]

    /// Emits both files.
    /// - Throws: `PipelineError.invalidSetting` for a needs limit under 2 or a signing-key
    ///   variable name GitLab cannot hold.
    public static func emit(_ plan: Plan) throws -> EmittedPipeline {
        let s = plan.settings
        try CommonEnvironment.requireSettings(plan)
        guard s.gitlabMaxNeeds >= 2 else {
            throw PipelineError.invalidSetting(name: "gitlabMaxNeeds", value: String(s.gitlabMaxNeeds), reason: "fan-in needs at least 2 needs per job; use the instance's ci_max_needs (50 by default)")
        }
        try GitHubActionsEmitter.requireIdentifier(s.signingKeySecret, setting: "ci.signing_key_secret")
        var notes: [String] = []
        let retry: YAMLNode = .map([("max", .int(2)), ("when", .list(retryWhen.map { .string($0) }))])
        var variables = CommonEnvironment.variables(plan)
        if s.signingKeySecret != "STACKSHIP_SIGNING_KEY" {
            // stackship reads STACKSHIP_SIGNING_KEY; GitLab expands `$NAME` in variables, so the
            // masked CI/CD variable the user named reaches it under that name.
            variables.append(("STACKSHIP_SIGNING_KEY", .string("$" + s.signingKeySecret)))
        }
        let install: [YAMLNode] = CommonEnvironment.installCommand(s).map { [.string($0)] } ?? []
        let setup: [YAMLNode] = s.setup.gitlab.map { .string($0) }
        // With a role: each job asks GitLab for an OIDC token for AWS STS and the AWS credential
        // chain assumes the role with it (web identity); the token goes to a private temporary
        // file, never into the project folder. Without one, the CI/CD variables AWS_ACCESS_KEY_ID
        // and AWS_SECRET_ACCESS_KEY (masked) serve.
        let webIdentity: [YAMLNode] = s.awsRoleARN == nil ? [] : [
            .string("export AWS_WEB_IDENTITY_TOKEN_FILE=\"$(mktemp)\" && printf '%s' \"$\(idTokenVariable)\" > \"$AWS_WEB_IDENTITY_TOKEN_FILE\""),
        ]
        if let role = s.awsRoleARN {
            variables.append(("AWS_ROLE_ARN", .string(role)))
            notes.append("jobs assume \(role) with a GitLab OIDC token (id_tokens, audience sts.amazonaws.com): the role must trust your GitLab instance's issuer (an IAM OIDC provider for it and a condition on the project path)")
        }
        guard !s.publishBranch.isEmpty, s.publishBranch.unicodeScalars.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || "._/-".unicodeScalars.contains($0) }) else {
            throw PipelineError.invalidSetting(name: "ci.publish_branch", value: s.publishBranch, reason: "a branch name of letters, digits and . _ / - is needed in GitLab's rules expression")
        }
        let publishRule = "$CI_COMMIT_BRANCH == \"\(s.publishBranch)\" || $CI_COMMIT_TAG"

        let parent: YAMLNode = .map([
            ("stages", .list([.string("generate"), .string("run")])),
            ("variables", .map(variables)),
            ("generate", .map([
                ("stage", .string("generate")),
                ("image", .string(s.gitlabImage)),
                ("script", .list(install + [.string("stackship ci generate gitlab --stack \"$STACKSHIP_STACK_FILE\" --output .")])),
                ("artifacts", .map([("paths", .list([.string(".stackship-ci/")])), ("expire_in", .string("1 week"))])),
                ("retry", retry),
            ])),
            ("pipeline", .map([
                ("stage", .string("run")),
                ("needs", .list([.string("generate")])),
                ("trigger", .map([
                    ("include", .list([.map([("artifact", .string(childPath)), ("job", .string("generate"))])])),
                    ("strategy", .string("depend")),
                ])),
            ])),
        ])

        // Fan-ins: split every needs list over the limit, level by level, until all fit; each
        // fan-in goes just before the job it serves.
        var jobs: [(String, YAMLNode)] = []
        let planIDs = Set(plan.jobs.map(\.id))
        for job in plan.jobs {
            var needs = job.needs
            var level = 1
            while needs.count > s.gitlabMaxNeeds {
                var next: [String] = []
                for (k, start) in stride(from: 0, to: needs.count, by: s.gitlabMaxNeeds).enumerated() {
                    let id = "\(job.id)_fanin\(level)_\(k + 1)"
                    if planIDs.contains(id) {
                        throw PipelineError.backendLimit(backend: "GitLab CI", reason: "the fan-in job \(id) that job \(job.id) needs has the id of a plan job. Rename that package or image.")
                    }
                    let chunk = needs[start..<min(start + s.gitlabMaxNeeds, needs.count)]
                    jobs.append((id, .map([
                        ("stage", .string(stage(job.kind))),
                        ("needs", .list(chunk.map { .string($0) })),
                        ("variables", .map([("GIT_STRATEGY", .string("none"))])),
                        ("script", .list([.string("echo fan-in")])),
                        ("retry", retry),
                    ])))
                    next.append(id)
                }
                notes.append("split job \(job.id): it needs \(needs.count) jobs, over GitLab's limit of \(s.gitlabMaxNeeds) needs per job (ci_max_needs); inserted \(next.count) fan-in job(s) \(next.first!) to \(next.last!)")
                needs = next
                level += 1
            }
            var pairs: [(String, YAMLNode)] = [
                ("stage", .string(stage(job.kind))),
                ("needs", .list(needs.map { .string($0) })),
            ]
            if !job.env.isEmpty {
                pairs.append(("variables", .map(job.env.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
            }
            if !webIdentity.isEmpty {
                pairs.append(("id_tokens", .map([(idTokenVariable, .map([("aud", .string("sts.amazonaws.com"))]))])))
            }
            // Set-up, then stackship: per job, so the fan-in jobs (which run no stackship) stay bare.
            pairs.append(("before_script", .list(webIdentity + (CommonEnvironment.runsSetup(job.kind) ? setup : []) + install)))
            if job.kind == .publish || job.kind == .cleanup {
                // Only the publish branch and tags push images and collect the shared cache's
                // garbage; branches and merge requests build and test.
                pairs.append(("rules", .list([.map([("if", .string(publishRule))])])))
            }
            let login = job.kind == .publish ? [CIScript.registryLogin(program: Escaping.shell(job.argv[0]), registry: s.registry ?? "", gitlab: true)] : []
            pairs.append(("script", .list((login + CIScript.lines(plan, job, commitVariable: "CI_COMMIT_SHA")).map { .string($0) })))
            pairs.append(("retry", retry))
            jobs.append((job.id, .map(pairs)))
        }
        let defaults: [(String, YAMLNode)] = [("image", .string(s.gitlabImage))]
        let child: YAMLNode = .map([
            ("stages", .list(["base", "packages", "containers", "cleanup"].map { .string($0) })),
            ("variables", .map(variables)),
            ("default", .map(defaults)),
        ] + jobs)
        let header = CommonEnvironment.header(plan) + notes.map { "note: " + $0 }
        var files = CommonEnvironment.installFiles(s)
        files[parentPath] = parent.document(header: CommonEnvironment.header(plan))
        files[childPath] = child.document(header: header)
        return EmittedPipeline(backend: "gitlab", files: files, notes: notes)
    }

    static func stage(_ kind: Job.Kind) -> String {
        switch kind {
        case .noop: return "base"
        case .package: return "packages"
        case .image, .test, .publish: return "containers"
        case .reindex, .cleanup: return "cleanup"
        }
    }
}
