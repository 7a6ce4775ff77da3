import Foundation

/// The kinds of CloudFormation stack Stackship generates, one template each.
public enum StackKind: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// CodeBuild source credentials, one per server type; account-wide, so its own stack.
    case sourceCredentials = "source-credentials"
    /// A CodeBuild project with batch builds, triggered by a webhook on pushes and pull requests.
    case ciBuild = "ci-build"
    /// A CodeBuild project started on demand for releases (no webhook, longer log retention).
    case releaseBuild = "release-build"
    /// An ECR repository and the role GitHub Actions assumes (OIDC) to push to it.
    case registry
    /// An ECS Fargate service behind an application load balancer.
    case service
    /// An S3 bucket whose uploads run a container-image Lambda function.
    case eventJob = "event-job"

    /// The kind named `text` (`ci-build`, ...); throws ``TemplateError/unknownStackKind(path:value:)``
    /// naming `path` otherwise.
    public init(parsing text: String, path: String = "stack kind") throws {
        guard let kind = StackKind(rawValue: text) else { throw TemplateError.unknownStackKind(path: path, value: text) }
        self = kind
    }

    /// Decodes from its name, with a clear error for an unknown one.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: text, path: SettingsPath.string(decoder.codingPath))
    }

    /// The kind's name as written in settings and file names.
    public var description: String { rawValue }

    /// The template file name `render(to:)` writes: `<kind>.json`.
    public var fileName: String { "\(rawValue).json" }

    /// The CloudFormation stack name for `project`.
    ///
    /// Source credentials are account-wide (CodeBuild keeps one per server type and region), so
    /// that stack's name does not carry the project: every project shares it.
    public func stackName(project: String) -> String {
        switch self {
        case .sourceCredentials: "stackship-source-credentials"
        default: ResourceNames.fit("\(project)-\(rawValue)", maxLength: 128)
        }
    }
}
