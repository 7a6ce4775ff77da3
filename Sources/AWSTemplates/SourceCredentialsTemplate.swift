import Foundation
import Stack

/// The `source-credentials` template: one `AWS::CodeBuild::SourceCredential` per server type, its
/// token a Secrets Manager dynamic reference resolved by CloudFormation at deploy time.
enum SourceCredentialsTemplate {
    static func make(_ settings: AWSSettings, _ credentials: [SourceCredentialSettings]) -> CloudFormationTemplate {
        var resources: [String: CloudFormationTemplate.Resource] = [:]
        for credential in credentials {
            var properties: [String: TemplateValue] = [
                "ServerType": .string(credential.serverType),
                "AuthType": .string(credential.authType),
                "Token": .string(credential.tokenReference),
            ]
            if let username = credential.username { properties["Username"] = .string(username) }
            resources[logicalID(credential.serverType)] = .init("AWS::CodeBuild::SourceCredential", properties: properties)
        }
        return CloudFormationTemplate(
            description: "Stackship: CodeBuild source credentials (one per server type, shared by every project in this account and region)",
            resources: resources,
            outputs: Dictionary(uniqueKeysWithValues: credentials.map {
                ("\(logicalID($0.serverType))Arn", CloudFormationTemplate.Output(.ref(logicalID($0.serverType)), description: "The \($0.serverType) source credential"))
            }))
    }

    /// `GITLAB_SELF_MANAGED` → `GitlabSelfManagedCredential`.
    static func logicalID(_ serverType: String) -> String {
        serverType.split(separator: "_").map { $0.prefix(1) + $0.dropFirst().lowercased() }.joined() + "Credential"
    }
}
