import Foundation
import Testing
@testable import Pipelines

/// The publish jobs of every backend when the registry is ECR Public (`public.ecr.aws/ALIAS`):
/// they log in with `stackship login ecr --registry public.ecr.aws/ALIAS` (which asks ECR Public's
/// API) and push under that registry.
@Suite("Publish jobs to ECR Public")
struct PublicRegistryEmitterTests {
    static let registry = "public.ecr.aws/acme-alias"
    static let login = "stackship login ecr --registry \"$STACKSHIP_REGISTRY\""

    static func plan() throws -> Plan {
        var input = Fixtures.hello
        input.settings.registry = registry
        return try Plan.make(from: input)
    }

    @Test func theRegistryIsRecognisedAsECRPublic() {
        #expect(CIScript.isECRPublic("public.ecr.aws/acme-alias") && CIScript.isECRPublic("public.ecr.aws"))
        #expect(!CIScript.isECRPublic("public.ecr.aws.example.com/x") && !CIScript.isECRPublic("123456789012.dkr.ecr.us-east-1.amazonaws.com"))
        #expect(CIScript.isECR("public.ecr.aws/acme-alias") && CIScript.isECR("123456789012.dkr.ecr.us-east-1.amazonaws.com"))
        #expect(!CIScript.isECR("registry.gitlab.com/acme"))
    }

    @Test func planPushesUnderThePublicRegistry() throws {
        let plan = try Self.plan()
        let publish = try #require(plan.jobs.first { $0.id == "publish_hello_latest" })
        #expect(publish.argv.suffix(2) == ["hello:latest", "public.ecr.aws/acme-alias/hello:latest"], "\(publish.argv)")
    }

    @Test func githubLogsInToECRPublicThenPushes() throws {
        let out = try GitHubActionsEmitter.emit(try Self.plan())
        let publish = try Fixtures.yaml(out.files[GitHubActionsEmitter.publishWorkflowPath]!)
        let job = try #require(EmitterTests.jobs(publish)["publish_hello_latest"])
        #expect((job["env"] as? [String: String])?["STACKSHIP_REGISTRY"] == Self.registry)
        let steps = try #require(job["steps"] as? [[String: Any]])
        let loginIndex = try #require(steps.firstIndex { $0["name"] as? String == "Log in to ECR Public" }, "\(steps)")
        #expect(steps[loginIndex]["run"] as? String == Self.login)
        let credentials = try #require(steps.firstIndex { ($0["uses"] as? String)?.hasPrefix("aws-actions/configure-aws-credentials@") == true })
        #expect(credentials < loginIndex, "credentials first, then the login")
        let push = try #require(steps.last?["run"] as? String)
        #expect(steps.firstIndex { ($0["run"] as? String) == push }! > loginIndex)
        #expect(push.contains("\nstackship push hello:latest public.ecr.aws/acme-alias/hello:latest\n"), "\(push)")
        #expect(push.contains("stackship push hello:latest public.ecr.aws/acme-alias/hello:\"${GITHUB_SHA}\""), "\(push)")
        // Private ECR keeps its own step name.
        let privateOut = try GitHubActionsEmitter.emit(try Plan.make(from: Fixtures.hello))
        #expect(privateOut.files[GitHubActionsEmitter.publishWorkflowPath]!.contains("Log in to ECR\n"))
        #expect(!privateOut.files[GitHubActionsEmitter.publishWorkflowPath]!.contains("ECR Public"))
    }

    @Test func gitlabLogsInWithAWSNotWithTheGitLabRegistryCredentials() throws {
        let out = try GitLabCIEmitter.emit(try Self.plan())
        let child = try Fixtures.yaml(out.files[GitLabCIEmitter.childPath]!) as! [String: Any]
        let job = try #require(child["publish_hello_latest"] as? [String: Any])
        let script = try #require(job["script"] as? [String])
        #expect(script.first == Self.login, "\(script)")
        #expect(!out.files[GitLabCIEmitter.childPath]!.contains("CI_REGISTRY_PASSWORD"))
        #expect(script.contains { $0.contains("stackship push hello:latest public.ecr.aws/acme-alias/hello:latest") }, "\(script)")
        // A GitLab registry still uses GitLab's own job credentials.
        var input = Fixtures.hello
        input.settings.registry = "registry.gitlab.com/acme"
        let gitlab = try GitLabCIEmitter.emit(try Plan.make(from: input))
        #expect(gitlab.files[GitLabCIEmitter.childPath]!.contains("CI_REGISTRY_PASSWORD"))
    }

    @Test func codeBuildLogsInBeforePushing() throws {
        let out = try CodeBuildEmitter.emit(try Self.plan())
        let spec = try Fixtures.yaml(out.files[CodeBuildEmitter.kindPath(.publish)]!) as! [String: Any]
        let phases = try #require(spec["phases"] as? [String: Any])
        let preBuild = try #require((phases["pre_build"] as? [String: Any])?["commands"] as? [String])
        #expect(preBuild == [Self.login])
        let variables = try #require((spec["env"] as? [String: Any])?["variables"] as? [String: String])
        #expect(variables["STACKSHIP_REGISTRY"] == Self.registry)
        #expect(out.files[CodeBuildEmitter.releaseBatchPath]!.contains("public.ecr.aws/acme-alias/hello:latest"))
        #expect(!out.files[CodeBuildEmitter.batchPath]!.contains("public.ecr.aws/acme-alias/hello:latest"), "pull requests never publish")
    }
}
