import Foundation

/// AWS Secrets Manager: create, read, update and delete secrets. Secret values never appear
/// in descriptions or errors.
public struct SecretsManagerClient: Sendable {
    /// The shared client.
    public let client: AWSClient
    static let target = "secretsmanager"

    /// A Secrets Manager client over `client`.
    public init(client: AWSClient) { self.client = client }

    /// A secret's identity (and, from GetSecretValue, its value).
    public struct Secret: Sendable, CustomStringConvertible {
        /// The ARN.
        public var arn: String
        /// The name.
        public var name: String
        /// The version id of the value returned or written.
        public var versionID: String?
        /// The value (GetSecretValue only). Secret.
        public var secretString: String?

        public var description: String {
            "Secret(name: \(name), arn: \(arn)\(versionID.map { ", version: \($0)" } ?? "")\(secretString == nil ? "" : ", value: <redacted>"))"
        }
    }

    private struct Output: Decodable { var ARN: String?; var Name: String?; var VersionId: String?; var SecretString: String? }

    private func call<Input: Encodable>(_ operation: String, _ input: Input) async throws -> Secret {
        let out = try await AWSJSONProtocol.call(client, service: .secretsManager, targetPrefix: Self.target, operation: operation,
                                                 input: input, as: Output.self)
        return Secret(arn: out.ARN ?? "", name: out.Name ?? "", versionID: out.VersionId, secretString: out.SecretString)
    }

    /// CreateSecret with a string value.
    public func createSecret(name: String, secretString: String, description: String? = nil) async throws -> Secret {
        struct Input: Encodable { var Name: String; var SecretString: String; var Description: String?; var ClientRequestToken: String }
        return try await call("CreateSecret", Input(Name: name, SecretString: secretString, Description: description, ClientRequestToken: UUID().uuidString))
    }

    /// GetSecretValue (the current version).
    public func getSecretValue(id: String) async throws -> Secret {
        struct Input: Encodable { var SecretId: String }
        return try await call("GetSecretValue", Input(SecretId: id))
    }

    /// PutSecretValue: a new current version.
    public func putSecretValue(id: String, secretString: String) async throws -> Secret {
        struct Input: Encodable { var SecretId: String; var SecretString: String; var ClientRequestToken: String }
        return try await call("PutSecretValue", Input(SecretId: id, SecretString: secretString, ClientRequestToken: UUID().uuidString))
    }

    /// DeleteSecret; with `force`, at once and without a recovery window.
    public func deleteSecret(id: String, force: Bool = false) async throws {
        struct Input: Encodable { var SecretId: String; var ForceDeleteWithoutRecovery: Bool? }
        _ = try await call("DeleteSecret", Input(SecretId: id, ForceDeleteWithoutRecovery: force ? true : nil))
    }
}
