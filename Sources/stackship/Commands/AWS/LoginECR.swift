import ArgumentParser
import AWS
import Foundation
import HTTPCore
import Registry

/// `stackship login ecr`: an ECR login token saved where `stackship login` saves credentials.
///
/// `login` takes the registry as a positional argument, which ArgumentParser parses before it
/// looks for subcommands, so `ecr` is recognised by `LoginCommand` itself and handed here.
enum LoginECR {
    static let discussion = """
        Amazon ECR: 'stackship login ecr [--registry HOST] [--profile P] [--region R] [--endpoint-url URL]' \
        gets a token with ECR GetAuthorizationToken (valid 12 hours) using the AWS credentials, and \
        saves it like any login; the token is never printed. With '--registry public.ecr.aws' it asks \
        ECR Public instead (its API is only in us-east-1, which is used whatever the configured region; \
        the credentials need ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken).
        """

    static func login(registry: String?, profile: String?, region: String?, endpoint: String?) throws {
        try AsyncCLI.run {
            let named = registry.map(LoginCommand.normalise)
            let token: ECRClient.AuthorizationToken
            if named == ECRPublicClient.registryHost {
                token = try await publicToken(profile: profile, region: region, endpoint: endpoint)
            } else {
                let client = try AWSClient(profile: profile, region: region, endpoint: endpoint)
                token = try await client.withShutdown { try await ECRClient(client: $0).getAuthorizationToken() }
            }
            let host = named ?? token.registryHost
            guard !host.isEmpty else {
                throw AWSError.unexpectedResponse(operation: "ECR.GetAuthorizationToken", detail: "no proxyEndpoint in the answer; name the registry with --registry")
            }
            let place = try CredentialStore().store(RegistryCredential(username: token.username, password: token.password), for: host)
            let now = Date()
            let expired = token.expiresAt.map { $0 <= now } ?? false
            let expiry = expired ? "" : token.expiresAt.map { ", valid until \(ISO8601DateFormatter().string(from: $0))" } ?? ""
            print("Login Succeeded for \(host) (saved in \(place)\(expiry))")
            if let message = expiryWarning(token.expiresAt, now: now) {
                FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
            }
        }
    }

    /// The ECR Public login. Its API is only in us-east-1, so that region is used whatever the
    /// profile or AWS_REGION say (as the AWS CLI's `aws ecr-public get-login-password --region
    /// us-east-1` is always written); a different region given with --region is refused, since
    /// the user asked for something that cannot work.
    static func publicToken(profile: String?, region: String?, endpoint: String?) async throws -> ECRClient.AuthorizationToken {
        if let region, !region.isEmpty, region != ECRPublicClient.region {
            throw AWSError.invalidArgument("ECR Public (public.ecr.aws) has its API only in \(ECRPublicClient.region), not \(region); drop --region or give --region \(ECRPublicClient.region)")
        }
        let client = try AWSClient(profile: profile, region: ECRPublicClient.region, endpoint: endpoint)
        return try await client.withShutdown { try await ECRPublicClient(client: $0).getAuthorizationToken() }
    }

    /// What to say when the token's validity has already ended when it arrives (a wrong clock
    /// here or at the endpoint, or a stand-in endpoint answering a fixed date): the registry
    /// would refuse the saved token, so the user hears it now rather than at the next push.
    static func expiryWarning(_ expiresAt: Date?, now: Date) -> String? {
        guard let expiresAt, expiresAt <= now else { return nil }
        let format = ISO8601DateFormatter()
        return "the token's validity ended at \(format.string(from: expiresAt)), before now (\(format.string(from: now))), "
            + "so the registry may refuse it; check this machine's clock, and the endpoint (--endpoint-url, AWS_ENDPOINT_URL) if it is not AWS's, "
            + "then log in again"
    }
}
