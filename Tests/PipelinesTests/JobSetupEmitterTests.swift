import Foundation
import Testing
@testable import Pipelines

/// What makes a stock runner able to run a job (issue 18 item 1): stackship installed pinned to
/// the generating version, the stack's set-up commands, the cache's public key, and logins and
/// credentials only where a job needs them.
@Suite("CI job set-up")
struct JobSetupEmitterTests {
    static func jobs(_ workflow: Any) -> [String: [String: Any]] { EmitterTests.jobs(workflow) }

    @Test func everyBackendWritesTheInstallScriptAndEveryJobRunsItAfterSetUp() throws {
        let plan = try Plan.make(from: Fixtures.hello)
        for backend in CIBackend.allCases {
            let out = try backend.emit(plan)
            #expect(out.files[InstallScript.path] == InstallScript.text, "\(backend) writes the install script")
        }
        // GitHub: set-up, then install, in every job that builds; install alone elsewhere.
        let github = try GitHubActionsEmitter.emit(plan)
        let publish = try Fixtures.yaml(github.files[GitHubActionsEmitter.publishWorkflowPath]!)
        for (id, job) in Self.jobs(publish) {
            let runs = (job["steps"] as! [[String: Any]]).compactMap { $0["run"] as? String }
            let kind = plan.jobsByID[id]!.kind
            let install = try #require(runs.firstIndex(of: InstallScript.command), "\(id) installs stackship")
            let setup = runs.firstIndex(of: Fixtures.helloSettings.setup.gitlab[0])
            #expect((setup != nil) == CommonEnvironment.runsSetup(kind), "\(id) runs set-up only if it builds")
            if let setup { #expect(setup < install, "\(id): set-up comes before the install (it may install curl)") }
            let env = job["env"] as! [String: String]
            #expect(env["STACKSHIP_VERSION"] == "0.1.0")
            #expect(env["STACKSHIP_INSTALL_URL"] == "https://downloads.example.invalid/stackship-0.1.0-linux-x86_64.tar.gz")
            #expect(env["STACKSHIP_INSTALL_SHA256"] == String(repeating: "ab", count: 32))
            #expect(env["STACKSHIP_TRUSTED_KEYS"] == "examples/hello/keys/cache.pub")
        }
        // GitLab: each plan job's before_script; fan-ins (none here) and the parent's generate job install only.
        let gitlab = try GitLabCIEmitter.emit(plan)
        let child = try Fixtures.yaml(gitlab.files[GitLabCIEmitter.childPath]!) as! [String: Any]
        for job in plan.jobs {
            let before = (child[job.id] as? [String: Any])?["before_script"] as? [String] ?? []
            #expect(before.last == InstallScript.command, "\(job.id): \(before)")
            #expect(before.contains(Fixtures.helloSettings.setup.gitlab[0]) == CommonEnvironment.runsSetup(job.kind))
        }
        let parent = try Fixtures.yaml(gitlab.files[GitLabCIEmitter.parentPath]!) as! [String: Any]
        #expect(((parent["generate"] as? [String: Any])?["script"] as? [String])?.first == InstallScript.command)
        // CodeBuild: the install phase of each kind's buildspec.
        let codebuild = try CodeBuildEmitter.emit(plan)
        for kind in Set(plan.jobs.map(\.kind)) {
            let spec = try Fixtures.yaml(codebuild.files[CodeBuildEmitter.kindPath(kind)]!) as! [String: Any]
            let install = (((spec["phases"] as? [String: Any])?["install"] as? [String: Any])?["commands"] as? [String]) ?? []
            #expect(install.last == InstallScript.command, "\(kind): \(install)")
            #expect(install.contains(Fixtures.helloSettings.setup.codebuild[0]) == CommonEnvironment.runsSetup(kind))
        }
    }

    @Test func withoutAWayToInstallStackshipNothingIsWritten() throws {
        var input = Fixtures.hello
        input.settings.install = nil
        let plan = try Plan.make(from: input)
        for backend in CIBackend.allCases {
            #expect(throws: PipelineError.self) { try backend.emit(plan) }
            do { _ = try backend.emit(plan) } catch let error as PipelineError {
                guard case let .missingSetting(key, needs, example) = error else { Issue.record("\(error)"); continue }
                #expect(key == "ci.install")
                #expect(needs.contains("stock runner"))
                #expect(example.contains("sha256") && example.contains("preinstalled"))
            }
        }
        // `install_command` is the user's own way, used as given, with no script.
        input.settings.installCommand = "apt-get install -y stackship"
        let out = try GitHubActionsEmitter.emit(try Plan.make(from: input))
        #expect(out.files[InstallScript.path] == nil)
        #expect(out.files.values.joined().contains("run: apt-get install -y stackship"))
    }

    @Test func jobsThatReadSignedPackagesWithoutTheKeyNeedItsPublicKey() throws {
        var input = Fixtures.hello
        input.settings.trustedKeys = []
        let plan = try Plan.make(from: input)
        do {
            _ = try GitLabCIEmitter.emit(plan)
            Issue.record("emitted without a trusted key")
        } catch let PipelineError.missingSetting(key, needs, _) {
            #expect(key == "ci.trusted_key")
            #expect(needs.contains("public key"))
        }
        // A stack without packages needs no key.
        input.packages = []
        input.images = input.images.map { var image = $0; image.packages = []; return image }
        _ = try GitLabCIEmitter.emit(try Plan.make(from: input))
    }

    @Test func theInstallScriptSelectsItsModeFromTheVariablesAndPinsTheVersion() {
        #expect(InstallScript.variables(.release(url: "tools/stackship.tar.gz", sha256: "00")).map(\.0) == ["STACKSHIP_INSTALL_URL", "STACKSHIP_INSTALL_SHA256"])
        #expect(InstallScript.variables(.source(repository: "https://h/s.git", ref: "v1")).map(\.0) == ["STACKSHIP_INSTALL_SOURCE", "STACKSHIP_INSTALL_REF"])
        #expect(InstallScript.variables(.preinstalled).isEmpty)
        let text = InstallScript.text
        #expect(text.hasPrefix("#!/bin/sh\n"))
        #expect(text.contains("sha256sum") && text.contains("refusing to run it"))
        #expect(text.contains("[ \"$got\" = \"$want\" ] || fail"), "the installed version is checked")
        #expect(!text.contains("${{"), "no expression: values come from the environment")
    }

    @Test func githubSetUpStepsKeepTheirActionPinnedAndInputs() throws {
        let plan = try Plan.make(from: Fixtures.hpc)
        let out = try GitHubActionsEmitter.emit(plan)
        let publish = try Fixtures.yaml(out.files[GitHubActionsEmitter.publishWorkflowPath]!)
        let job = Self.jobs(publish)[plan.jobs.first { $0.kind == .image }!.id]!
        let steps = job["steps"] as! [[String: Any]]
        let swift = try #require(steps.first { $0["name"] as? String == "Swift" })
        #expect(swift["uses"] as? String == "swift-actions/setup-swift@0123456789abcdef0123456789abcdef01234567")
        #expect(swift["with"] as? [String: String] == ["swift-version": "6.1"])
        let env = job["env"] as! [String: String]
        #expect(env["STACKSHIP_INSTALL_SOURCE"] == "https://git.example.invalid/stackship.git" && env["STACKSHIP_INSTALL_REF"] == "v0.2.0")
    }

    @Test func githubLogsInToEachKindOfRegistryWithWhatItAccepts() throws {
        func loginStep(_ registry: String) throws -> (step: [String: Any], permissions: [String: String]) {
            var input = Fixtures.hello
            input.settings.registry = registry
            let plan = try Plan.make(from: input)
            let out = try GitHubActionsEmitter.emit(plan)
            let job = Self.jobs(try Fixtures.yaml(out.files[GitHubActionsEmitter.publishWorkflowPath]!))["publish_hello_latest"]!
            let step = try #require((job["steps"] as! [[String: Any]]).first { ($0["name"] as? String)?.hasPrefix("Log in") == true })
            return (step, job["permissions"] as! [String: String])
        }
        let ecr = try loginStep("123456789012.dkr.ecr.us-east-1.amazonaws.com")
        #expect(ecr.step["run"] as? String == "stackship login ecr --registry \"$STACKSHIP_REGISTRY\"")
        #expect(ecr.permissions["packages"] == nil)
        let ghcr = try loginStep("ghcr.io/acme")
        #expect(ghcr.step["run"] as? String == "printf '%s' \"$GITHUB_TOKEN\" | stackship login ghcr.io --username \"$GITHUB_ACTOR\" --password-stdin")
        #expect((ghcr.step["env"] as? [String: String])?["GITHUB_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}")
        #expect(ghcr.permissions["packages"] == "write")
        let other = try loginStep("registry.example.com:5000/team")
        #expect(other.step["run"] as? String == "printf '%s' \"$REGISTRY_PASSWORD\" | stackship login \"${STACKSHIP_REGISTRY%%/*}\" --username \"$REGISTRY_USERNAME\" --password-stdin")
        #expect(other.step["env"] as? [String: String] == ["REGISTRY_USERNAME": "${{ secrets.REGISTRY_USERNAME }}", "REGISTRY_PASSWORD": "${{ secrets.REGISTRY_PASSWORD }}"])
        #expect(other.permissions["packages"] == nil)
    }

    @Test func gitlabJobsAssumeTheRoleWithAnOIDCTokenOnlyWhenARoleIsGiven() throws {
        let plan = try Plan.make(from: Fixtures.hello)
        let out = try GitLabCIEmitter.emit(plan)
        let child = try Fixtures.yaml(out.files[GitLabCIEmitter.childPath]!) as! [String: Any]
        #expect(((child["variables"] as? [String: String])?["AWS_ROLE_ARN"]) == "arn:aws:iam::123456789012:role/stackship-ci")
        for job in plan.jobs {
            let body = child[job.id] as! [String: Any]
            #expect(((body["id_tokens"] as? [String: Any])?[GitLabCIEmitter.idTokenVariable] as? [String: String]) == ["aud": "sts.amazonaws.com"])
            let before = body["before_script"] as! [String]
            #expect(before.first?.hasPrefix("export AWS_WEB_IDENTITY_TOKEN_FILE=\"$(mktemp)\"") == true, "\(job.id): the token goes to a private file first")
        }
        #expect(out.notes.contains { $0.contains("must trust your GitLab instance's issuer") })
        var input = Fixtures.hello
        input.settings.awsRoleARN = nil
        let plain = try Fixtures.yaml(try GitLabCIEmitter.emit(try Plan.make(from: input)).files[GitLabCIEmitter.childPath]!) as! [String: Any]
        for job in plan.jobs { #expect((plain[job.id] as! [String: Any])["id_tokens"] == nil) }
    }

    @Test func codebuildPublishesOnlyFromTheReleaseProjectsBatch() throws {
        let plan = try Plan.make(from: Fixtures.hello)
        let out = try CodeBuildEmitter.emit(plan)
        func identifiers(_ path: String) throws -> [String] {
            let doc = try Fixtures.yaml(out.files[path]!) as! [String: Any]
            return ((doc["batch"] as! [String: Any])["build-graph"] as! [[String: Any]]).map { $0["identifier"] as! String }
        }
        let ci = try identifiers(CodeBuildEmitter.batchPath), release = try identifiers(CodeBuildEmitter.releaseBatchPath)
        let publishing = plan.jobs.filter { $0.kind == .publish || $0.kind == .cleanup }.map(\.id)
        #expect(!publishing.isEmpty)
        #expect(Set(ci).isDisjoint(with: publishing), "pull requests start the CI project's batch")
        #expect(Set(release) == Set(plan.jobs.map(\.id)))
        let spec = try Fixtures.yaml(out.files[CodeBuildEmitter.kindPath(.publish)]!) as! [String: Any]
        let build = ((spec["phases"] as! [String: Any])["build"] as! [String: Any])["commands"] as! [String]
        #expect(build.first == CodeBuildEmitter.publishGuard)
    }
}
