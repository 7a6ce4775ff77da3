import Support

/// What an emitter produces: files by path relative to the output folder, and notes on what it
/// had to change to fit the backend (splits, fan-ins) or what the user should know.
public struct EmittedPipeline: Sendable, Equatable {
    /// The backend's name (`github`, `gitlab`, `codebuild`).
    public var backend: String
    /// File contents by relative path (forward slashes, no `..`).
    public var files: [String: String]
    /// Human-readable notes, in the order they arose.
    public var notes: [String]

    /// Creates an emitted pipeline.
    public init(backend: String, files: [String: String], notes: [String] = []) {
        self.backend = backend
        self.files = files
        self.notes = notes
    }
}

/// The CI backends a plan can be emitted for.
public enum CIBackend: String, Sendable, CaseIterable {
    /// GitHub Actions workflows.
    case github
    /// A GitLab CI parent pipeline and the child pipeline it triggers.
    case gitlab
    /// An AWS CodeBuild batch build-graph buildspec and one buildspec per job kind.
    case codebuild

    /// Emits `plan` for this backend.
    /// - Throws: `PipelineError.backendLimit` or `.invalidSetting` when the plan cannot be expressed.
    public func emit(_ plan: Plan) throws -> EmittedPipeline {
        switch self {
        case .github: return try GitHubActionsEmitter.emit(plan)
        case .gitlab: return try GitLabCIEmitter.emit(plan)
        case .codebuild: return try CodeBuildEmitter.emit(plan)
        }
    }
}

/// Environment every backend's jobs get from the settings. The signing key appears only as the
/// name of the variable or secret holding it.
enum CommonEnvironment {
    static func variables(_ plan: Plan) -> [(String, YAMLNode)] {
        let s = plan.settings
        var out: [(String, YAMLNode)] = [
            ("STACKSHIP_VERSION", .string(s.toolVersion)),
            ("STACKSHIP_STACK_FILE", .string(plan.stackFile)),
        ]
        // The name every stackship command reads its binary cache from (CacheOptions).
        if let cache = s.cacheURL { out.append(("STACKSHIP_CACHE", .string(cache))) }
        if let registry = s.registry { out.append(("STACKSHIP_REGISTRY", .string(registry))) }
        if let region = s.awsRegion { out.append(("AWS_REGION", .string(region))) }
        // Public keys, not secrets: jobs without the signing key verify the cache with them.
        if !s.trustedKeys.isEmpty { out.append(("STACKSHIP_TRUSTED_KEYS", .string(s.trustedKeys.joined(separator: ":")))) }
        if let install = scriptedInstall(s) { out += InstallScript.variables(install) }
        return out
    }

    /// The jobs of a pipeline that branches and pull requests may start: no publish jobs (they
    /// push images) and no cleanup (only the publish branch collects the shared cache's
    /// garbage); whoever needed a dropped job needs what it needed instead. Also the dropped ids.
    static func withoutPublishing(_ plan: Plan, alsoDropping extra: Set<Job.Kind> = []) -> (jobs: [Job], dropped: Set<String>) {
        let byID = plan.jobsByID
        let dropped = Set(plan.jobs.filter { $0.kind == .publish || $0.kind == .cleanup || extra.contains($0.kind) }.map(\.id))
        let jobs = plan.jobs.filter { !dropped.contains($0.id) }.map { job -> Job in
            var job = job
            var needs: [String] = []
            var pending = job.needs
            while let need = pending.popLast() {
                if dropped.contains(need) { pending += byID[need]!.needs } else { needs.append(need) }
            }
            job.needs = Array(Set(needs)).sorted()
            return job
        }
        return (jobs, dropped)
    }

    /// The job kinds that run `ci.setup` before stackship: those that build or assemble (test and
    /// publish jobs assemble their image again, running its `steps:`).
    static func runsSetup(_ kind: Job.Kind) -> Bool {
        [.package, .image, .test, .publish].contains(kind)
    }

    /// The command that puts stackship on a job's PATH: `ci.install_command`, else the install
    /// script; nil when neither is set (``requireSettings(_:)`` has then failed).
    static func installCommand(_ s: PlanInput.Settings) -> String? {
        s.installCommand ?? (scriptedInstall(s) != nil ? InstallScript.command : nil)
    }

    /// The install script, for the files of a backend whose jobs run it.
    static func installFiles(_ s: PlanInput.Settings) -> [String: String] {
        scriptedInstall(s) != nil ? [InstallScript.path: InstallScript.text] : [:]
    }

    /// `ci.install` when the install script carries it out: not when `ci.install_command`
    /// replaces the script with the user's own command.
    static func scriptedInstall(_ s: PlanInput.Settings) -> PlanInput.Settings.Install? {
        s.installCommand == nil ? s.install : nil
    }

    /// What every backend checks before it writes anything: a plan with packages shares them
    /// between jobs through the binary cache, so CI cannot run it without one.
    static func requireSettings(_ plan: Plan) throws {
        let s = plan.settings
        if s.install == nil && s.installCommand == nil {
            throw PipelineError.missingSetting(
                key: "ci.install", needs: "every CI job runs stackship, which a stock runner does not have",
                example: "{url: https://HOST/stackship-\(s.toolVersion)-linux-x86_64.tar.gz, sha256: HEX} (a release artifact, or a path in the repository), {source: https://HOST/stackship.git, ref: v\(s.toolVersion)}, or preinstalled")
        }
        let buildsPackages = plan.jobs.contains(where: { $0.kind == .package || $0.kind == .reindex })
        if buildsPackages {
            _ = try s.require(\.cacheURL, "ci.cache", for: "CI jobs share the stack's packages through that binary cache",
                              example: "s3://BUCKET/packages")
        }
        if buildsPackages, s.trustedKeys.isEmpty, plan.jobs.contains(where: { [.image, .test, .publish].contains($0.kind) }) {
            throw PipelineError.missingSetting(
                key: "ci.trusted_key", needs: "image, test and publish jobs read the packages the package jobs signed, without the signing key, so they need its public key to verify them",
                example: "keys/stackship-cache.pub (the .pub file `stackship cache keygen` wrote beside the key, committed; relative to the stack file)")
        }
    }

    static let standardHeader = [
        "Generated by stackship from the stack's plan; do not edit by hand.",
        "Regenerate it with stackship when the stack changes.",
    ]

    /// The comment every generated file starts with; with placeholders, it lists each one.
    static func header(_ plan: Plan) -> [String] {
        guard !plan.settings.placeholders.isEmpty else { return standardHeader }
        return standardHeader + ["PLACEHOLDERS (ci generate --allow-placeholders): an example only, it will not run as it is.",
                                 "Replace each of these values before use:"]
            + plan.settings.placeholders.map { "  \($0)" }
    }
}

/// The shell lines a CI job runs for a plan job.
enum CIScript {
    /// Why test and publish jobs build their image again, written into the generated file.
    static let reassembleComment = "# CI jobs do not share the local store: re-assemble the image from the binary cache first (stackship build with STACKSHIP_CACHE set is reproducible: same packages, same digest)."

    /// The command that re-assembles a job's image, for test and publish jobs; nil for others.
    static func reassembly(_ plan: Plan, _ job: Job) -> [String]? {
        guard job.kind == .test || job.kind == .publish, let subject = job.subject else { return nil }
        return [job.argv[0], "build", plan.stackFile, "--image", subject]
    }

    /// Logs stackship in to the registry the publish jobs push to. ECR, private or public
    /// (`public.ecr.aws/ALIAS`): `stackship login ecr --registry "$STACKSHIP_REGISTRY"` with the
    /// job's AWS credentials (OIDC on GitHub, the service role on CodeBuild, CI variables on
    /// GitLab), which asks ECR Public's API for public.ecr.aws. Another registry on GitLab: the
    /// job's own registry credentials (`CI_REGISTRY_USER`/`CI_REGISTRY_PASSWORD`, masked by
    /// GitLab), read from stdin.
    static func registryLogin(program: String, registry: String, gitlab: Bool = false) -> String {
        if isECR(registry) || !gitlab {
            return "\(program) login ecr --registry \"$STACKSHIP_REGISTRY\""
        }
        return "printf '%s' \"$CI_REGISTRY_PASSWORD\" | \(program) login \"$STACKSHIP_REGISTRY\" --username \"$CI_REGISTRY_USER\" --password-stdin"
    }

    /// The GitHub secrets a publish job logs in to a registry other than ECR and GHCR with.
    static let githubRegistrySecrets = (username: "REGISTRY_USERNAME", password: "REGISTRY_PASSWORD")

    /// How a GitHub publish job logs in: ECR with the OIDC role's credentials; GHCR with the
    /// workflow's own token (the job then needs `packages: write`); any other registry with the
    /// repository secrets REGISTRY_USERNAME and REGISTRY_PASSWORD, read from stdin, never from
    /// the command line.
    static func githubLogin(program: String, registry: String) -> (run: String, env: [(String, YAMLNode)]) {
        if isECR(registry) { return (registryLogin(program: program, registry: registry), []) }
        if isGHCR(registry) {
            return ("printf '%s' \"$GITHUB_TOKEN\" | \(program) login ghcr.io --username \"$GITHUB_ACTOR\" --password-stdin",
                    [("GITHUB_TOKEN", .string("${{ secrets.GITHUB_TOKEN }}"))])
        }
        let (user, password) = githubRegistrySecrets
        return ("printf '%s' \"$\(password)\" | \(program) login \"${STACKSHIP_REGISTRY%%/*}\" --username \"$\(user)\" --password-stdin",
                [(user, .string("${{ secrets.\(user) }}")), (password, .string("${{ secrets.\(password) }}"))])
    }

    /// Whether `registry` is GitHub's container registry.
    static func isGHCR(_ registry: String) -> Bool {
        registry == "ghcr.io" || registry.hasPrefix("ghcr.io/")
    }

    /// Whether `registry` is Amazon ECR: a private registry (`ACCOUNT.dkr.ecr.REGION.amazonaws.com`)
    /// or ECR Public (`public.ecr.aws/ALIAS`).
    static func isECR(_ registry: String) -> Bool {
        registry.contains(".dkr.ecr.") || isECRPublic(registry)
    }

    /// Whether `registry` is ECR Public (`public.ecr.aws`, usually with the registry's alias).
    static func isECRPublic(_ registry: String) -> Bool {
        registry == "public.ecr.aws" || registry.hasPrefix("public.ecr.aws/")
    }

    /// The name of the step that logs in, for the workflows that show one.
    static func loginStepName(registry: String) -> String {
        isECRPublic(registry) ? "Log in to ECR Public" : isECR(registry) ? "Log in to ECR" : "Log in to the registry"
    }

    /// The comment and re-assembly (test and publish jobs), then the job's own command. The
    /// first publish job of each image also pushes it tagged with the commit (`commitVariable`
    /// holds the SHA in the backend's environment), so every pushed commit can be found by SHA.
    static func lines(_ plan: Plan, _ job: Job, commitVariable: String) -> [String] {
        var out: [String] = []
        if let build = reassembly(plan, job) {
            out.append(reassembleComment)
            out.append(Escaping.commandLine(build))
        }
        out.append(Escaping.commandLine(job.argv))
        if job.kind == .publish, job.argv.count >= 4,
           plan.jobs.first(where: { $0.kind == .publish && $0.subject == job.subject })?.id == job.id {
            let repository = Plan.repository(of: job.argv[3])
            out.append(Escaping.commandLine(Array(job.argv.prefix(3))) + " " + Escaping.shell(repository + ":") + "\"${\(commitVariable)}\"")
        }
        return out
    }
}
