import ArgumentParser
import Foundation
import HTTPCore
import OCI
import Registry

struct LoginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in to a registry: check the credentials and save them.",
        discussion: """
        Credentials go where docker keeps them: a credential helper when config.json names one \
        (credsStore, credHelpers), else config.json itself ($REGISTRY_AUTH_FILE, \
        $DOCKER_CONFIG/config.json or ~/.docker/config.json), written with mode 0600.

        Examples:
          stackship login localhost:5000 -u ci --password-stdin < token.txt
          echo "$GHCR_TOKEN" | stackship login ghcr.io -u owner --password-stdin
          stackship login ecr             # Amazon ECR, with the AWS credentials

        \(LoginECR.discussion)
        """
    )

    @Argument(help: "The registry (host[:port]; docker.io for Docker Hub), or 'ecr' for Amazon ECR.")
    var registry: String = ImageReference.dockerHub

    @Option(name: .customLong("registry"), help: ArgumentHelp("With 'ecr': the registry host to save the login for (default: the one ECR names); public.ecr.aws logs in to ECR Public.", valueName: "host"))
    var ecrRegistry: String?

    @Option(name: .long, help: ArgumentHelp("With 'ecr': the AWS profile (default: $AWS_PROFILE).", valueName: "name"))
    var profile: String?

    @Option(name: .long, help: ArgumentHelp("With 'ecr': the AWS region (default: $AWS_REGION, else the profile's).", valueName: "region"))
    var region: String?

    @Option(name: .customLong("endpoint-url"), help: ArgumentHelp("With 'ecr': the ECR API endpoint (default: $AWS_ENDPOINT_URL...).", valueName: "url"))
    var endpointURL: String?

    @Option(name: [.short, .long], help: "The user name.")
    var username: String?

    @Option(name: [.short, .long], help: "The password (prefer --password-stdin: a password on the command line is visible to other users).")
    var password: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input.")
    var passwordStdin = false

    @OptionGroup var registryOptions: RegistryOptions

    func run() throws {
        if registry == "ecr" {
            guard username == nil, password == nil, !passwordStdin else {
                throw ValidationError("'login ecr' gets its token from AWS; drop --username/--password")
            }
            return try LoginECR.login(registry: ecrRegistry, profile: profile, region: region, endpoint: endpointURL)
        }
        guard ecrRegistry == nil, profile == nil, region == nil, endpointURL == nil else {
            throw ValidationError("--registry, --profile, --region and --endpoint-url are for 'stackship login ecr'")
        }
        let registryOptions = registryOptions
        let host = Self.normalise(registry)
        guard let username, !username.isEmpty else { throw ValidationError("give a user name with --username") }
        var secret = password
        if passwordStdin {
            secret = readLine(strippingNewline: true)
        }
        guard let secret, !secret.isEmpty else { throw ValidationError("give a password with --password-stdin (or --password)") }
        let credential = RegistryCredential(username: username, password: secret)
        try AsyncCLI.run {
            let client = RegistryClient(registry: host, credential: credential, options: registryOptions.transport)
            try await client.withShutdown { try await $0.verifyCredentials() }
            let place = try CredentialStore().store(credential, for: host)
            print("Login Succeeded (saved in \(place))")
        }
    }

    /// `https://ghcr.io/` → `ghcr.io`; docker's Hub aliases → `docker.io`.
    static func normalise(_ registry: String) -> String {
        var r = registry
        for prefix in ["https://", "http://"] where r.hasPrefix(prefix) { r = String(r.dropFirst(prefix.count)) }
        if let slash = r.firstIndex(of: "/") { r = String(r[..<slash]) }
        if ["index.docker.io", "registry-1.docker.io", "docker.io"].contains(r) { return ImageReference.dockerHub }
        return r
    }
}

struct LogoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Forget the saved credentials of a registry.",
        discussion: """
        Example:
          stackship logout localhost:5000
        """
    )

    @Argument(help: "The registry.")
    var registry: String = ImageReference.dockerHub

    func run() throws {
        try CLI.run {
            let host = LoginCommand.normalise(registry)
            if try CredentialStore().remove(for: host) {
                print("Removed login credentials for \(host)")
            } else {
                print("Not logged in to \(host)")
            }
        }
    }
}
