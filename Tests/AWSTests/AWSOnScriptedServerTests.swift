import Foundation
import HTTPCore
import StackshipTesting
import Testing
@testable import AWS

/// The AWS client against the in-process scripted server: its classifier (throttling codes in an
/// error body) on HTTPCore's retries, and endpoints HTTPCore reaches.
@Suite struct AWSOnScriptedServerTests {
    static let throttled = ScriptedServer.Response(status: 400, headers: ["Content-Type": "text/xml", "Retry-After": "1"], body: """
    <ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r1</RequestId></ErrorResponse>
    """)

    static func client(_ endpoint: String, retry: RetryPolicy) -> AWSClient {
        AWSClient(credentials: AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "AKIA", secretAccessKey: "s")),
                  region: "us-east-1", endpoint: endpoint, options: TransportOptions(environment: [:], retry: retry))
    }

    @Test func aThrottlingCodeInA400IsRetriedAfterItsRetryAfter() async throws {
        try await ScriptedServer.with([Self.throttled, .init(status: 200, headers: ["Content-Type": "text/xml"], body: CallerIdentityAnswer.xml)]) { server in
            let started = ContinuousClock.now
            let caller = try await Self.client(server.endpoint, retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .seconds(5)))
                .withShutdown { try await STSClient(client: $0).getCallerIdentity() }
            #expect(caller.account == "123456789012")
            #expect(ContinuousClock.now - started >= .milliseconds(900), "the throttled answer's Retry-After was honoured")
            #expect(server.received().count == 2)
        }
    }

    @Test func anErrorCodeThatIsNotThrottlingIsNotRetried() async throws {
        let invalid = ScriptedServer.Response(status: 400, headers: ["Content-Type": "text/xml"], body: """
        <ErrorResponse><Error><Code>ValidationError</Code><Message>bad name</Message></Error></ErrorResponse>
        """)
        try await ScriptedServer.with([invalid]) { server in
            let error = await #expect(throws: AWSError.self) {
                try await Self.client(server.endpoint, retry: RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .milliseconds(20)))
                    .withShutdown { try await STSClient(client: $0).getCallerIdentity() }
            }
            #expect(error?.serviceCode == "ValidationError")
            #expect(server.received().count == 1)
        }
    }

    @Test func anIPv6EndpointKeepsOneSetOfBrackets() throws {
        let endpoint = try AWSEndpoint(url: "http://[fd00::5]:5000/base/", source: "test")
        #expect(endpoint.host == "fd00::5" && endpoint.port == 5000 && endpoint.basePath == "/base")
        #expect(endpoint.hostHeader == "[fd00::5]:5000" && endpoint.description == "http://[fd00::5]:5000/base")
    }
}

/// An STS GetCallerIdentity answer.
enum CallerIdentityAnswer {
    static let xml = """
    <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>
    """
}
