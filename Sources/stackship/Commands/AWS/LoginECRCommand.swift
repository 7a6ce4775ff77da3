import ArgumentParser
import AWS
import Foundation
import Registry

/// `stackship login ecr`: an ECR login token saved where `stackship login` saves credentials.
struct LoginECRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecr",
        abstract: "Log in to Amazon ECR with the AWS credentials (GetAuthorizationToken); push and pull then use it.",
        discussion: """
        The token (valid 12 hours) is saved like 'stackship login' saves a password, and never printed.

        Examples:
          stackship login ecr
          stackship login ecr --registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com --profile ci
        """
    )

    @Option(help: ArgumentHelp("The registry host to save the login for (default: the one ECR names).", valueName: "host"))
    var registry: String?

    @OptionGroup var aws: AWSOptions

    func run() throws {
        let aws = aws, registry = registry
        try AsyncCLI.run {
            let token = try await aws.withClient { client in try await ECRClient(client: client).getAuthorizationToken() }
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
