import Foundation
import HTTPCore
import StackshipTesting
import Testing
@testable import AWS

/// The credential chain with a temporary HOME and a scrubbed environment: each source, their
/// precedence, profile selection, broken profiles, SSO tokens; assume-role and web identity
/// through moto's STS.
@Suite struct CredentialChainTests {
    static let credentialsFile = """
    [default]
    aws_access_key_id = AKIADEFAULTFILE00001
    aws_secret_access_key = default-file-secret

    [dev]
    aws_access_key_id = AKIADEVFILE000000001
    aws_secret_access_key = dev-file-secret
    aws_session_token = dev-file-token

    [nokey]
    aws_access_key_id = AKIANOSECRET00000001
    """

    static let configFile = """
    [default]
    region = us-east-1

    [profile cfgonly]
    aws_access_key_id = AKIACONFIGONLY000001
    aws_secret_access_key = config-only-secret

    [profile dev]
    region = eu-west-1
    aws_access_key_id = AKIASHADOWEDBYCREDS1
    aws_secret_access_key = shadowed

    [profile broken-source]
    role_arn = arn:aws:iam::123456789012:role/deployer
    source_profile = nowhere

    [profile loop-a]
    role_arn = arn:aws:iam::123456789012:role/a
    source_profile = loop-b

    [profile loop-b]
    role_arn = arn:aws:iam::123456789012:role/b
    source_profile = loop-a

    [profile bad-source]
    role_arn = arn:aws:iam::123456789012:role/x
    credential_source = Ec2InstanceMetadata
    """

    static func environment(_ extra: [String: String] = [:]) throws -> TestEnvironment {
        let env = try TestEnvironment(extra)
        try env.write(".aws/credentials", Self.credentialsFile)
        try env.write(".aws/config", Self.configFile)
        return env
    }

    @Test func environmentVariablesComeFirst() async throws {
        let env = try Self.environment(["AWS_ACCESS_KEY_ID": "AKIAENV0000000000001", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token"])
        defer { env.cleanup() }
        let c = try await AWSCredentialChain.resolve(environment: env.environment, home: env.home)
        #expect(c.accessKeyID == "AKIAENV0000000000001" && c.secretAccessKey == "env-secret" && c.sessionToken == "env-token")
        #expect(c.source == "environment")
        // AWS_PROFILE does not outrank the environment's keys (as in the AWS CLI)…
        var withProfile = env
        withProfile.environment["AWS_PROFILE"] = "dev"
        #expect(try await AWSCredentialChain.resolve(environment: withProfile.environment, home: env.home).accessKeyID == "AKIAENV0000000000001")
        // …but an explicit profile does.
        #expect(try await AWSCredentialChain.resolve(profile: "dev", environment: env.environment, home: env.home).accessKeyID == "AKIADEVFILE000000001")
    }

    @Test func sharedFilesAndProfileSelection() async throws {
        var env = try Self.environment()
        defer { env.cleanup() }
        let d = try await AWSCredentialChain.resolve(environment: env.environment, home: env.home)
        #expect(d.accessKeyID == "AKIADEFAULTFILE00001" && d.sessionToken == nil)
        #expect(d.source.contains(".aws/credentials"))
        // The credentials file wins over the config file for the same profile.
        let dev = try await AWSCredentialChain.resolve(profile: "dev", environment: env.environment, home: env.home)
        #expect(dev.accessKeyID == "AKIADEVFILE000000001" && dev.sessionToken == "dev-file-token")
        // [profile x] sections of the config file.
        #expect(try await AWSCredentialChain.resolve(profile: "cfgonly", environment: env.environment, home: env.home).secretAccessKey == "config-only-secret")
        env.environment["AWS_PROFILE"] = "cfgonly"
        #expect(try await AWSCredentialChain.resolve(environment: env.environment, home: env.home).accessKeyID == "AKIACONFIGONLY000001")
        // AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE move the files.
        try env.write("elsewhere/creds", "[moved]\naws_access_key_id = AKIAMOVED00000000001\naws_secret_access_key = moved-secret\n")
        try env.write("elsewhere/config", "[profile other]\nregion = ca-central-1\n")
        env.environment["AWS_SHARED_CREDENTIALS_FILE"] = env.home + "/elsewhere/creds"
        env.environment["AWS_CONFIG_FILE"] = env.home + "/elsewhere/config"
        env.environment["AWS_PROFILE"] = nil
        #expect(try await AWSCredentialChain.resolve(profile: "moved", environment: env.environment, home: env.home).accessKeyID == "AKIAMOVED00000000001")
        #expect(try AWSRegion.find(profile: "other", environment: env.environment, home: env.home) == "ca-central-1")
    }

    @Test func brokenProfilesAreClearErrors() async throws {
        let env = try Self.environment()
        defer { env.cleanup() }
        let credentialsPath = env.home + "/.aws/credentials"
        let configPath = env.home + "/.aws/config"
        await #expect(throws: AWSError.profileNotFound(profile: "ghost", files: [configPath, credentialsPath])) {
            try await AWSCredentialChain.resolve(profile: "ghost", environment: env.environment, home: env.home)
        }
        await #expect(throws: AWSError.profileMissingKey(profile: "nokey", key: "aws_secret_access_key", file: credentialsPath)) {
            try await AWSCredentialChain.resolve(profile: "nokey", environment: env.environment, home: env.home)
        }
        await #expect(throws: AWSError.unknownSourceProfile(profile: "broken-source", sourceProfile: "nowhere", file: configPath)) {
            try await AWSCredentialChain.resolve(profile: "broken-source", environment: env.environment, home: env.home)
        }
        await #expect(throws: AWSError.sourceProfileCycle(profiles: ["loop-a", "loop-b", "loop-a"])) {
            try await AWSCredentialChain.resolve(profile: "loop-a", environment: env.environment, home: env.home)
        }
        let bad = await #expect(throws: AWSError.self) {
            try await AWSCredentialChain.resolve(profile: "bad-source", environment: env.environment, home: env.home)
        }
        #expect(bad?.description.contains("credential_source") == true && bad?.description.contains(configPath) == true)
        let missing = AWSError.profileNotFound(profile: "ghost", files: [configPath, credentialsPath]).description
        #expect(missing.contains("ghost") && missing.contains(configPath) && missing.contains("--profile"))
    }

    @Test func nothingConfiguredSaysWhereItLooked() async throws {
        let env = try TestEnvironment()
        defer { env.cleanup() }
        let error = await #expect(throws: AWSError.self) {
            try await AWSCredentialChain.resolve(environment: env.environment, home: env.home)
        }
        #expect(error?.description.contains("No AWS credentials found") == true)
        #expect(error?.description.contains("aws configure") == true)
        // A half-set environment is an error, not a silent fall-through.
        let half = try TestEnvironment(["AWS_ACCESS_KEY_ID": "AKIAHALF000000000001"])
        defer { half.cleanup() }
        let e2 = await #expect(throws: AWSError.self) { try await AWSCredentialChain.resolve(environment: half.environment, home: half.home) }
        #expect(e2?.description.contains("AWS_SECRET_ACCESS_KEY") == true)
    }

    static func ssoConfig() -> String {
        """
        [profile sso-dev]
        sso_session = corp
        sso_account_id = 123456789012
        sso_role_name = Developer
        region = us-east-1

        [sso-session corp]
        sso_start_url = https://corp.awsapps.com/start
        sso_region = us-east-1

        [profile sso-legacy]
        sso_start_url = https://legacy.awsapps.com/start
        sso_region = us-east-1
        sso_account_id = 123456789012
        sso_role_name = Developer
        """
    }

    @Test func expiredSSOTokenSaysHowToLogIn() async throws {
        let env = try TestEnvironment()
        defer { env.cleanup() }
        try env.write(".aws/config", Self.ssoConfig())
        let cache = AWSCredentialChain.ssoCachePath(key: "corp", home: env.home)
        try FileManager.default.createDirectory(atPath: (cache as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try #"{"startUrl":"https://corp.awsapps.com/start","region":"us-east-1","accessToken":"sso-secret-access-token","expiresAt":"2020-01-01T00:00:00Z"}"#
            .write(toFile: cache, atomically: true, encoding: .utf8)
        let error = await #expect(throws: AWSError.ssoTokenExpired(profile: "sso-dev", expiredAt: "2020-01-01T00:00:00Z")) {
            try await AWSCredentialChain.resolve(profile: "sso-dev", environment: env.environment, home: env.home)
        }
        #expect(error?.description.contains("aws sso login --profile sso-dev") == true)
        #expect(error?.description.contains("sso-secret-access-token") == false)
        // Legacy profiles key the cache by start URL; no token at all is the same hint.
        let legacy = await #expect(throws: AWSError.self) {
            try await AWSCredentialChain.resolve(profile: "sso-legacy", environment: env.environment, home: env.home)
        }
        #expect(legacy?.description.contains("aws sso login --profile sso-legacy") == true)
    }

    @Test func ssoCacheKeyMatchesTheAWSCLI() {
        // sha1("corp") — the AWS CLI names the cache file by the SHA-1 of the sso_session name.
        #expect(AWSCredentialChain.ssoCachePath(key: "corp", home: "/h") == "/h/.aws/sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json")
    }

}

extension CredentialChainTests {
    /// The tests of this suite that start a real component or need root:
    /// `swift test --skip Integration` (the unit tier) leaves them out.
    @Suite struct Integration {
        @Test func assumeRoleThroughMotoSTS() async throws {
            try await MotoServer.with { moto in
                let env = try CredentialChainTests.environment(["AWS_ENDPOINT_URL": moto.endpoint])
                defer { env.cleanup() }
                try env.write(".aws/config", CredentialChainTests.configFile + """

                [profile deployer]
                role_arn = arn:aws:iam::123456789012:role/deployer
                source_profile = dev
                role_session_name = ci-session
                region = us-east-1

                [profile chained]
                role_arn = arn:aws:iam::123456789012:role/second
                source_profile = deployer

                [profile from-env]
                role_arn = arn:aws:iam::123456789012:role/envrole
                credential_source = Environment
                """)
                let c = try await AWSCredentialChain.resolve(profile: "deployer", environment: env.environment, home: env.home)
                #expect(c.accessKeyID != "AKIADEVFILE000000001" && c.sessionToken != nil && c.expiration != nil)
                #expect(c.source.contains("deployer"))
                let client = AWSClient(credentials: AWSCredentialProvider(credentials: c), region: "us-east-1", options: TransportOptions(environment: env.environment))
                let identity = try await STSClient(client: client).getCallerIdentity()
                await client.shutdown()
                #expect(identity.arn.contains("assumed-role/deployer/ci-session"))
                // A role assumed with another role's credentials.
                let chained = try await AWSCredentialChain.resolve(profile: "chained", environment: env.environment, home: env.home)
                #expect(chained.sessionToken != nil && chained.accessKeyID != c.accessKeyID)
                // credential_source = Environment.
                var withKeys = env
                withKeys.environment["AWS_ACCESS_KEY_ID"] = "AKIAENV0000000000001"
                withKeys.environment["AWS_SECRET_ACCESS_KEY"] = "env-secret"
                let fromEnv = try await AWSCredentialChain.resolve(profile: "from-env", environment: withKeys.environment, home: env.home)
                #expect(fromEnv.source.contains("envrole"))
                await #expect(throws: AWSError.self) {
                    try await AWSCredentialChain.resolve(profile: "from-env", environment: env.environment, home: env.home)
                }
            }
        }

        @Test func webIdentityThroughMotoSTS() async throws {
            try await MotoServer.with { moto in
                let env = try TestEnvironment(["AWS_ENDPOINT_URL": moto.endpoint, "AWS_REGION": "us-east-1",
                                               "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/github-oidc",
                                               "AWS_ROLE_SESSION_NAME": "gha-run-42"])
                defer { env.cleanup() }
                try env.write("oidc-token", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm8vcjpyZWYifQ.c2ln\n")
                var withToken = env
                withToken.environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = env.home + "/oidc-token"
                let c = try await AWSCredentialChain.resolve(environment: withToken.environment, home: env.home)
                #expect(c.sessionToken != nil)
                #expect(c.source.contains("github-oidc"))
                let client = AWSClient(credentials: AWSCredentialProvider(credentials: c), region: "us-east-1", options: TransportOptions(environment: env.environment))
                let identity = try await STSClient(client: client).getCallerIdentity()
                await client.shutdown()
                #expect(identity.arn.contains("github-oidc"))
                // A missing token file names the file.
                var missing = env
                missing.environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = env.home + "/nope"
                let error = await #expect(throws: AWSError.self) { try await AWSCredentialChain.resolve(environment: missing.environment, home: env.home) }
                #expect(error?.description.contains(env.home + "/nope") == true)
                // Environment keys still come first.
                withToken.environment["AWS_ACCESS_KEY_ID"] = "AKIAENV0000000000001"
                withToken.environment["AWS_SECRET_ACCESS_KEY"] = "env-secret"
                #expect(try await AWSCredentialChain.resolve(environment: withToken.environment, home: env.home).source == "environment")
            }
        }
    }
}
