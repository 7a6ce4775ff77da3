import Foundation

/// AWS Security Token Service: who am I, and temporary credentials for a role.
public struct STSClient: Sendable {
    /// The shared client.
    public let client: AWSClient
    static let version = "2011-06-15"

    /// An STS client over `client`.
    public init(client: AWSClient) { self.client = client }

    /// The identity the credentials belong to.
    public struct CallerIdentity: Sendable, Equatable {
        /// The 12-digit account id.
        public var account: String
        /// The ARN of the user or assumed role.
        public var arn: String
        /// The unique id of the principal.
        public var userID: String
    }

    /// GetCallerIdentity: whose credentials are these (also a cheap "do they work" check).
    public func getCallerIdentity() async throws -> CallerIdentity {
        let result = try await AWSQueryProtocol.call(client, service: .sts, action: "GetCallerIdentity", version: Self.version)
        return CallerIdentity(account: result.string("Account") ?? "", arn: result.string("Arn") ?? "", userID: result.string("UserId") ?? "")
    }

    /// AssumeRole with the client's credentials; returns the role's temporary credentials.
    public func assumeRole(roleARN: String, sessionName: String, durationSeconds: Int? = nil, externalID: String? = nil) async throws -> AWSCredentials {
        var parameters = [("RoleArn", roleARN), ("RoleSessionName", sessionName)]
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        if let externalID { parameters.append(("ExternalId", externalID)) }
        let result = try await AWSQueryProtocol.call(client, service: .sts, action: "AssumeRole", version: Self.version, parameters: parameters)
        return try Self.credentials(from: result, operation: "STS.AssumeRole", source: "assumed role \(roleARN)")
    }

    /// AssumeRoleWithWebIdentity (GitHub Actions OIDC and the like): trades an OIDC token for
    /// the role's temporary credentials. The request is not signed; the client's credentials are
    /// not used.
    public func assumeRoleWithWebIdentity(roleARN: String, sessionName: String, webIdentityToken: String,
                                          durationSeconds: Int? = nil) async throws -> AWSCredentials {
        var parameters = [("RoleArn", roleARN), ("RoleSessionName", sessionName), ("WebIdentityToken", webIdentityToken)]
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        let result = try await AWSQueryProtocol.call(client, service: .sts, action: "AssumeRoleWithWebIdentity", version: Self.version,
                                                     parameters: parameters, signed: false)
        return try Self.credentials(from: result, operation: "STS.AssumeRoleWithWebIdentity", source: "web identity role \(roleARN)")
    }

    static func credentials(from result: AWSXMLElement, operation: String, source: String) throws -> AWSCredentials {
        guard let c = result.child("Credentials"), let key = c.string("AccessKeyId"), let secret = c.string("SecretAccessKey") else {
            throw AWSError.unexpectedResponse(operation: operation, detail: "no Credentials in the answer")
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: c.string("SessionToken"),
                              expiration: c.string("Expiration").flatMap(AWSDate.parse), source: source)
    }
}
