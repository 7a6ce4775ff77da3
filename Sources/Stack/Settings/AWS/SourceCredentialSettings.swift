import Foundation

/// One CodeBuild source credential, read from a Secrets Manager secret at deploy time.
///
/// ```yaml
/// source_credentials:
///   - server_type: GITHUB            # GITHUB, GITHUB_ENTERPRISE, BITBUCKET, GITLAB, GITLAB_SELF_MANAGED
///     secret: ci/github              # the secret's name or ARN (never the token itself)
///     secret_key: token              # the JSON key inside the secret (default: token)
///     auth_type: PERSONAL_ACCESS_TOKEN  # default; BITBUCKET defaults to BASIC_AUTH
///     username: ci-bot               # BASIC_AUTH only: the (non-secret) user name
/// ```
public struct SourceCredentialSettings: Sendable, Hashable, SettingsSection {
    /// The source provider.
    public var serverType: String
    /// The Secrets Manager secret's name or ARN.
    public var secret: String
    /// The JSON key inside the secret's `SecretString` that holds the token.
    public var secretKey: String
    /// `PERSONAL_ACCESS_TOKEN` or `BASIC_AUTH`.
    public var authType: String
    /// The user name for `BASIC_AUTH`.
    public var username: String?

    /// The server types CodeBuild keeps source credentials for.
    public static let serverTypes = ["GITHUB", "GITHUB_ENTERPRISE", "BITBUCKET", "GITLAB", "GITLAB_SELF_MANAGED"]

    static let keys = ["server_type", "secret", "secret_key", "auth_type", "username"] + ["token", "password"]

    /// Reads and checks the section.
    init(_ r: SettingsMapping) throws {
        let storeHint = "store it in AWS Secrets Manager (aws secretsmanager create-secret --name ci/github --secret-string '{\"token\":\"...\"}') and give the secret's name under 'secret:'"
        try r.refuseSecret("token", hint: storeHint)
        try r.refuseSecret("password", hint: storeHint)
        serverType = try r.oneOf("server_type", Self.serverTypes, default: nil) ?? {
            throw r.missing("server_type", hint: "use one of \(Self.serverTypes.joined(separator: ", "))")
        }()
        secret = try r.required("secret", hint: "name the Secrets Manager secret that holds the token, e.g. 'secret: ci/github'")
        try r.checkSecretName(secret, key: "secret")
        secretKey = try r.optional("secret_key") ?? "token"
        guard SettingsMapping.matches(secretKey, "[A-Za-z0-9_.-]{1,128}") else {
            throw r.invalid("secret_key", value: secretKey, reason: "use the JSON key's name: letters, digits, _ . -")
        }
        authType = try r.oneOf("auth_type", ["PERSONAL_ACCESS_TOKEN", "BASIC_AUTH"], default: serverType == "BITBUCKET" ? "BASIC_AUTH" : "PERSONAL_ACCESS_TOKEN")!
        username = try r.optional("username")
        if authType == "BASIC_AUTH", username == nil {
            throw r.missing("username", hint: "BASIC_AUTH needs the account's user name (the app password stays in the secret)")
        }
        if authType == "BASIC_AUTH", serverType != "BITBUCKET" {
            throw r.invalid("auth_type", value: authType, reason: "CodeBuild accepts BASIC_AUTH only for BITBUCKET; use PERSONAL_ACCESS_TOKEN")
        }
    }

    /// The CloudFormation dynamic reference CodeBuild's token property resolves at deploy time.
    public var tokenReference: String { "{{resolve:secretsmanager:\(secret):SecretString:\(secretKey)}}" }
}
