import Foundation
import HTTPCore
import StackshipTesting
import NIOHTTP1
import Testing
@testable import AWS

/// Retries, container credentials and S3 addressing, against a scripted loopback server.
@Suite struct TransportTests {
    static let identity = """
    <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>
    """
    static let throttled = ScriptedServer.Response(status: 400, headers: ["Content-Type": "text/xml"], body: """
    <ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r1</RequestId></ErrorResponse>
    """)
    static let fast = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .milliseconds(40))

    func client(_ endpoint: String, retry: RetryPolicy = fast) -> AWSClient {
        AWSClient(credentials: AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "AKIA", secretAccessKey: "s")),
                  region: "us-east-1", endpoint: endpoint, options: TransportOptions(environment: [:], retry: retry))
    }

    @Test func throttlingAnd5xxAreRetried() async throws {
        let responses = [Self.throttled, ScriptedServer.Response(status: 503, body: "busy"), ScriptedServer.Response(status: 200, headers: ["Content-Type": "text/xml"], body: Self.identity)]
        try await ScriptedServer.with(responses) { server in
            let c = client(server.endpoint)
            let identity = try await STSClient(client: c).getCallerIdentity()
            await c.shutdown()
            #expect(identity.account == "123456789012")
            #expect(server.requests().count == 3)
            // Each attempt is signed afresh.
            #expect(server.requests().allSatisfy { (($0["headers"] as? [String: String])?["Authorization"] ?? "").hasPrefix("AWS4-HMAC-SHA256 Credential=AKIA/") })
        }
    }

    @Test func retriesEndWithTheServiceErrorAndItsHint() async throws {
        try await ScriptedServer.with([Self.throttled]) { server in
            let c = client(server.endpoint)
            let error = await #expect(throws: AWSError.self) { try await STSClient(client: c).getCallerIdentity() }
            await c.shutdown()
            #expect(server.requests().count == 4)
            #expect(error?.serviceCode == "Throttling")
            #expect(error?.description.contains("STS.GetCallerIdentity failed (HTTP 400) Throttling: Rate exceeded [request id r1]") == true)
            #expect(error?.description.contains("throttling") == true)
        }
    }

    @Test func accessDeniedIsNotRetriedAndHasAHint() async throws {
        let denied = ScriptedServer.Response(status: 403, headers: ["Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "req-9"],
                                             body: #"{"__type":"AccessDeniedException","message":"User is not authorized to perform: ecr:CreateRepository"}"#)
        try await ScriptedServer.with([denied]) { server in
            let c = client(server.endpoint)
            let error = await #expect(throws: AWSError.self) { try await ECRClient(client: c).createRepository(name: "x") }
            await c.shutdown()
            #expect(server.requests().count == 1)
            #expect(error?.description.contains("AccessDeniedException") == true)
            #expect(error?.description.contains("req-9") == true)
            #expect(error?.description.contains("IAM policy") == true)
            let target = (server.requests().first?["headers"] as? [String: String])?["X-Amz-Target"]
            #expect(target == "AmazonEC2ContainerRegistry_V20150921.CreateRepository")
        }
    }

    @Test func containerCredentials() async throws {
        let answer = ScriptedServer.Response(status: 200, headers: ["Content-Type": "application/json"], body: """
        {"AccessKeyId":"ASIACONTAINER0000001","SecretAccessKey":"container-secret","Token":"container-token","Expiration":"2099-01-01T00:00:00Z"}
        """)
        try await ScriptedServer.with([answer]) { server in
            let env = try TestEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.endpoint + "/v2/credentials/abc",
                                           "AWS_CONTAINER_AUTHORIZATION_TOKEN": "auth-token-1"])
            defer { env.cleanup() }
            let c = try await AWSCredentialChain.resolve(environment: env.environment, home: env.home)
            #expect(c.accessKeyID == "ASIACONTAINER0000001" && c.sessionToken == "container-token")
            #expect(c.expiration == AWSDate.parse("2099-01-01T00:00:00Z"))
            let request = try #require(server.requests().first)
            #expect(request["path"] as? String == "/v2/credentials/abc")
            #expect((request["headers"] as? [String: String])?["Authorization"] == "auth-token-1")
        }
    }

    @Test func s3Addressing() throws {
        let creds = AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "AKIA", secretAccessKey: "s"))
        let aws = AWSClient(credentials: creds, region: "eu-west-1", options: TransportOptions(environment: [:]))
        defer { Task { await aws.shutdown() } }
        let onAWS = try S3Client(client: aws).request("GetObject", .GET, bucket: "my-cache", key: "a b/c+d.tar")
        #expect(onAWS.hostPrefix == "my-cache." && onAWS.path == "/a%20b/c%2Bd.tar")
        let dotted = try S3Client(client: aws).request("GetObject", .GET, bucket: "my.cache", key: "k")
        #expect(dotted.hostPrefix == "" && dotted.path == "/my.cache/k")
        let custom = AWSClient(credentials: creds, region: "eu-west-1", options: TransportOptions(environment: ["S3_ENDPOINT_URL": "http://127.0.0.1:9000"]))
        defer { Task { await custom.shutdown() } }
        let pathStyle = try S3Client(client: custom).request("ListObjectsV2", .GET, bucket: "my-cache", key: nil)
        #expect(pathStyle.hostPrefix == "" && pathStyle.path == "/my-cache")
        #expect(throws: AWSError.self) { try S3Client(client: aws).request("GetObject", .GET, bucket: "Bad_Bucket", key: "k") }
    }
}

/// SSO: the token cached by `aws sso login` traded for role credentials at the portal.
@Suite struct SSOCredentialTests {
    @Test func validTokenGetsRoleCredentials() async throws {
        let answer = ScriptedServer.Response(status: 200, headers: ["Content-Type": "application/json"], body: """
        {"roleCredentials":{"accessKeyId":"ASIASSO0000000000001","secretAccessKey":"sso-secret","sessionToken":"sso-session-token","expiration":4102444800000}}
        """)
        try await ScriptedServer.with([answer]) { server in
            let env = try TestEnvironment(["AWS_ENDPOINT_URL_SSO": server.endpoint])
            defer { env.cleanup() }
            try env.write(".aws/config", CredentialChainTests.ssoConfig())
            let cache = AWSCredentialChain.ssoCachePath(key: "corp", home: env.home)
            try #"{"startUrl":"https://corp.awsapps.com/start","region":"us-east-1","accessToken":"sso-bearer-1","expiresAt":"2099-01-01T00:00:00UTC"}"#
                .write(toFile: cache, atomically: true, encoding: .utf8)
            let c = try await AWSCredentialChain.resolve(profile: "sso-dev", environment: env.environment, home: env.home)
            #expect(c.accessKeyID == "ASIASSO0000000000001" && c.sessionToken == "sso-session-token")
            #expect(c.expiration == Date(timeIntervalSince1970: 4_102_444_800))
            let request = try #require(server.requests().first)
            let path = request["path"] as? String ?? ""
            #expect(path.hasPrefix("/federation/credentials?") && path.contains("account_id=123456789012") && path.contains("role_name=Developer"))
            let headers = request["headers"] as? [String: String] ?? [:]
            #expect(headers["x-amz-sso_bearer_token"] == "sso-bearer-1")
            #expect(headers["Authorization"] == nil)
        }
    }

    @Test func aRefusedTokenSaysHowToLogIn() async throws {
        let refused = ScriptedServer.Response(status: 401, headers: ["Content-Type": "application/json"],
                                              body: #"{"message":"Session token not found or invalid","__type":"com.amazonaws.switchboard.portal#UnauthorizedException"}"#)
        try await ScriptedServer.with([refused]) { server in
            let env = try TestEnvironment(["AWS_ENDPOINT_URL_SSO": server.endpoint])
            defer { env.cleanup() }
            try env.write(".aws/config", CredentialChainTests.ssoConfig())
            try #"{"accessToken":"sso-bearer-2","expiresAt":"2099-01-01T00:00:00Z"}"#
                .write(toFile: AWSCredentialChain.ssoCachePath(key: "corp", home: env.home), atomically: true, encoding: .utf8)
            let error = await #expect(throws: AWSError.self) {
                try await AWSCredentialChain.resolve(profile: "sso-dev", environment: env.environment, home: env.home)
            }
            #expect(error?.description.contains("aws sso login --profile sso-dev") == true)
            #expect(error?.description.contains("sso-bearer-2") == false)
        }
    }
}
