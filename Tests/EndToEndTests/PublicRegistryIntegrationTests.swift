import AWS
import AWSTemplates
import Foundation
import Stack
import StackshipTesting
import Testing

/// Issue 23, items 1 and 7, as a user types them: `login ecr --registry public.ecr.aws` on the
/// scripted server (moto has no ECR Public), the public registry stack against moto, and
/// `health` checking the stack file's ci.registry (a loopback docker-registry) and aws.registry.
@Suite(.serialized) struct PublicRegistryIntegrationTests {
    static let password = "ecr-public-token-do-not-print-0123456789"

    static func tokenAnswer(expiresIn: TimeInterval = 12 * 3600) -> ScriptedServer.Response {
        let token = Data("AWS:\(password)".utf8).base64EncodedString()
        let expires = Date().addingTimeInterval(expiresIn).timeIntervalSince1970.rounded()
        return .init(status: 200, headers: ["Content-Type": "application/x-amz-json-1.1"],
                     body: #"{"authorizationData":{"authorizationToken":"\#(token)","expiresAt":\#(expires)}}"#)
    }

    static func auths(_ p: AWSProject) -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: p.path + "/home/.docker/config.json"),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object["auths"] as? [String: Any] ?? [:]
    }

    // MARK: - login ecr --registry public.ecr.aws

    @Test func loginECRPublicSpeaksECRPublicInUsEast1AndSavesTheLogin() async throws {
        try await ScriptedServer.with([Self.tokenAnswer(), Self.tokenAnswer()]) { server in
            let p = try AWSProject(endpoint: server.endpoint)
            // The configured region is another one: ECR Public's API is only in us-east-1.
            let r = try p.stackship(["login", "ecr", "--registry", "public.ecr.aws"], env: ["AWS_REGION": "eu-west-1"])
            #expect(r.status == 0, "\(r.out)\n\(r.err)")
            #expect(r.out.hasPrefix("Login Succeeded for public.ecr.aws (saved in "), "\(r.out)")
            #expect(!r.out.contains(Self.password) && !r.err.contains(Self.password))
            let request = try #require(server.received().first)
            #expect(request.header("X-Amz-Target") == "SpencerFrontendService.GetAuthorizationToken")
            #expect(request.header("Content-Type") == "application/x-amz-json-1.1")
            let authorization = try #require(request.authorization)
            #expect(authorization.contains("Credential=\(AWSProject.accessKeyID)/"), "\(authorization)")
            #expect(authorization.contains("/us-east-1/ecr-public/aws4_request"), "\(authorization)")
            let entry = try #require(Self.auths(p)["public.ecr.aws"] as? [String: Any], "\(Self.auths(p).keys)")
            let auth = try #require(entry["auth"] as? String)
            #expect(Data(base64Encoded: auth).map { String(decoding: $0, as: UTF8.self) } == "AWS:\(Self.password)")

            // The registry as CI writes it (with the alias) logs in for the host.
            let withAlias = try p.stackship(["login", "ecr", "--registry", "public.ecr.aws/acme-alias"])
            #expect(withAlias.status == 0 && withAlias.out.contains("Login Succeeded for public.ecr.aws "), "\(withAlias.out)\n\(withAlias.err)")
            #expect(server.received().count == 2)
            #expect(server.received().allSatisfy { $0.header("X-Amz-Target") == "SpencerFrontendService.GetAuthorizationToken" })
        }
    }

    @Test func aRefusedECRPublicLoginNeverSaysSucceededAndSavesNothing() async throws {
        let denied = ScriptedServer.Response(status: 400, headers: ["Content-Type": "application/x-amz-json-1.1"],
                                             body: #"{"__type":"AccessDeniedException","message":"User is not authorized to perform: sts:GetServiceBearerToken"}"#)
        try await ScriptedServer.with([denied]) { server in
            let p = try AWSProject(endpoint: server.endpoint)
            let r = try p.stackship(["login", "ecr", "--registry", "public.ecr.aws"])
            expectCleanFailure(r, ["AccessDeniedException", "sts:GetServiceBearerToken"])
            #expect(!r.out.contains("Login Succeeded"), "\(r.out)")
            #expect(Self.auths(p)["public.ecr.aws"] == nil)
            #expect(server.received().first?.header("X-Amz-Target") == "SpencerFrontendService.GetAuthorizationToken")
        }
    }

    @Test func anExplicitOtherRegionIsRefusedBeforeAnyRequest() async throws {
        try await ScriptedServer.with([Self.tokenAnswer()]) { server in
            let p = try AWSProject(endpoint: server.endpoint)
            let r = try p.stackship(["login", "ecr", "--registry", "public.ecr.aws", "--region", "eu-west-1"])
            expectCleanFailure(r, ["only in us-east-1", "--region us-east-1"])
            #expect(!r.out.contains("Login Succeeded"))
            #expect(server.received().isEmpty)
            #expect(Self.auths(p).isEmpty)
        }
    }

    @Test func privateECRLoginStillAsksPrivateECR() async throws {
        let token = Data("AWS:private-token-0123".utf8).base64EncodedString()
        let answer = ScriptedServer.Response(status: 200, headers: ["Content-Type": "application/x-amz-json-1.1"], body: """
            {"authorizationData":[{"authorizationToken":"\(token)","proxyEndpoint":"https://123456789012.dkr.ecr.eu-west-1.amazonaws.com","expiresAt":\(Date().addingTimeInterval(3600).timeIntervalSince1970.rounded())}]}
            """)
        try await ScriptedServer.with([answer]) { server in
            let p = try AWSProject(endpoint: server.endpoint)
            let r = try p.stackship(["login", "ecr"], env: ["AWS_REGION": "eu-west-1"])
            #expect(r.status == 0 && r.out.contains("Login Succeeded for 123456789012.dkr.ecr.eu-west-1.amazonaws.com"), "\(r.out)\n\(r.err)")
            let request = try #require(server.received().first)
            #expect(request.header("X-Amz-Target") == "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken")
            #expect(request.authorization?.contains("/eu-west-1/ecr/aws4_request") == true)
        }
    }

    // MARK: - aws deploy with public: true

    static let publicStack = """
        aws:
          project: hello
          registry:
            github_repository: acme/hello
            public: true
        """

    /// moto's CloudFormation has no AWS::ECR::PublicRepository: it skips the resource, then fails
    /// ExecuteChangeSet on the role's Fn::GetAtt. The deploy says so plainly; the half-made stack
    /// is destroyed; the same project with a private registry then deploys.
    @Test func deployingThePublicRegistryOnMotoFailsWithAClearMessage() async throws {
        try await MotoServer.with { moto in
            let p = try AWSProject(endpoint: moto.endpoint)
            try p.write("stack.yaml", Self.publicStack)
            let rendered = try p.stackship(["aws", "render", "registry", "--output", "cfn"])
            #expect(rendered.status == 0, "\(rendered.err)")
            let template = try String(contentsOfFile: p.path + "/cfn/registry.json", encoding: .utf8)
            #expect(template.contains("AWS::ECR::PublicRepository") && template.contains("ecr-public:PutImage") && template.contains("sts:GetServiceBearerToken"))

            let deploy = try p.stackship(["aws", "deploy", "registry"])
            expectCleanFailure(deploy, ["cannot create AWS::ECR::PublicRepository", "moto_server has no ECR Public", "REVIEW_IN_PROGRESS", "stackship aws destroy registry --yes"])
            #expect(!deploy.out.contains("CREATE_COMPLETE"), "\(deploy.out)")

            let destroy = try p.stackship(["aws", "destroy", "registry", "--yes"])
            #expect(destroy.status == 0, "\(destroy.out)\n\(destroy.err)")
            try await withAWS(moto.endpoint) { client in
                let stack = try await CloudFormationClient(client: client).describeStack("hello-registry")
                #expect(stack == nil || stack?.status == "DELETE_COMPLETE", "\(String(describing: stack))")
            }

            // The private registry of the same project deploys on moto.
            try p.write("stack.yaml", Self.publicStack.replacingOccurrences(of: "    public: true\n", with: "").replacingOccurrences(of: "    public: true", with: ""))
            let privateDeploy = try p.stackship(["aws", "deploy", "registry"])
            #expect(privateDeploy.status == 0 && privateDeploy.out.contains("CREATE_COMPLETE"), "\(privateDeploy.out)\n\(privateDeploy.err)")

            // public: true on a second run: a new resource beside the retained private one (not a
            // type change, which CloudFormation refuses); moto fails it the same clear way and
            // leaves the stack CREATE_COMPLETE. (moto also deletes the removed private repository
            // in that failed update, Retain or not, so its survival is not checked here.)
            try p.write("stack.yaml", Self.publicStack)
            let second = try p.stackship(["aws", "deploy", "registry"])
            #expect(second.out.contains("change: Add PublicRepository (AWS::ECR::PublicRepository)"), "\(second.out)")
            #expect(second.out.contains("change: Remove Repository (AWS::ECR::Repository)"), "\(second.out)")
            expectCleanFailure(second, ["cannot create AWS::ECR::PublicRepository", "moto_server has no ECR Public"])
            try await withAWS(moto.endpoint) { client in
                let stack = try await CloudFormationClient(client: client).describeStack("hello-registry")
                #expect(stack?.status == "CREATE_COMPLETE", "\(String(describing: stack))")
            }
        }
    }

    /// `destroy --purge` of a public registry whose stack is gone deletes the public repository
    /// an earlier destroy left, through ECR Public's API, once its tags say it is the project's
    /// (moto has no ECR Public: the endpoint is scripted).
    @Test func destroyPurgeDeletesALeftPublicRepositoryThroughECRPublic() async throws {
        let json = ["Content-Type": "application/x-amz-json-1.1"]
        let arn = "arn:aws:ecr-public::123456789012:repository/hello"
        try await ScriptedServer.with([
            .init(status: 400, headers: ["Content-Type": "text/xml"],
                  body: "<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id hello-registry does not exist</Message></Error></ErrorResponse>"),
            .init(status: 200, headers: json, body: #"{"repositories":[{"repositoryName":"hello","repositoryArn":"\#(arn)"}]}"#),
            .init(status: 200, headers: json, body: #"{"tags":[{"Key":"stackship:project","Value":"hello"},{"Key":"stackship:stack-kind","Value":"registry"}]}"#),
            .init(status: 200, headers: json, body: #"{"repository":{"repositoryName":"hello"}}"#),
        ]) { server in
            let p = try AWSProject(endpoint: server.endpoint)
            try p.write("stack.yaml", Self.publicStack)
            let r = try p.stackship(["aws", "destroy", "registry", "--purge", "--yes"])
            #expect(r.status == 0 && r.out.contains("deleted public repository hello left by an earlier stack"), "\(r.out)\n\(r.err)")
            let targets = server.received().compactMap { $0.header("X-Amz-Target") }
            #expect(targets == ["SpencerFrontendService.DescribeRepositories", "SpencerFrontendService.ListTagsForResource",
                                "SpencerFrontendService.DeleteRepository"], "\(targets)")
            let delete = try #require(server.received().last)
            #expect(String(decoding: delete.body, as: UTF8.self).contains(#""force":true"#))
            #expect(delete.authorization?.contains("/us-east-1/ecr-public/aws4_request") == true, "\(delete.authorization ?? "")")
        }
    }

    @Test func deployingThePublicRegistryElsewhereThanUsEast1IsRefusedBeforeAnyRequest() async throws {
        try await ScriptedServer.with([]) { server in
            let p = try AWSProject(endpoint: server.endpoint)
            try p.write("stack.yaml", Self.publicStack)
            for command in [["aws", "deploy"], ["aws", "deploy", "registry"], ["aws", "status", "registry"], ["aws", "validate"]] {
                let r = try p.stackship(command, env: ["AWS_REGION": "eu-west-1"])
                expectCleanFailure(r, ["ECR Public exists only in us-east-1", "--region us-east-1"])
            }
            #expect(server.received().isEmpty, "nothing was sent")
        }
    }

    // MARK: - event_job.output_prefix

    @Test func anEventJobWithAnOutputPrefixDeploysOnMoto() async throws {
        try await MotoServer.with { moto in
            let p = try AWSProject(endpoint: moto.endpoint)
            try p.write("stack.yaml", """
                aws:
                  project: convert
                  event_job:
                    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/convert@\(AWSStackFiles.digest)
                    prefix: incoming/
                    output_prefix: results/
                """)
            let deploy = try p.stackship(["aws", "deploy", "event-job"])
            #expect(deploy.status == 0 && deploy.out.contains("event-job: CREATE_COMPLETE"), "\(deploy.out)\n\(deploy.err)")
            let status = try p.stackship(["aws", "status", "event-job"])
            #expect(status.status == 0 && status.out.contains("Bucket AWS::S3::Bucket CREATE_COMPLETE convert-uploads-123456789012-us-east-1"), "\(status.out)\n\(status.err)")
            // What was deployed is the rendered template, with the write statement.
            let rendered = try p.stackship(["aws", "render", "event-job", "--output", "cfn"])
            #expect(rendered.status == 0, "\(rendered.err)")
            let body = try String(contentsOfFile: p.path + "/cfn/event-job.json", encoding: .utf8)
            #expect(body.contains("\"WriteResults\"") && body.contains("/results/*") && body.contains("OUTPUT_PREFIX"))
            let destroy = try p.stackship(["aws", "destroy", "event-job", "--purge", "--yes"])
            #expect(destroy.status == 0, "\(destroy.out)\n\(destroy.err)")
        }
    }

    // MARK: - health: ci.registry and aws.registry

    @Test func healthChecksTheStackFilesCIRegistryAndAWSRegistry() async throws {
        try await LocalRegistry.with { registry in
            try await MotoServer.with { moto in
                let p = try AWSProject(endpoint: moto.endpoint)
                // No image tag names the registry: only ci.registry does (with a path, as CI writes it).
                try p.write("stack.yaml", """
                    images:
                      hello:
                        tags: [hello:1]
                    ci:
                      registry: \(registry.host)/team
                    """ + "\n" + AWSStackFiles.registryOnly)
                let before = try p.stackship(["health"])
                #expect(before.out.contains("ok   registry \(registry.host): reachable"), "\(before.out)")
                // The aws.registry repository is not deployed yet.
                #expect(before.out.contains("FAIL registry aws.registry (hello): not found or not readable"), "\(before.out)")
                #expect(before.out.contains("stackship aws deploy registry"), "\(before.out)")
                #expect(before.status == 1)

                let deploy = try p.stackship(["aws", "deploy", "registry"])
                #expect(deploy.status == 0, "\(deploy.out)\n\(deploy.err)")
                let after = try p.stackship(["health"])
                #expect(after.out.contains("ok   registry aws.registry (hello): repository exists: 123456789012.dkr.ecr.us-east-1.amazonaws.com/hello"), "\(after.out)")
                #expect(after.out.contains("ok   registry \(registry.host): reachable"), "\(after.out)")
                #expect(after.status == 0, "\(after.out)\n\(after.err)")
            }
            // A stack file for AWS alone (no images) still has its aws.registry checked.
            try await MotoServer.with { moto in
                let p = try AWSProject(endpoint: moto.endpoint)
                try p.write("stack.yaml", AWSStackFiles.registryOnly)
                _ = try await withAWS(moto.endpoint) { try await ECRClient(client: $0).createRepository(name: "hello") }
                let r = try p.stackship(["health"])
                #expect(r.out.contains("FAIL stack file:") && r.out.contains("missing key 'images'"), "\(r.out)")
                #expect(r.out.contains("ok   registry aws.registry (hello): repository exists"), "\(r.out)")
            }
            // A ci.registry that does not answer fails the check, naming it.
            let port = try Loopback.freePort()
            let p = try AWSProject(endpoint: "http://127.0.0.1:\(try Loopback.freePort())", credentials: false)
            try p.write("stack.yaml", "images:\n  hello:\n    tags: [hello:1]\nci:\n  registry: 127.0.0.1:\(port)\n")
            let down = try p.stackship(["health"])
            #expect(down.out.contains("FAIL registry 127.0.0.1:\(port): unreachable"), "\(down.out)")
        }
    }
}
