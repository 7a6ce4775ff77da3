import Foundation

/// An ECR repository (private, or public in ECR Public) and the role GitHub Actions assumes
/// through OIDC to push to it.
///
/// ```yaml
/// registry:
///   github_repository: acme/hello    # required: the only repository whose workflows may push
///   repository: hello                # the ECR repository name (default: the project)
///   public: true                     # an ECR Public repository (public.ecr.aws/ALIAS/hello) instead
///                                    # of a private one; ECR Public exists only in us-east-1
///   immutable_tags: true             # tags cannot be overwritten once pushed (default false)
///   scan_on_push: true               # default true
///   keep_images: 30                  # keep the newest N images (default 30)
///   untagged_expiry_days: 7          # delete untagged images after N days (default 7)
///   oidc_provider_arn: arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com
///                                    # use the account's existing provider instead of creating one
///   oidc_thumbprints: [...]          # default: GitHub's published thumbprints
/// ```
public struct RegistrySettings: Sendable, Hashable, SettingsSection {
    /// The ECR repository name.
    public var repository: String?
    /// `OWNER/REPO` on GitHub.
    public var githubRepository: String
    /// Whether tags are immutable.
    public var immutableTags: Bool
    /// Whether images are scanned on push.
    public var scanOnPush: Bool
    /// How many images to keep.
    public var keepImages: Int
    /// Days before untagged images are deleted.
    public var untaggedExpiryDays: Int
    /// Whether the repository is an ECR Public one (`AWS::ECR::PublicRepository`, pushed to as
    /// `public.ecr.aws/ALIAS/NAME`, in us-east-1 only) rather than a private ECR repository.
    public var isPublic: Bool
    /// An existing GitHub OIDC provider's ARN; nil creates one in this stack.
    public var oidcProviderArn: String?
    /// Thumbprints for a created provider.
    public var oidcThumbprints: [String]

    /// The thumbprints GitHub has published for token.actions.githubusercontent.com.
    public static let githubThumbprints = ["1c58a3a8518e8759bf075b76b750d4f2df264fcd", "6938fd4d98bab03faadb97b34396831e3780aea1"]

    /// The only region ECR Public (its API and its CloudFormation resource) exists in.
    public static let publicRegion = "us-east-1"
    /// The host every ECR Public repository is pushed to and pulled from.
    public static let publicRegistryHost = "public.ecr.aws"

    static let keys = ["repository", "public", "github_repository", "immutable_tags", "scan_on_push", "keep_images", "untagged_expiry_days", "oidc_provider_arn", "oidc_thumbprints"]

    /// Reads and checks the section.
    init(_ r: SettingsMapping) throws {
        repository = try r.optional("repository")
        if let repository { try Self.checkRepositoryName(repository, key: "repository", in: r) }
        githubRepository = try r.required("github_repository", hint: "name the GitHub repository whose workflows may push, as 'github_repository: OWNER/REPO'; no other repository can assume the push role")
        guard SettingsMapping.matches(githubRepository, "[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9_.-]{1,100}"),
              !githubRepository.hasSuffix("/."), !githubRepository.hasSuffix("/..")
        else {
            throw r.invalid("github_repository", value: githubRepository, reason: "write it as OWNER/REPO, e.g. acme/hello (no URL, no wildcard)")
        }
        isPublic = try r.optional("public") ?? false
        if isPublic {
            // ECR Public has no tag immutability, scanning or lifecycle policies: a key that would
            // silently do nothing is refused where it is written.
            for key in ["immutable_tags", "scan_on_push", "keep_images", "untagged_expiry_days"] where r.has(key) {
                let shown = r.value(key).flatMap { try? $0.scalar("a value") } ?? key
                try r.attempt { () -> Bool? in
                    throw r.invalid(key, value: shown, reason: "ECR Public repositories have no tag immutability, image scanning or lifecycle rules; remove '\(key)', or remove 'public: true' for a private repository")
                }
            }
        }
        immutableTags = try r.optional("immutable_tags") ?? false
        scanOnPush = try r.optional("scan_on_push") ?? true
        keepImages = try r.int("keep_images", default: 30, in: 1...10000)
        untaggedExpiryDays = try r.int("untagged_expiry_days", default: 7, in: 1...3650)
        oidcProviderArn = try r.optional("oidc_provider_arn")
        if let arn = oidcProviderArn,
           !SettingsMapping.matches(arn, #"arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\.actions\.githubusercontent\.com"#) {
            throw r.invalid("oidc_provider_arn", value: arn, reason: "give the ARN of the account's GitHub provider, arn:aws:iam::ACCOUNT:oidc-provider/token.actions.githubusercontent.com (aws iam list-open-id-connect-providers), or remove the key to create one")
        }
        oidcThumbprints = try r.optional("oidc_thumbprints") ?? Self.githubThumbprints
        for thumbprint in oidcThumbprints where !SettingsMapping.matches(thumbprint, "[0-9a-fA-F]{40}") {
            throw r.invalid("oidc_thumbprints", value: thumbprint, reason: "a thumbprint is 40 hex digits (SHA-1)")
        }
        if oidcThumbprints.isEmpty || oidcThumbprints.count > 5 {
            throw r.invalid("oidc_thumbprints", value: "\(oidcThumbprints.count) thumbprints", reason: "give 1 to 5 thumbprints, or remove the key for GitHub's")
        }
    }

    /// The repository name: the setting, or the project's name.
    public func repositoryName(project: String) -> String { repository ?? project }

    static func checkRepositoryName(_ name: String, key: String, in r: SettingsMapping) throws {
        guard (2...256).contains(name.count),
              SettingsMapping.matches(name, "(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")
        else {
            throw r.invalid(key, value: name, reason: "an ECR repository name is 2-256 lowercase letters, digits and . _ - / (each part starting and ending with a letter or digit)")
        }
    }
}
