import OCI
import Support

/// The kinds of CloudFormation stack Stackship generates, one template each.
public enum StackKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible, SettingsValue {
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

    /// The kind's name as written in settings and file names.
    public var description: String { rawValue }

    static func read(_ value: SettingsNode) throws -> StackKind {
        let text = try value.scalar("a stack kind")
        if let kind = StackKind(rawValue: text) { return kind }
        let names = allCases.map(\.rawValue)
        let close = Suggestions.closest(to: text, in: names, maxDistance: max(2, text.count / 3), prefixes: true)
        throw StackFileError(location: value.location, message: "\(value.path): \(JSONString.literal(text)) is not a stack kind",
                             hint: (close.map { "did you mean '\($0)'? " } ?? "") + "use one of \(names.joined(separator: ", "))")
    }
}
