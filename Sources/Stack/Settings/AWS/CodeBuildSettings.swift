import Foundation

/// A CodeBuild project: the `ci_build` and `release_build` sections.
///
/// ```yaml
/// ci_build:
///   source:
///     type: GITHUB                   # GITHUB, GITHUB_ENTERPRISE, BITBUCKET, GITLAB, GITLAB_SELF_MANAGED
///     location: https://github.com/acme/hello.git
///     buildspec: buildspec.yml       # path in the repository (default: buildspec.yml for ci_build,
///                                    #   buildspec-release.yml, the graph with publish builds, for release_build)
///     version: main                  # release_build: the branch or tag built by default
///   branches: [main]                 # ci_build: the webhook builds pushes/PRs whose head is one of these
///   webhook_events: [PUSH, PULL_REQUEST_CREATED, PULL_REQUEST_UPDATED, PULL_REQUEST_REOPENED]
///   environment:
///     type: LINUX_CONTAINER
///     compute_type: BUILD_GENERAL1_SMALL
///     image: aws/codebuild/standard:7.0
///     privileged_mode: false
///     variables: {STACK: hello}
///     secret_variables: {DOCKERHUB_TOKEN: "dockerhub:AccessToken"}   # secret[:json-key]
///   timeout_minutes: 60
///   batch: {max_builds: 20, timeout_minutes: 120, compute_types: [BUILD_GENERAL1_SMALL]}
///   artifacts: {expire_after_days: 30, versioning: false}
///   log_retention_days: 14           # ci_build 14, release_build 90 by default
///   ecr_repositories: [hello]        # repositories the build may push to and pull from
///   secrets: [ci/extra]              # more secrets the build may read (secret_variables' are added)
/// ```
public struct CodeBuildSettings: Sendable, Hashable, SettingsSection {
    /// Where the project's source comes from.
    public struct Source: Sendable, Hashable, SettingsSection {
        /// The provider: `GITHUB`, `GITLAB`, ...
        public var type: String
        /// The repository's clone URL.
        public var location: String
        /// The buildspec's path inside the repository.
        public var buildspec: String
        /// Whether `buildspec:` was left out (the kind's default then applies).
        public var buildspecIsDefault = false
        /// The default branch, tag or commit built (nil: the repository's default branch).
        public var version: String?

        /// The source types a project and its webhook support.
        public static let types = ["GITHUB", "GITHUB_ENTERPRISE", "BITBUCKET", "GITLAB", "GITLAB_SELF_MANAGED"]

        static let keys = ["type", "location", "buildspec", "version"]

        /// Reads and checks the section.
        init(_ r: SettingsMapping) throws {
            type = try r.oneOf("type", Self.types, default: "GITHUB")!
            location = try r.required("location", hint: "give the repository's clone URL, e.g. 'location: https://github.com/OWNER/REPO.git'")
            let hosts = ["GITHUB": "github.com", "BITBUCKET": "bitbucket.org", "GITLAB": "gitlab.com"]
            if let host = hosts[type] {
                guard SettingsMapping.matches(location, "https://\(host.replacingOccurrences(of: ".", with: "\\."))/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+") else {
                    throw r.invalid("location", value: location, reason: "a \(type) source is https://\(host)/OWNER/REPO.git")
                }
            } else {
                guard SettingsMapping.matches(location, "https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9_.~-]+)+") else {
                    throw r.invalid("location", value: location, reason: "give the repository's https clone URL on your server")
                }
            }
            let given: String? = try r.optional("buildspec")
            buildspecIsDefault = given == nil
            buildspec = given ?? "buildspec.yml"
            guard !buildspec.isEmpty, !buildspec.hasPrefix("/"), !buildspec.contains("\n") else {
                throw r.invalid("buildspec", value: buildspec, reason: "give the buildspec's path relative to the repository root")
            }
            version = try r.optional("version")
        }
    }

    /// The build environment.
    public struct Environment: Sendable, Hashable, SettingsSection {
        /// `LINUX_CONTAINER`, `ARM_CONTAINER`, ...
        public var type: String
        /// `BUILD_GENERAL1_SMALL`, ...
        public var computeType: String
        /// The build image.
        public var image: String
        /// Whether the build may run a Docker daemon (needed to build images with docker).
        public var privilegedMode: Bool
        /// Plain-text variables.
        public var variables: [String: String]
        /// Variables read from Secrets Manager: name → `secret[:json-key]` (CodeBuild's own syntax).
        public var secretVariables: [String: String]

        static let types = ["LINUX_CONTAINER", "ARM_CONTAINER", "LINUX_GPU_CONTAINER", "LINUX_LAMBDA_CONTAINER", "ARM_LAMBDA_CONTAINER"]
        static let computeTypes = ["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE", "BUILD_GENERAL1_XLARGE", "BUILD_GENERAL1_2XLARGE",
                                   "BUILD_LAMBDA_1GB", "BUILD_LAMBDA_2GB", "BUILD_LAMBDA_4GB", "BUILD_LAMBDA_8GB", "BUILD_LAMBDA_10GB"]

        /// The defaults: a small standard Linux build image, unprivileged, no variables.
        public init() {
            type = "LINUX_CONTAINER"
            computeType = "BUILD_GENERAL1_SMALL"
            image = "aws/codebuild/standard:7.0"
            privilegedMode = false
            variables = [:]
            secretVariables = [:]
        }

        static let keys = ["type", "compute_type", "image", "privileged_mode", "variables", "secret_variables"]

        /// Reads and checks the section.
        init(_ r: SettingsMapping) throws {
            type = try r.oneOf("type", Self.types, default: "LINUX_CONTAINER")!
            computeType = try r.oneOf("compute_type", Self.computeTypes, default: "BUILD_GENERAL1_SMALL")!
            image = try r.optional("image") ?? "aws/codebuild/standard:7.0"
            guard SettingsMapping.matches(image, "[A-Za-z0-9][A-Za-z0-9._:/@-]*") else {
                throw r.invalid("image", value: image, reason: "give an image reference such as aws/codebuild/standard:7.0 or an ECR image")
            }
            privilegedMode = try r.optional("privileged_mode") ?? false
            variables = try r.plainVariables("variables", secretHint: "store the value in AWS Secrets Manager and list the variable under \(r.path("secret_variables")) as NAME: secret-name[:json-key]")
            secretVariables = try r.optional("secret_variables", [String: String].self) ?? [:]
            for (name, reference) in secretVariables.sorted(by: { $0.key < $1.key }) {
                try r.checkVariableName(name, in: "secret_variables")
                try r.checkSecretName(Self.secretID(of: reference), key: "secret_variables", member: name)
                if variables[name] != nil {
                    throw r.invalid("secret_variables", value: name, member: name, reason: "the name is also under variables; keep it in one place")
                }
            }
        }

        /// The secret's name or ARN in CodeBuild's `secret-id:json-key:stage:version` form.
        static func secretID(of reference: String) -> String {
            let parts = reference.split(separator: ":", omittingEmptySubsequences: false)
            // An ARN has seven colon-separated parts before the JSON key.
            let count = reference.hasPrefix("arn:") ? 7 : 1
            return parts.prefix(count).joined(separator: ":")
        }
    }

    /// Batch build limits.
    public struct Batch: Sendable, Hashable, SettingsSection {
        /// The most builds one batch may start.
        public var maxBuilds: Int
        /// The batch's time limit in minutes (nil: the project's timeout).
        public var timeoutMinutes: Int?
        /// The compute types a batch may use (empty: only the environment's).
        public var computeTypes: [String]

        /// The defaults: 20 builds, the project's timeout, its own compute type.
        public init() {
            maxBuilds = 20
            timeoutMinutes = nil
            computeTypes = []
        }

        static let keys = ["max_builds", "timeout_minutes", "compute_types"]

        /// Reads and checks the section.
        init(_ r: SettingsMapping) throws {
            maxBuilds = try r.int("max_builds", default: 20, in: 1...100)
            timeoutMinutes = r.has("timeout_minutes") ? try r.int("timeout_minutes", default: 60, in: 5...2160) : nil
            computeTypes = try r.optional("compute_types") ?? []
            for type in computeTypes where !Environment.computeTypes.contains(type) {
                throw r.invalid("compute_types", value: type, reason: "use \(Environment.computeTypes.joined(separator: ", "))")
            }
        }
    }

    /// The artifacts bucket.
    public struct Artifacts: Sendable, Hashable, SettingsSection {
        /// Days before artifacts are deleted.
        public var expireAfterDays: Int
        /// Whether the bucket keeps object versions.
        public var versioning: Bool

        /// The defaults: 30 days, no versioning.
        public init() {
            expireAfterDays = 30
            versioning = false
        }

        static let keys = ["expire_after_days", "versioning"]

        /// Reads and checks the section.
        init(_ r: SettingsMapping) throws {
            expireAfterDays = try r.int("expire_after_days", default: 30, in: 1...3650)
            versioning = try r.optional("versioning") ?? false
        }
    }

    /// The source.
    public var source: Source
    /// Branches the CI webhook builds.
    public var branches: [String]
    /// Webhook events the CI project builds on.
    public var webhookEvents: [String]
    /// The build environment.
    public var environment: Environment
    /// A build's time limit in minutes.
    public var timeoutMinutes: Int
    /// Batch build limits.
    public var batch: Batch
    /// The artifacts bucket.
    public var artifacts: Artifacts
    /// Log retention in days; nil means the kind's default (ci 14, release 90).
    public var logRetentionDays: Int?
    /// ECR repositories the build may push to and pull from.
    public var ecrRepositories: [String]
    /// Secrets the build may read (the secret variables' secrets are added to these).
    public var secrets: [String]

    static let webhookEventNames = ["PUSH", "PULL_REQUEST_CREATED", "PULL_REQUEST_UPDATED", "PULL_REQUEST_REOPENED", "PULL_REQUEST_MERGED", "PULL_REQUEST_CLOSED", "RELEASED", "PRERELEASED"]

    static let keys = ["source", "branches", "webhook_events", "environment", "timeout_minutes", "batch", "artifacts", "log_retention_days", "ecr_repositories", "secrets"]

    /// Reads and checks the section.
    init(_ r: SettingsMapping) throws {
        source = try r.required("source", hint: "say where the code is, e.g. 'source: {type: GITHUB, location: https://github.com/OWNER/REPO.git}'")
        branches = try r.optional("branches") ?? ["main"]
        if branches.isEmpty {
            throw r.invalid("branches", value: "[]", reason: "list at least one branch for the webhook to build")
        }
        for branch in branches where !SettingsMapping.matches(branch, #"[A-Za-z0-9._/+-]{1,255}"#) || branch.hasPrefix("/") || branch.contains("..") {
            throw r.invalid("branches", value: branch, reason: "a branch name is letters, digits and ._/+- (no '..')")
        }
        webhookEvents = try r.optional("webhook_events") ?? ["PUSH", "PULL_REQUEST_CREATED", "PULL_REQUEST_UPDATED", "PULL_REQUEST_REOPENED"]
        if webhookEvents.isEmpty {
            throw r.invalid("webhook_events", value: "[]", reason: "list at least one event, e.g. PUSH")
        }
        for event in webhookEvents where !Self.webhookEventNames.contains(event) {
            throw r.invalid("webhook_events", value: event, reason: "use \(Self.webhookEventNames.joined(separator: ", "))")
        }
        environment = try r.optional("environment") ?? Environment()
        timeoutMinutes = try r.int("timeout_minutes", default: 60, in: 5...2160)
        batch = try r.optional("batch") ?? Batch()
        artifacts = try r.optional("artifacts") ?? Artifacts()
        logRetentionDays = try r.logRetention("log_retention_days", default: nil)
        ecrRepositories = try r.optional("ecr_repositories") ?? []
        for name in ecrRepositories { try RegistrySettings.checkRepositoryName(name, key: "ecr_repositories", in: r) }
        secrets = try r.optional("secrets") ?? []
        for name in secrets { try r.checkSecretName(name, key: "secrets") }
    }

    /// Every secret the build reads, sorted and without repeats.
    public var allSecrets: [String] {
        Array(Set(secrets + environment.secretVariables.values.map(Environment.secretID(of:)))).sorted()
    }
}
