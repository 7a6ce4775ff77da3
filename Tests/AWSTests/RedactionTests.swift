import Foundation
import HTTPCore
import StackshipTesting
import Testing
@testable import AWS

/// No secret (secret key, session token, secret string, registry password) appears in any
/// `description` or error message.
@Suite struct RedactionTests {
    static let secretKey = "wJalrXUtnFEMI-SECRET-KEY-zzz"
    static let token = "SESSION-TOKEN-abcdef0123456789"

    @Test func typesRedactThemselves() {
        let c = AWSCredentials(accessKeyID: "AKIAVISIBLE000000001", secretAccessKey: Self.secretKey, sessionToken: Self.token,
                               expiration: Date(timeIntervalSince1970: 2_000_000_000), source: "test")
        for text in [c.description, c.debugDescription, "\(c)", String(reflecting: c)] {
            #expect(!text.contains(Self.secretKey) && !text.contains(Self.token))
            #expect(text.contains("AKIAVISIBLE000000001"))
        }
        let token = ECRClient.AuthorizationToken(username: "AWS", password: "registry-password-xyz", proxyEndpoint: "https://1.dkr.ecr", expiresAt: nil)
        #expect(!"\(token)".contains("registry-password-xyz"))
        let secret = SecretsManagerClient.Secret(arn: "arn", name: "n", versionID: "v", secretString: "the-secret-string")
        #expect(!"\(secret)".contains("the-secret-string"))
    }

    @Test func unreachableEndpointIsATransportErrorAfterRetries() async throws {
        let credentials = AWSCredentials(accessKeyID: "AKIA", secretAccessKey: "s")
        let client = AWSClient(credentials: AWSCredentialProvider(credentials: credentials), region: "us-east-1", endpoint: "http://127.0.0.1:9",
                               options: TransportOptions(environment: [:], retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(20))))
        let error = await #expect(throws: AWSError.self) { try await STSClient(client: client).getCallerIdentity() }
        await client.shutdown()
        #expect(error?.description.contains("STS.GetCallerIdentity could not reach http://127.0.0.1:9") == true)
        #expect(error?.description.contains("after 3 attempts") == true)
    }
}

extension RedactionTests {
    /// The tests of this suite that start a real component or need root:
    /// `swift test --skip Integration` (the unit tier) leaves them out.
    @Suite struct Integration {
        @Test func errorsNeverCarrySecrets() async throws {
            try await MotoServer.with { moto in
                let env = try TestEnvironment(["AWS_ENDPOINT_URL": moto.endpoint, "AWS_REGION": "us-east-1"])
                defer { env.cleanup() }
                try env.write(".aws/credentials", """
                [half]
                aws_secret_access_key = \(RedactionTests.secretKey)
                aws_session_token = \(RedactionTests.token)
                [nosecret]
                aws_access_key_id = AKIAVISIBLE000000001
                aws_session_token = \(RedactionTests.token)
                """)
                try env.write(".aws/config", """
                [profile role]
                role_arn = arn:aws:iam::123456789012:role/r
                source_profile = half
                """)
                var messages: [String] = []
                for profile in ["half", "nosecret", "role", "ghost"] {
                    do { _ = try await AWSCredentialChain.resolve(profile: profile, environment: env.environment, home: env.home) }
                    catch { messages.append("\(error)"); messages.append(String(reflecting: error)) }
                }
                // Service errors for calls that carry secrets.
                let credentials = AWSCredentials(accessKeyID: "AKIAVISIBLE000000001", secretAccessKey: RedactionTests.secretKey, sessionToken: RedactionTests.token)
                let client = AWSClient(credentials: AWSCredentialProvider(credentials: credentials), region: "us-east-1",
                                       options: TransportOptions(environment: env.environment))
                let sm = SecretsManagerClient(client: client)
                _ = try await sm.createSecret(name: "dup", secretString: "the-secret-string-1")
                do { _ = try await sm.createSecret(name: "dup", secretString: "the-secret-string-2") } catch { messages.append("\(error)") }
                do { _ = try await sm.putSecretValue(id: "missing", secretString: "the-secret-string-3") } catch { messages.append("\(error)") }
                await client.shutdown()
                // A transport failure.
                let dead = AWSClient(credentials: AWSCredentialProvider(credentials: credentials), region: "us-east-1", endpoint: "http://127.0.0.1:9",
                                     options: TransportOptions(environment: [:], retry: .none))
                do { _ = try await STSClient(client: dead).getCallerIdentity() } catch { messages.append("\(error)") }
                await dead.shutdown()

                #expect(messages.count >= 8)
                for message in messages {
                    for secret in [RedactionTests.secretKey, RedactionTests.token, "the-secret-string"] {
                        #expect(!message.contains(secret), "\(message)")
                    }
                }
            }
        }
    }
}
