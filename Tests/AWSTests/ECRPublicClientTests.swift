import Foundation
import HTTPCore
import StackshipTesting
import Testing
@testable import AWS

/// ECR Public's API (moto has none): requests checked on the scripted server, as AWS would
/// receive them: JSON 1.1, target SpencerFrontendService.*, signed for ecr-public in us-east-1.
@Suite struct ECRPublicClientTests {
    static let password = "ecr-public-token-do-not-print-0123456789"

    static func client(_ endpoint: String?, region: String = "us-east-1") -> AWSClient {
        AWSClient(credentials: AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "AKIAPUBLICTEST", secretAccessKey: "s")),
                  region: region, endpoint: endpoint,
                  options: TransportOptions(environment: [:], retry: RetryPolicy(maxAttempts: 1, baseDelay: .milliseconds(10), maxDelay: .milliseconds(10))))
    }

    static func tokenAnswer(expiresAt: Double) -> ScriptedServer.Response {
        let token = Data("AWS:\(password)".utf8).base64EncodedString()
        return .init(status: 200, headers: ["Content-Type": "application/x-amz-json-1.1"],
                     body: #"{"authorizationData":{"authorizationToken":"\#(token)","expiresAt":\#(expiresAt)}}"#)
    }

    @Test func theServiceIsSignedAsEcrPublicAndReachedAtItsOwnHost() throws {
        #expect(AWSService.ecrPublic.signingName == "ecr-public")
        let endpoint = try AWSEndpoint.resolve(service: .ecrPublic, region: "us-east-1", environment: [:])
        #expect(endpoint.description == "https://api.ecr-public.us-east-1.amazonaws.com")
        // The AWS CLI's service-specific variable.
        let overridden = try AWSEndpoint.resolve(service: .ecrPublic, region: "us-east-1", environment: ["AWS_ENDPOINT_URL_ECR_PUBLIC": "http://127.0.0.1:9"])
        #expect(overridden.description == "http://127.0.0.1:9" && overridden.isCustom)
    }

    @Test func getAuthorizationTokenSendsTheSignedRequestAndDecodesTheLogin() async throws {
        let expires = Date().addingTimeInterval(12 * 3600).timeIntervalSince1970.rounded()
        try await ScriptedServer.with([Self.tokenAnswer(expiresAt: expires)]) { server in
            let token = try await Self.client(server.endpoint).withShutdown { try await ECRPublicClient(client: $0).getAuthorizationToken() }
            #expect(token.username == "AWS" && token.password == Self.password)
            #expect(token.registryHost == "public.ecr.aws")
            #expect(token.expiresAt == Date(timeIntervalSince1970: expires))
            #expect(!token.description.contains(Self.password))
            let requests = server.received()
            #expect(requests.count == 1)
            let request = try #require(requests.first)
            #expect(request.method == "POST" && request.path == "/")
            #expect(request.header("X-Amz-Target") == "SpencerFrontendService.GetAuthorizationToken")
            #expect(request.header("Content-Type") == "application/x-amz-json-1.1")
            let authorization = try #require(request.authorization)
            #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIAPUBLICTEST/"), "\(authorization)")
            #expect(authorization.contains("/us-east-1/ecr-public/aws4_request"), "\(authorization)")
            #expect(String(decoding: request.body, as: UTF8.self) == "{}")
        }
    }

    @Test func aRefusalIsAnErrorWithTheServiceCode() async throws {
        let denied = ScriptedServer.Response(status: 400, headers: ["Content-Type": "application/x-amz-json-1.1"],
                                             body: #"{"__type":"AccessDeniedException","message":"User is not authorized to perform: sts:GetServiceBearerToken"}"#)
        try await ScriptedServer.with([denied]) { server in
            let error = await #expect(throws: AWSError.self) {
                try await Self.client(server.endpoint).withShutdown { try await ECRPublicClient(client: $0).getAuthorizationToken() }
            }
            #expect(error?.serviceCode == "AccessDeniedException", "\(String(describing: error))")
            #expect(error?.description.contains("sts:GetServiceBearerToken") == true, "\(String(describing: error))")
        }
    }

    @Test func anAnswerWithoutATokenIsRefused() async throws {
        let empty = ScriptedServer.Response(status: 200, headers: ["Content-Type": "application/x-amz-json-1.1"], body: #"{"authorizationData":{}}"#)
        let garbled = ScriptedServer.Response(status: 200, headers: ["Content-Type": "application/x-amz-json-1.1"],
                                              body: #"{"authorizationData":{"authorizationToken":"bm90LWEtbG9naW4="}}"#)
        try await ScriptedServer.with([empty, garbled]) { server in
            for expected in ["no authorizationData.authorizationToken", "not base64 of user:password"] {
                let error = await #expect(throws: AWSError.self) {
                    try await Self.client(server.endpoint).withShutdown { try await ECRPublicClient(client: $0).getAuthorizationToken() }
                }
                #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
            }
        }
    }

    @Test func aClientForAnotherRegionIsRefusedBeforeAnyRequest() async throws {
        let client = Self.client("http://127.0.0.1:9", region: "eu-west-1")
        try await client.withShutdown { client in
            let error = #expect(throws: AWSError.self) { _ = try ECRPublicClient(client: client) }
            #expect(error?.description.contains("only in us-east-1") == true, "\(String(describing: error))")
        }
    }

    @Test func describeRepositoriesReadsEveryPage() async throws {
        let first = ScriptedServer.Response(status: 200, headers: ["Content-Type": "application/x-amz-json-1.1"], body: """
            {"repositories":[{"repositoryName":"hello","repositoryArn":"arn:aws:ecr-public::123456789012:repository/hello","repositoryUri":"public.ecr.aws/acme/hello","registryId":"123456789012"}],"nextToken":"t2"}
            """)
        let second = ScriptedServer.Response(status: 200, headers: ["Content-Type": "application/x-amz-json-1.1"], body: #"{"repositories":[{"repositoryName":"web"}]}"#)
        try await ScriptedServer.with([first, second]) { server in
            let found = try await Self.client(server.endpoint).withShutdown { try await ECRPublicClient(client: $0).describeRepositories(names: ["hello", "web"]) }
            #expect(found.map(\.repositoryName) == ["hello", "web"])
            #expect(found.first?.repositoryUri == "public.ecr.aws/acme/hello")
            let requests = server.received()
            #expect(requests.map { $0.header("X-Amz-Target") } == ["SpencerFrontendService.DescribeRepositories", "SpencerFrontendService.DescribeRepositories"])
            #expect(String(decoding: requests[1].body, as: UTF8.self) == #"{"nextToken":"t2","repositoryNames":["hello","web"]}"#)
        }
    }
}
