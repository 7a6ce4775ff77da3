import Foundation
import Support

/// What a plan is made from: the stack's packages and images with their cache state, and the
/// CI settings. The caller builds it from the stack model (this target does not import `Stack`).
public struct PlanInput: Sendable, Codable, Equatable {
    /// The stack's name, used in pipeline names and report titles.
    public var stackName: String
    /// The stack file path passed to the CLI in every job command (`--stack FILE`).
    public var stackFile: String
    /// Every package of the stack, in any order.
    public var packages: [Package]
    /// Every image of the stack, in any order.
    public var images: [Image]
    /// Cache, signing, registry, AWS and runner settings.
    public var settings: Settings

    /// Creates an input.
    public init(stackName: String, stackFile: String, packages: [Package], images: [Image], settings: Settings = Settings()) {
        self.stackName = stackName
        self.stackFile = stackFile
        self.packages = packages
        self.images = images
        self.settings = settings
    }

    /// One package: its content hash and dependencies, and whether it must be built.
    public struct Package: Sendable, Codable, Equatable {
        /// The package name, unique in the stack.
        public var name: String
        /// The package's content hash (hex); it covers the package's inputs.
        public var hash: String
        /// Names of the packages it depends on.
        public var dependencies: [String]
        /// True when the binary cache already holds this package at `hash`.
        public var cached: Bool
        /// Whether the package changed since the base ref (nil: unknown, never pruned for it).
        public var changedSinceBase: Bool?

        /// Creates a package.
        public init(name: String, hash: String, dependencies: [String] = [], cached: Bool = false, changedSinceBase: Bool? = nil) {
            self.name = name
            self.hash = hash
            self.dependencies = dependencies
            self.cached = cached
            self.changedSinceBase = changedSinceBase
        }
    }

    /// One image, assembled from packages.
    public struct Image: Sendable, Codable, Equatable {
        /// The image name, unique in the stack.
        public var name: String
        /// Names of the packages it is made of.
        public var packages: [String]
        /// True when the image has tests to run against its running container.
        public var tests: Bool
        /// Tags to publish it under (none: not published): a bare tag (`1.0`) is a tag of the
        /// image's own name in the store, a reference (`team/hello:1.0`) is used as it is. Each is
        /// pushed to the registry setting under its repository path and tag.
        public var publishTags: [String]
        /// The stack's own images this one is built on (its base, or the runtime base), by name.
        public var bases: [String]

        /// Creates an image.
        public init(name: String, packages: [String], tests: Bool = false, publishTags: [String] = [], bases: [String] = []) {
            self.name = name
            self.packages = packages
            self.tests = tests
            self.publishTags = publishTags
            self.bases = bases
        }
    }

    /// CI and cache settings shared by every backend. None of them is a secret: the signing key
    /// is referred to by the name of the CI variable or secret that holds it.
    public struct Settings: Sendable, Codable, Equatable {
        /// The binary cache URL, e.g. `s3://bucket/prefix`; nil when not given (a plan with
        /// packages then cannot be emitted for CI: its jobs share packages through it).
        public var cacheURL: String?
        /// The name of the CI/CD variable (GitLab, GitHub secret) or Secrets Manager secret
        /// (CodeBuild) holding the package-signing key. Never the key itself.
        public var signingKeySecret: String
        /// The registry images are pushed to, e.g. an ECR URI `123456789012.dkr.ecr.eu-west-1.amazonaws.com`;
        /// nil when not given (publishing then needs it).
        public var registry: String?
        /// The IAM role CI assumes through OIDC (GitHub) to reach AWS; nil when not given.
        public var awsRoleARN: String?
        /// The AWS region; nil when not given.
        public var awsRegion: String?
        /// The settings (`ci.registry`, …) filled with example values because the user asked
        /// for placeholders (`ci generate --allow-placeholders`, for documentation); every
        /// generated file then says so at its top.
        public var placeholders: [String] = []

        /// Placeholders are a property of the files written, not of the plan: not encoded.
        enum CodingKeys: String, CodingKey {
            case cacheURL, signingKeySecret, registry, awsRoleARN, awsRegion, toolVersion, installCommand, install, trustedKeys, setup,
                 githubRunner, gitlabImage,
                 codebuildImage, codebuildComputeType, codebuildImageComputeType, codebuildMaxBuildsPerBatch, publishBranch, gitlabMaxNeeds
        }
        /// The stackship version CI installs (`STACKSHIP_VERSION`).
        public var toolVersion: String
        /// A shell command that installs stackship in a CI job, instead of ``install``.
        public var installCommand: String?
        /// How CI jobs get stackship; nil when not given (the CI emitters then need
        /// ``installCommand``, else they name `ci.install`).
        public var install: Install?
        /// Public keys (paths from the repository root, committed) with which jobs that read the
        /// signed binary cache without holding the signing key (image, test, publish) verify it.
        public var trustedKeys: [String] = []
        /// Commands each backend's jobs run before stackship.
        public var setup = Setup()
        /// GitHub Actions `runs-on` label.
        public var githubRunner: String
        /// GitLab job image (must contain stackship, or `installCommand` must install it).
        public var gitlabImage: String
        /// CodeBuild environment image for the build graph's builds.
        public var codebuildImage: String
        /// CodeBuild compute type for package builds.
        public var codebuildComputeType: String
        /// CodeBuild compute type for image, test and publish builds (nil: `codebuildComputeType`).
        public var codebuildImageComputeType: String?
        /// The largest number of builds one CodeBuild batch may hold: the project's batch
        /// restriction `maximumBuildsAllowed`. Larger plans are split into several batch buildspecs.
        public var codebuildMaxBuildsPerBatch: Int
        /// The branch whose pushes run the publish workflow (GitHub Actions).
        public var publishBranch: String
        /// The most `needs` one GitLab job may list (the instance's `ci_max_needs`, 50 by default).
        public var gitlabMaxNeeds: Int

        /// Creates settings. The cache, registry, role and region have no default: nothing
        /// the user did not give is invented (see ``fillPlaceholder(_:)``).
        public init(
            cacheURL: String? = nil,
            signingKeySecret: String = "STACKSHIP_SIGNING_KEY",
            registry: String? = nil,
            awsRoleARN: String? = nil,
            awsRegion: String? = nil,
            toolVersion: String = StackshipVersion.current,
            installCommand: String? = nil,
            githubRunner: String = "ubuntu-24.04",
            gitlabImage: String = "debian:bookworm",
            codebuildImage: String = "aws/codebuild/standard:7.0",
            codebuildComputeType: String = "BUILD_GENERAL1_MEDIUM",
            codebuildImageComputeType: String? = nil,
            codebuildMaxBuildsPerBatch: Int = 100,
            publishBranch: String = "main",
            gitlabMaxNeeds: Int = 50
        ) {
            self.cacheURL = cacheURL
            self.signingKeySecret = signingKeySecret
            self.registry = registry
            self.awsRoleARN = awsRoleARN
            self.awsRegion = awsRegion
            self.toolVersion = toolVersion
            self.installCommand = installCommand
            self.githubRunner = githubRunner
            self.gitlabImage = gitlabImage
            self.codebuildImage = codebuildImage
            self.codebuildComputeType = codebuildComputeType
            self.codebuildImageComputeType = codebuildImageComputeType
            self.codebuildMaxBuildsPerBatch = codebuildMaxBuildsPerBatch
            self.publishBranch = publishBranch
            self.gitlabMaxNeeds = gitlabMaxNeeds
        }

        /// The value at `path`, or ``PipelineError/missingSetting(key:needs:example:)`` naming
        /// `key` (as the stack file spells it), what needs it and an example.
        public func require(_ path: KeyPath<Settings, String?>, _ key: String, for needs: String, example: String) throws -> String {
            guard let value = self[keyPath: path], !value.isEmpty else {
                throw PipelineError.missingSetting(key: key, needs: needs, example: example)
            }
            return value
        }

        /// The example values `--allow-placeholders` fills in, by stack-file key.
        public static var placeholderValues: [(key: String, path: WritableKeyPath<Settings, String?>, value: String)] { [
            ("ci.cache", \.cacheURL, "s3://PLACEHOLDER-bucket/packages"),
            ("ci.registry", \.registry, "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
            ("ci.aws_role_arn", \.awsRoleARN, "arn:aws:iam::123456789012:role/PLACEHOLDER-stackship-ci"),
            ("ci.aws_region", \.awsRegion, "us-east-1"),
        ] }

        /// Fills the setting named `key` (`ci.registry`) with its example value and lists it in
        /// ``placeholders``: for documentation examples only. False when `key` has none.
        public mutating func fillPlaceholder(_ key: String) -> Bool {
            if key == "ci.install", install == nil, installCommand == nil {
                let url = "https://PLACEHOLDER.invalid/stackship-\(toolVersion)-linux-x86_64.tar.gz"
                install = .release(url: url, sha256: String(repeating: "0", count: 64))
                placeholders.append("ci.install = {url: \(url), sha256: 000…0}")
                return true
            }
            if key == "ci.trusted_key", trustedKeys.isEmpty {
                trustedKeys = ["PLACEHOLDER-keys/stackship-cache.pub"]
                placeholders.append("ci.trusted_key = PLACEHOLDER-keys/stackship-cache.pub")
                return true
            }
            guard let p = Self.placeholderValues.first(where: { $0.key == key }), self[keyPath: p.path] == nil else { return false }
            self[keyPath: p.path] = p.value
            placeholders.append("\(p.key) = \(p.value)")
            return true
        }
    }
}
