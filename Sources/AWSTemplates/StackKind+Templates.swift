import Stack

extension StackKind {
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
