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
        saves it like any login; the token is never printed.
        """

    static func login(registry: String?, profile: String?, region: String?, endpoint: String?) throws {
        try AsyncCLI.run {
            let client = try AWSClient(profile: profile, region: region, endpoint: endpoint)
            let token = try await client.withShutdown { try await ECRClient(client: $0).getAuthorizationToken() }
            let host = registry.map(LoginCommand.normalise) ?? token.registryHost
            guard !host.isEmpty else {
                throw AWSError.unexpectedResponse(operation: "ECR.GetAuthorizationToken", detail: "no proxyEndpoint in the answer; name the registry with --registry")
            }
            let place = try CredentialStore().store(RegistryCredential(username: token.username, password: token.password), for: host)
            let expiry = token.expiresAt.map { ", valid until \(ISO8601DateFormatter().string(from: $0))" } ?? ""
            print("Login Succeeded for \(host) (saved in \(place)\(expiry))")
        }
    }
}
