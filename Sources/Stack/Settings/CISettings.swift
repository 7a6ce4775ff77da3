import Foundation
import OCI
import Pipelines
import BuildCache
import Yams
import Support

/// The stack file's `ci:` section: how the generated CI pipelines run. Every key is optional;
/// nil means the pipeline's own default (see the Pipelines target's `PlanInput.Settings`).
///
/// ```yaml
/// ci:
///   name: web-stack                # the stack's name in pipelines and reports (default: its folder)
///   publish: [web]                 # the images to push (default: every image but the builder)
///   cache: s3://bucket/packages
///   registry: 123456789012.dkr.ecr.eu-west-1.amazonaws.com
///   gitlab_max_needs: 50
/// ```
public struct CISettings: Sendable, Hashable {
    /// The stack's name in pipelines and reports.
    public var name: String?
    /// The images to publish; each is an image of the stack.
    public var publish: [String]?
    /// The binary cache URL (`cache:`), such as `s3://bucket/prefix`.
    public var cacheURL: String?
    /// The CI variable or secret holding the package-signing key (`signing_key_secret:`).
    public var signingKeySecret: String?
    /// The registry images are pushed to (`registry:`).
    public var registry: String?
    /// The IAM role CI assumes through OIDC (`aws_role_arn:`).
    public var awsRoleARN: String?
    /// The AWS region (`aws_region:`).
    public var awsRegion: String?
    /// The stackship version CI installs (`tool_version:`).
    public var toolVersion: String?
    /// A shell command that installs stackship in a job (`install_command:`).
    public var installCommand: String?
    /// How jobs get stackship (`install:`).
    public var install: PlanInput.Settings.Install?
    /// The public key jobs verify the signed cache with (`trusted_key:`): a path relative to
    /// the stack file's folder, checked to hold a public key.
    public var trustedKey: String?
    /// Commands run before stackship in jobs that build (`setup:`), per backend.
    public var setup = PlanInput.Settings.Setup()
    /// GitHub Actions `runs-on` label (`github_runner:`).
    public var githubRunner: String?
    /// GitLab job image (`gitlab_image:`).
    public var gitlabImage: String?
    /// CodeBuild environment image (`codebuild_image:`).
    public var codebuildImage: String?
    /// CodeBuild compute type for package builds (`codebuild_compute_type:`).
    public var codebuildComputeType: String?
    /// CodeBuild compute type for image, test and publish builds (`codebuild_image_compute_type:`).
    public var codebuildImageComputeType: String?
    /// The most builds one CodeBuild batch may hold (`codebuild_max_builds_per_batch:`).
    public var codebuildMaxBuildsPerBatch: Int?
    /// The branch whose pushes run the publish workflow (`publish_branch:`).
    public var publishBranch: String?
    /// The most `needs` one GitLab job may list (`gitlab_max_needs:`).
    public var gitlabMaxNeeds: Int?
    /// Where each name in ``publish`` is written, for errors about images it names.
    var publishLocations: [SourceLocation] = []

    /// No settings: every pipeline default.
    public init() {}

    /// The keys `ci:` knows, in the order the error hints list them.
    static let keys = ["name", "publish", "cache", "signing_key_secret", "registry", "aws_role_arn", "aws_region",
                       "tool_version", "install", "install_command", "trusted_key", "setup", "github_runner", "gitlab_image", "codebuild_image",
                       "codebuild_compute_type", "codebuild_image_compute_type", "codebuild_max_builds_per_batch",
                       "publish_branch", "gitlab_max_needs"]

    static var stringKeys: [String: WritableKeyPath<CISettings, String?>] { [
        "name": \.name,
        "cache": \.cacheURL,
        "signing_key_secret": \.signingKeySecret,
        "registry": \.registry,
        "aws_role_arn": \.awsRoleARN,
        "aws_region": \.awsRegion,
        "tool_version": \.toolVersion,
        "install_command": \.installCommand,
        "trusted_key": \.trustedKey,
        "github_runner": \.githubRunner,
        "gitlab_image": \.gitlabImage,
        "codebuild_image": \.codebuildImage,
        "codebuild_compute_type": \.codebuildComputeType,
        "codebuild_image_compute_type": \.codebuildImageComputeType,
        "publish_branch": \.publishBranch,
    ] }

    static var intKeys: [String: WritableKeyPath<CISettings, Int?>] { [
        "codebuild_max_builds_per_batch": \.codebuildMaxBuildsPerBatch,
        "gitlab_max_needs": \.gitlabMaxNeeds,
    ] }
}

extension StackFileParser {
    /// Reads `ci:`; an empty section gives every default.
    func parseCI(_ entry: Entry) throws -> CISettings {
        guard case let .mapping(mapping) = entry.value else {
            throw typeError(entry, what: "ci", expected: "a mapping of settings",
                            hint: "write settings under it, such as `ci: {registry: 123456789012.dkr.ecr.us-east-1.amazonaws.com}`")
        }
        var ci = CISettings()
        let fields = try entries(of: mapping, context: "in ci", allowed: CISettings.keys)
        for field in fields where !isNull(field.value) {
            let what = "ci.\(field.key)"
            if let path = CISettings.stringKeys[field.key] {
                let text = try scalar(field, what: what, expected: "a string")
                guard !text.isEmpty else {
                    throw StackFileError(location: valueLocation(field), message: "`\(what)` is empty",
                                         hint: "give a value, or remove the key for the default")
                }
                if field.key == "signing_key_secret", !VariableName.isValid(text) {
                    // The value may be the key itself, pasted by mistake: never echo it.
                    throw StackFileError(location: valueLocation(field),
                                         message: "`\(what)` must name the CI secret or variable that holds the signing key (letters, digits and underscores, not starting with a digit); the value given is not such a name and is not shown, since it may be the key itself",
                                         hint: "store the key (the text of `stackship cache keygen`'s .key file) as a CI secret and name it here, such as `signing_key_secret: STACKSHIP_SIGNING_KEY`")
                }
                if field.key == "trusted_key" { try checkTrustedKey(text, at: valueLocation(field)) }
                ci[keyPath: path] = text
            } else if let path = CISettings.intKeys[field.key] {
                let text = try scalar(field, what: what, expected: "a whole number of at least 1")
                guard text.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(text.count > 9 ? "0" : text), number >= 1 else {
                    throw StackFileError(location: valueLocation(field), message: "`\(what)` must be a whole number of at least 1, found '\(text)'",
                                         hint: "write a number, such as `\(field.key): 50`")
                }
                ci[keyPath: path] = number
            } else if field.key == "install" {
                ci.install = try parseInstall(field)
            } else if field.key == "setup" {
                ci.setup = try parseSetup(field)
            } else if field.key == "publish" {
                ci.publish = try nameList(field, what: what, noun: "image")
                ci.publishLocations = sequenceNodes(field).map(location)
            }
        }
        if ci.install != nil, ci.installCommand != nil, let field = fields.first(where: { $0.key == "install_command" }) {
            throw StackFileError(location: location(field.keyNode), message: "`ci.install_command` and `ci.install` are both set",
                                 hint: "keep one: `install:` installs the pinned stackship, `install_command:` runs a command of yours instead")
        }
        return ci
    }

    /// Every image `ci.publish` names is an image of the stack.
    func validatePublishedImages(_ stack: StackFile) throws {
        let names = stack.images.map(\.name)
        for (name, here) in zip(stack.ci.publish ?? [], stack.ci.publishLocations) where !names.contains(name) {
            let hint = Suggestions.closest(to: name, in: names).map { "did you mean '\($0)'?" }
                ?? "list images from `images:` (\(Suggestions.list(names)))"
            throw StackFileError(location: here, message: "unknown image '\(name)' in `ci.publish`", hint: hint)
        }
    }
}
