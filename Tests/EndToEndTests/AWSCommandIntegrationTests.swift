import AWS
import AWSTemplates
import Foundation
import OCI
import Stack
import StackshipTesting
import Testing

/// `stackship aws …`, `login ecr` and `health` as a user types them, against a real moto_server
/// on a random loopback port (through AWS_ENDPOINT_URL, or --endpoint-url), and against the AWS
/// tests' scripted server where moto cannot help (StartBuildBatch answers 500 in moto; moto
/// reports resource failures as an error of ExecuteChangeSet instead of failed stack events).
///
/// What the deploy test checks beyond CloudFormation's own view (DescribeStacks /
/// DescribeStackResources), through the service's describe calls:
///
/// | stack kind          | resource types                                   | checked through          |
/// | ------------------- | ------------------------------------------------ | ------------------------ |
/// | ci-build            | AWS::S3::Bucket                                  | S3 ListObjectVersions    |
/// | release-build       | AWS::S3::Bucket                                  | S3 ListObjectVersions    |
/// | registry            | AWS::ECR::Repository                             | ECR DescribeRepositories |
/// | event-job           | AWS::S3::Bucket                                  | S3 ListObjectVersions    |
/// | service             | ECS cluster/service/task definition, ALB, VPC…   | stack resources only     |
///
/// Not checked beyond the stack (no client here, or moto does not model them in CloudFormation
/// and lists them without a name or type): AWS::CodeBuild::Project, AWS::CodeBuild::SourceCredential,
/// AWS::IAM::OIDCProvider, AWS::IAM::Role, AWS::Logs::LogGroup, AWS::Lambda::Function and
/// ::Permission, AWS::S3::BucketPolicy, and the service stack's network and ECS resources.
@Suite(.serialized) struct AWSCommandIntegrationTests {
    @Test func deployStatusDestroyEveryKindAgainstMoto() async throws {
        try await MotoServer.with { moto in
            let p = try AWSProject(endpoint: moto.endpoint)
            try p.write("stack.yaml", AWSStackFiles.everyKind)
            let kinds = StackKind.allCases.map(\.rawValue)

            let deploy = try p.stackship(["aws", "deploy"])
            #expect(deploy.status == 0, "\(deploy.out)\n\(deploy.err)")
            for kind in kinds { #expect(deploy.out.contains("\(kind): creating stack"), "\(kind): \(deploy.out)") }
            #expect(deploy.out.contains("CREATE_COMPLETE"))

            // A second deploy changes nothing: an empty change set is "no changes", not an error.
            let again = try p.stackship(["aws", "deploy", "registry", "ci-build"])
            #expect(again.status == 0, "\(again.out)\n\(again.err)")
            #expect(again.out.contains("registry: no changes") && again.out.contains("ci-build: no changes"), "\(again.out)")

            let status = try p.stackship(["aws", "status"])
            #expect(status.status == 0, "\(status.out)\n\(status.err)")
            for kind in kinds { #expect(status.out.contains("\(kind): stack"), "\(status.out)") }
            #expect(status.out.contains("Repository AWS::ECR::Repository CREATE_COMPLETE hello"), "\(status.out)")

            try await withAWS(moto.endpoint) { client in
                let cfn = CloudFormationClient(client: client)
                for kind in StackKind.allCases {
                    let stack = try await cfn.describeStack(kind.stackName(project: "hello"))
                    #expect(stack?.status == "CREATE_COMPLETE", "\(kind)")
                }
                let s3 = S3Client(client: client)
                for suffix in ["ci-artifacts", "release-artifacts", "uploads"] {
                    let bucket = "hello-\(suffix)-123456789012-us-east-1"
                    let versions = try await s3.listAllObjectVersions(bucket: bucket)
                    #expect(versions.isEmpty, "\(bucket)")
                }
                let repos = try await ECRClient(client: client).describeRepositories(names: ["hello"])
                #expect(repos.map(\.repositoryName) == ["hello"])

                // Something that would keep costing: three versions of an object and an image.
                let bucket = "hello-ci-artifacts-123456789012-us-east-1"
                try await s3.putBucketVersioning(bucket, enabled: true)
                for n in 1...3 { try await s3.putObject(bucket: bucket, key: "build/output.zip", data: Data("version \(n)".utf8)) }
                try await s3.deleteObject(bucket: bucket, key: "build/output.zip")  // a delete marker on top
                let versions = try await s3.listAllObjectVersions(bucket: bucket)
                #expect(versions.count == 4, "\(versions)")
                let manifest = #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#
                _ = try await ECRClient(client: client).putImage(repository: "hello", manifest: manifest, tag: "v1")
                let images = try await ECRClient(client: client).listImages(repository: "hello")
                #expect(!images.isEmpty)
            }

            let refused = try p.stackship(["aws", "destroy", "--all"])
            expectCleanFailure(refused, ["--yes"])

            let destroy = try p.stackship(["aws", "destroy", "--all", "--purge", "--yes"])
            #expect(destroy.status == 0, "\(destroy.out)\n\(destroy.err)")
            #expect(destroy.out.contains("emptied bucket hello-ci-artifacts-123456789012-us-east-1 (4 object versions deleted)"), "\(destroy.out)")
            #expect(destroy.out.contains("emptied repository hello (1 images deleted)"), "\(destroy.out)")
            for kind in kinds { #expect(destroy.out.contains("\(kind): deleted"), "\(destroy.out)") }

            try await withAWS(moto.endpoint) { client in
                let cfn = CloudFormationClient(client: client)
                for kind in StackKind.allCases {
                    let stack = try await cfn.describeStack(kind.stackName(project: "hello"))
                    #expect(stack == nil || stack?.status == "DELETE_COMPLETE", "\(kind): \(String(describing: stack))")
                }
            }

            // Missing stacks make status fail, naming the fix.
            let after = try p.stackship(["aws", "status", "registry"])
            #expect(after.out.contains("registry: stack hello-registry MISSING"), "\(after.out)")
            expectCleanFailure(after, ["hello-registry is missing", "stackship aws deploy"])
        }
    }

    /// Destroy and deploy are inverse: the repository a registry stack retains is deleted by
    /// `destroy --purge` (after the stack, saying so), and one an earlier plain destroy left is
    /// named by the next deploy before CloudFormation can get stuck, then removed by --purge.
    @Test func deployDestroyPurgeDeployAgain() async throws {
        try await MotoServer.with { moto in
            let p = try AWSProject(endpoint: moto.endpoint)
            try p.write("stack.yaml", AWSStackFiles.registryOnly)
            func deploy() throws {
                let r = try p.stackship(["aws", "deploy", "registry"])
                #expect(r.status == 0 && r.out.contains("registry: CREATE_COMPLETE"), "\(r.out)\n\(r.err)")
            }
            try deploy()
            try await withAWS(moto.endpoint) { client in
                let manifest = #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#
                _ = try await ECRClient(client: client).putImage(repository: "hello", manifest: manifest, tag: "v1")
            }
            let purge = try p.stackship(["aws", "destroy", "registry", "--purge", "--yes"])
            #expect(purge.status == 0, "\(purge.out)\n\(purge.err)")
            #expect(purge.out.contains("emptied repository hello (1 images deleted)") && purge.out.contains("deleted repository hello"), "\(purge.out)")
            let deletedStack = try #require(purge.out.range(of: "registry: deleted\n")), deletedRepository = try #require(purge.out.range(of: "deleted repository hello"))
            #expect(deletedStack.lowerBound < deletedRepository.lowerBound, "the repository goes after its stack: \(purge.out)")
            try await withAWS(moto.endpoint) { client in
                let gone = try await ECRClient(client: client).repository(named: "hello")
                #expect(gone == nil)
            }
            try deploy()

            // A plain destroy keeps the repository and says so; deploy then names the way out
            // instead of leaving a stack stuck in review.
            let keep = try p.stackship(["aws", "destroy", "registry", "--yes"])
            #expect(keep.status == 0 && keep.out.contains("repository hello stays, with its images"), "\(keep.out)\n\(keep.err)")
            let refused = try p.stackship(["aws", "deploy", "registry"])
            expectCleanFailure(refused, ["ECR repository 'hello' already exists", "stackship aws destroy registry --purge --yes", "aws.registry.repository"])
            let status = try p.stackship(["aws", "status", "registry"])
            #expect(status.out.contains("registry: stack hello-registry MISSING"), "nothing half-created: \(status.out)")
            let left = try p.stackship(["aws", "destroy", "registry", "--purge", "--yes"])
            #expect(left.status == 0 && left.out.contains("does not exist") && left.out.contains("deleted repository hello"), "\(left.out)\n\(left.err)")
            try deploy()

            // A repository of that name that is not the project's is never deleted.
            #expect(try p.stackship(["aws", "destroy", "registry", "--purge", "--yes"]).status == 0)
            try await withAWS(moto.endpoint) { client in
                _ = try await ECRClient(client: client).createRepository(name: "other-team")
            }
            try p.write("stack.yaml", AWSStackFiles.registryOnly + "\n    repository: other-team\n")
            let foreign = try p.stackship(["aws", "destroy", "registry", "--purge", "--yes"])
            #expect(foreign.out.contains("repository other-team exists but is not tagged") , "\(foreign.out)\n\(foreign.err)")
            try await withAWS(moto.endpoint) { client in
                let kept = try await ECRClient(client: client).repository(named: "other-team")
                #expect(kept != nil)
            }
            let refusedForeign = try p.stackship(["aws", "deploy", "registry"])
            expectCleanFailure(refusedForeign, ["ECR repository 'other-team' already exists and is not hello's"])
        }
    }

    /// `--image REF`: the service's digest is resolved (from the store and the registry stack's
    /// repository, from ECR by tag, from any registry by tag) and the template pinned to it;
    /// without it, render and deploy name the flag. moto's ECR has no registry API, so the push
    /// to it is ECR's PutImage of the store's manifest bytes with their digest.
    @Test func serviceImageIsResolvedToADigest() async throws {
        try await MotoServer.with { moto in
            let p = try AWSProject(endpoint: moto.endpoint)
            try p.write("stack.yaml", AWSStackFiles.registryOnly + "\n  service:\n    port: 8080\n")
            expectCleanFailure(try p.stackship(["aws", "render", "--all", "-o", "out"]), ["aws.service.image is not set", "--image REF"])
            #expect(!FileManager.default.fileExists(atPath: p.path + "/out"), "nothing is written when a template fails")
            expectCleanFailure(try p.stackship(["aws", "deploy", "service"]), ["--image REF"])

            // An image in the store, built here.
            try p.write("img/Dockerfile", "FROM scratch\nCOPY x /x\nCMD [\"/x\"]\n")
            try p.write("img/x", "hello\n")
            let build = try p.stackship(["build", "-t", "hello:latest", "img"])
            #expect(build.status == 0, "\(build.out)\n\(build.err)")
            // A Dockerfile build outside a stack folder goes to the per-user store ($STACKSHIP_STATE/store).
            let store = try OCILayoutStore(root: p.path + "/state/store", create: false)
            let entry = try store.resolve("hello:latest")
            let digest = entry.descriptor.digest.description
            let uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hello"

            expectCleanFailure(try p.stackship(["aws", "deploy", "service", "--image", "hello:latest"]),
                               ["repository hello, which does not exist", "stackship aws deploy registry"])
            #expect(try p.stackship(["aws", "deploy", "registry"]).status == 0)
            expectCleanFailure(try p.stackship(["aws", "deploy", "service", "--image", "hello:latest"]),
                               ["not in \(uri)", "stackship push hello:latest \(uri):latest"])
            try await withAWS(moto.endpoint) { client in
                let manifest = String(decoding: try store.read(entry.descriptor), as: UTF8.self)
                _ = try await ECRClient(client: client).putImage(repository: "hello", manifest: manifest, mediaType: entry.descriptor.mediaType,
                                                                 tag: "latest", digest: digest)
            }
            let deploy = try p.stackship(["aws", "deploy", "service", "--image", "hello:latest"])
            #expect(deploy.status == 0 && deploy.out.contains("service: CREATE_COMPLETE"), "\(deploy.out)\n\(deploy.err)")
            #expect(deploy.err.contains("image hello:latest is \(uri)@\(digest)"), "\(deploy.err)")

            // By tag in ECR: the same digest, so the stack does not change.
            let again = try p.stackship(["aws", "deploy", "service", "--image", "\(uri):latest"])
            #expect(again.status == 0 && again.out.contains("service: no changes"), "\(again.out)\n\(again.err)")
            let render = try p.stackship(["aws", "render", "service", "--image", "\(uri):latest", "-o", "out"])
            #expect(render.status == 0, "\(render.err)")
            let template = try String(contentsOfFile: p.path + "/out/service.json", encoding: .utf8)
            #expect(template.contains("\"\(uri)@\(digest)\""), "\(template)")
            expectCleanFailure(try p.stackship(["aws", "deploy", "service", "--image", "\(uri):nope"]),
                               ["has no image tagged 'nope'", "stackship push"])
            expectCleanFailure(try p.stackship(["aws", "deploy", "service", "--image", "nothere:1"]), ["no image 'nothere:1'"])

            // By tag in any other registry: a real one on loopback, after a real push.
            try await LocalRegistry.with { registry in
                let push = try p.stackship(["push", "hello:latest", "\(registry.host)/team/hello:v1"])
                #expect(push.status == 0, "\(push.err)")
                let other = try p.stackship(["aws", "render", "service", "--image", "\(registry.host)/team/hello:v1", "-o", "other"])
                #expect(other.status == 0, "\(other.err)")
                let text = try String(contentsOfFile: p.path + "/other/service.json", encoding: .utf8)
                #expect(text.contains("\"\(registry.host)/team/hello@\(digest)\""), "\(text)")
            }
        }
    }

    /// `ci generate` never invents a setting: a missing one is named at the `ci:` key with an
    /// example; the stack's deployed registry stack gives the registry, push role and region;
    /// `--allow-placeholders` marks every stand-in at the top of each file.
    @Test func ciGenerateTakesSettingsFromTheRegistryStackOrNamesWhatIsMissing() async throws {
        try await MotoServer.with { moto in
            let p = try AWSProject(endpoint: moto.endpoint)
            let stack = "images:\n  hello: {}\nci:\n  name: hello\n  install: preinstalled\n" + AWSStackFiles.registryOnly + "\n"
            try p.write("stack.yaml", stack)
            let missing = try p.stackship(["ci", "generate", "github", "-o", "out"])
            expectCleanFailure(missing, ["stack.yaml:3:1: `ci.registry` is not set", "e.g. `registry:", "hello-registry is not deployed", "--allow-placeholders"])
            #expect(!FileManager.default.fileExists(atPath: p.path + "/out"), "nothing is written")

            #expect(try p.stackship(["aws", "deploy", "registry"]).status == 0)
            let filled = try p.stackship(["ci", "generate", "github", "-o", "out"])
            #expect(filled.status == 0, "\(filled.out)\n\(filled.err)")
            let registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com", role = "arn:aws:iam::123456789012:role/hello-registry-github-push"
            #expect(filled.out.contains("note: ci.registry = \(registry) (from stack hello-registry)"), "\(filled.out)")
            #expect(filled.out.contains("note: ci.aws_role_arn = \(role)"), "\(filled.out)")
            let publish = try String(contentsOfFile: p.path + "/out/.github/workflows/stackship-publish.yml", encoding: .utf8)
            #expect(publish.contains("role-to-assume: \(role)") && publish.contains("stackship push hello:latest \(registry)/hello:latest")
                    && publish.contains("aws-region: us-east-1") && !publish.contains("PLACEHOLDER"), "\(publish)")

            // Without an aws: section: named, or marked placeholders on request.
            try p.write("stack.yaml", "images:\n  hello: {}\n")
            expectCleanFailure(try p.stackship(["ci", "generate", "gitlab", "-o", "gl"]), ["stack.yaml: `ci.install` is not set", "stock runner", "no `ci:` section yet"])
            let examples = try p.stackship(["ci", "generate", "gitlab", "-o", "gl", "--allow-placeholders"])
            #expect(examples.status == 0 && examples.err.contains("warning: placeholders stand in for ci.install, ci.registry"), "\(examples.err)")
            for file in ["gl/.gitlab-ci.yml", "gl/.stackship-ci/gitlab-child.yml"] {
                let text = try String(contentsOfFile: p.path + "/" + file, encoding: .utf8)
                #expect(text.hasPrefix("# Generated by stackship") && text.contains("# PLACEHOLDERS") && text.contains("#   ci.registry = ")
                    && text.contains("#   ci.install = {url: https://PLACEHOLDER.invalid/"), "\(file): \(text)")
                #expect(!text.contains("ci.cache"), "only what the plan needs is a placeholder: \(text)")
            }
        }
    }

    @Test func renderWritesEveryTemplateOrNothing() throws {
        let p = try AWSProject(endpoint: nil)
        try p.write("stack.yaml", AWSStackFiles.everyKind)
        let r = try p.stackship(["aws", "render", "--all", "--output", "cfn"])
        #expect(r.status == 0, "\(r.err)")
        for kind in StackKind.allCases {
            let data = try #require(FileManager.default.contents(atPath: p.path + "/cfn/\(kind.fileName)"))
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            #expect(object?["Resources"] != nil, "\(kind)")
        }
        // A bad kind among good ones writes nothing.
        let bad = try p.stackship(["aws", "render", "registry", "ci-biuld", "--output", "other"])
        expectCleanFailure(bad, ["'ci-biuld' is not a stack kind", "did you mean 'ci-build'?"])
        #expect(!FileManager.default.fileExists(atPath: p.path + "/other"))
        // A file that cannot be written: a clear error, and no temporary file left beside it.
        try FileManager.default.createDirectory(atPath: p.path + "/blocked/registry.json", withIntermediateDirectories: true)
        let blocked = try p.stackship(["aws", "render", "registry", "--output", "blocked"])
        expectCleanFailure(blocked, ["could not write", "registry.json", "writable"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: p.path + "/blocked") == ["registry.json"])
        // Neither a kind nor --all: a usage error.
        #expect(try p.stackship(["aws", "render", "--output", "x"]).status != 0)
    }

    @Test func validateUsesTheAPI() async throws {
        try await MotoServer.with { moto in
            let p = try AWSProject(endpoint: nil)
            try p.write("stack.yaml", AWSStackFiles.everyKind)
            let r = try p.stackship(["aws", "validate", "registry", "service", "--endpoint-url", moto.endpoint])
            #expect(r.status == 0, "\(r.out)\n\(r.err)")
            #expect(r.out.contains("registry: valid") && r.out.contains("service: valid"), "\(r.out)")
        }
    }

    // MARK: - Errors: one paragraph naming the fix, no stack trace

    @Test func unknownKindSuggestsTheClosest() throws {
        let p = try AWSProject(endpoint: "http://127.0.0.1:9")
        try p.write("stack.yaml", AWSStackFiles.everyKind)
        expectCleanFailure(try p.stackship(["aws", "deploy", "registy"]), ["'registy' is not a stack kind", "did you mean 'registry'?", "event-job"])
        expectCleanFailure(try p.stackship(["aws", "status", "event_job"]), ["did you mean 'event-job'?"])
    }

    @Test func kindWithoutItsSettingsSection() throws {
        let p = try AWSProject(endpoint: "http://127.0.0.1:9")
        try p.write("stack.yaml", AWSStackFiles.registryOnly)
        expectCleanFailure(try p.stackship(["aws", "deploy", "service"]), ["the service stack needs its settings", "aws.service is missing", "add an 'service' section"])
        try p.write("stack.yaml", "images: {}\n")
        expectCleanFailure(try p.stackship(["aws", "render", "--all", "-o", "x"]), ["stack.yaml:1:1: missing key 'aws' at the top level", "add an `aws:` section"])
        try p.write("stack.yaml", AWSStackFiles.registryOnly)
        expectCleanFailure(try p.stackship(["aws", "status", "--stack", "nowhere.yaml"]), ["no stack file", "nowhere.yaml", "--stack FILE"])
    }

    @Test func missingCredentials() throws {
        let p = try AWSProject(endpoint: "http://127.0.0.1:9", credentials: false)
        try p.write("stack.yaml", AWSStackFiles.registryOnly)
        expectCleanFailure(try p.stackship(["aws", "status"]), ["No AWS credentials found", "AWS_ACCESS_KEY_ID", "aws configure", "--profile"])
        expectCleanFailure(try p.stackship(["aws", "status", "--profile", "ghost"]), ["'ghost' was not found", "--profile"])
        expectCleanFailure(try p.stackship(["aws", "status"], env: ["AWS_PROFILE": "ghost"]), ["'ghost' was not found", "AWS_PROFILE"])
    }

    @Test func unreachableEndpoint() throws {
        let port = try Loopback.freePort()
        let p = try AWSProject(endpoint: nil)
        try p.write("stack.yaml", AWSStackFiles.registryOnly)
        let r = try p.stackship(["aws", "deploy", "registry", "--endpoint-url", "http://127.0.0.1:\(port)"])
        expectCleanFailure(r, ["could not reach http://127.0.0.1:\(port)", "Check the network, the endpoint URL (--endpoint-url, AWS_ENDPOINT_URL)"])
        let noRegion = try p.stackship(["aws", "status"], env: ["AWS_REGION": ""])
        expectCleanFailure(noRegion, ["region"])
    }

    @Test func cloudFormationFailureShowsTheFailingEventsReasons() async throws {
        let stackID = "arn:aws:cloudformation:us-east-1:123456789012:stack/hello-registry/0a1b"
        func xml(_ action: String, _ result: String) -> ScriptedServer.Response {
            .init(status: 200, headers: ["Content-Type": "text/xml"],
                  body: "<\(action)Response xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><\(action)Result>\(result)</\(action)Result></\(action)Response>")
        }
        let event = { (id: String, logical: String, type: String, status: String, reason: String) in
            "<member><EventId>\(id)</EventId><StackName>hello-registry</StackName><LogicalResourceId>\(logical)</LogicalResourceId><ResourceType>\(type)</ResourceType><ResourceStatus>\(status)</ResourceStatus><ResourceStatusReason>\(reason)</ResourceStatusReason><Timestamp>2026-01-01T00:00:0\(id)Z</Timestamp></member>"
        }
        let responses: [ScriptedServer.Response] = [
            .init(status: 400, headers: ["Content-Type": "text/xml"],
                  body: "<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id hello-registry does not exist</Message></Error></ErrorResponse>"),
            // The repository is free (asked before a new registry stack is created).
            .init(status: 400, headers: ["Content-Type": "application/x-amz-json-1.1"],
                  body: #"{"__type":"RepositoryNotFoundException","message":"The repository with name 'hello' does not exist"}"#),
            xml("CreateChangeSet", "<Id>arn:cs</Id><StackId>\(stackID)</StackId>"),
            xml("DescribeChangeSet", "<ChangeSetId>arn:cs</ChangeSetId><StackId>\(stackID)</StackId><Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus><Changes><member><ResourceChange><Action>Add</Action><LogicalResourceId>Repository</LogicalResourceId><ResourceType>AWS::ECR::Repository</ResourceType></ResourceChange></member></Changes>"),
            xml("ExecuteChangeSet", ""),
            xml("DescribeStackEvents", "<StackEvents>"
                + event("3", "hello-registry", "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE", "")
                + event("2", "Repository", "AWS::ECR::Repository", "CREATE_FAILED", "Resource handler returned message: &quot;Repository hello already exists&quot;")
                + event("1", "hello-registry", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated")
                + "</StackEvents>"),
            xml("DescribeStacks", "<Stacks><member><StackId>\(stackID)</StackId><StackName>hello-registry</StackName><StackStatus>ROLLBACK_COMPLETE</StackStatus></member></Stacks>"),
        ]
        try await ScriptedServer.with(responses) { server in
            let p = try AWSProject(endpoint: server.endpoint)
            try p.write("stack.yaml", AWSStackFiles.registryOnly)
            let r = try p.stackship(["aws", "deploy", "registry"])
            expectCleanFailure(r, ["hello-registry", "ROLLBACK_COMPLETE", "Repository (AWS::ECR::Repository) CREATE_FAILED", "Repository hello already exists"])
            #expect(r.out.contains("CREATE_FAILED Repository (AWS::ECR::Repository): Resource handler returned message"), "\(r.out)")
            let actions = server.requests().count
            #expect(actions >= 6)
        }
    }

    /// An update: only the operation's own events are shown (not the stack's history), then
    /// the outputs (moto returns none, so this path is scripted).
    @Test func deployUpdateStreamsOnlyNewEventsAndPrintsOutputs() async throws {
        func xml(_ action: String, _ result: String) -> ScriptedServer.Response {
            .init(status: 200, headers: ["Content-Type": "text/xml"],
                  body: "<\(action)Response xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><\(action)Result>\(result)</\(action)Result></\(action)Response>")
        }
        func event(_ id: String, _ logical: String, _ type: String, _ status: String) -> String {
            "<member><EventId>\(id)</EventId><StackName>hello-registry</StackName><LogicalResourceId>\(logical)</LogicalResourceId><ResourceType>\(type)</ResourceType><ResourceStatus>\(status)</ResourceStatus><Timestamp>2026-01-01T00:00:00Z</Timestamp></member>"
        }
        let stackID = "arn:aws:cloudformation:us-east-1:123456789012:stack/hello-registry/0a1b"
        let outputs = "<Outputs><member><OutputKey>RepositoryUri</OutputKey><OutputValue>123456789012.dkr.ecr.us-east-1.amazonaws.com/hello</OutputValue></member></Outputs>"
        let responses: [ScriptedServer.Response] = [
            xml("DescribeStacks", "<Stacks><member><StackId>\(stackID)</StackId><StackName>hello-registry</StackName><StackStatus>CREATE_COMPLETE</StackStatus>\(outputs)</member></Stacks>"),
            xml("DescribeStackEvents", "<StackEvents>" + event("old-1", "hello-registry", "AWS::CloudFormation::Stack", "CREATE_COMPLETE") + "</StackEvents>"),
            xml("CreateChangeSet", "<Id>arn:cs</Id><StackId>\(stackID)</StackId>"),
            xml("DescribeChangeSet", "<ChangeSetId>arn:cs</ChangeSetId><StackId>\(stackID)</StackId><Status>CREATE_COMPLETE</Status><Changes><member><ResourceChange><Action>Modify</Action><LogicalResourceId>Repository</LogicalResourceId><ResourceType>AWS::ECR::Repository</ResourceType><Replacement>False</Replacement></ResourceChange></member></Changes>"),
            xml("ExecuteChangeSet", ""),
            xml("DescribeStackEvents", "<StackEvents>"
                + event("new-3", "hello-registry", "AWS::CloudFormation::Stack", "UPDATE_COMPLETE")
                + event("new-2", "Repository", "AWS::ECR::Repository", "UPDATE_COMPLETE")
                + event("new-1", "hello-registry", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS")
                + event("old-1", "hello-registry", "AWS::CloudFormation::Stack", "CREATE_COMPLETE") + "</StackEvents>"),
            xml("DescribeStacks", "<Stacks><member><StackId>\(stackID)</StackId><StackName>hello-registry</StackName><StackStatus>UPDATE_COMPLETE</StackStatus>\(outputs)</member></Stacks>"),
        ]
        try await ScriptedServer.with(responses) { server in
            let p = try AWSProject(endpoint: server.endpoint)
            try p.write("stack.yaml", AWSStackFiles.registryOnly)
            let r = try p.stackship(["aws", "deploy", "registry"])
            #expect(r.status == 0, "\(r.out)\n\(r.err)")
            #expect(r.out.contains("registry: updating stack hello-registry"), "\(r.out)")
            #expect(r.out.contains("change: Modify Repository (AWS::ECR::Repository)"), "\(r.out)")
            #expect(r.out.contains("UPDATE_IN_PROGRESS hello-registry") && r.out.contains("UPDATE_COMPLETE Repository"), "\(r.out)")
            #expect(!r.out.contains("CREATE_COMPLETE"), "old events are not shown: \(r.out)")
            #expect(r.out.contains("RepositoryUri = 123456789012.dkr.ecr.us-east-1.amazonaws.com/hello"), "\(r.out)")
            #expect(server.requests().count == responses.count)
        }
    }

    @Test func statusFailsForAFailedStackAndShowsWhy() async throws {
        func xml(_ action: String, _ result: String) -> ScriptedServer.Response {
            .init(status: 200, headers: ["Content-Type": "text/xml"],
                  body: "<\(action)Response xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><\(action)Result>\(result)</\(action)Result></\(action)Response>")
        }
        let stackID = "arn:aws:cloudformation:us-east-1:123456789012:stack/hello-registry/0a1b"
        let responses: [ScriptedServer.Response] = [
            xml("DescribeStacks", "<Stacks><member><StackId>\(stackID)</StackId><StackName>hello-registry</StackName><StackStatus>ROLLBACK_COMPLETE</StackStatus></member></Stacks>"),
            xml("DescribeStackResources", "<StackResources></StackResources>"),
            xml("DescribeStackEvents", "<StackEvents><member><EventId>1</EventId><StackName>hello-registry</StackName><LogicalResourceId>PushRole</LogicalResourceId><ResourceType>AWS::IAM::Role</ResourceType><ResourceStatus>CREATE_FAILED</ResourceStatus><ResourceStatusReason>Role hello-registry-github-push already exists</ResourceStatusReason><Timestamp>2026-01-01T00:00:00Z</Timestamp></member></StackEvents>"),
        ]
        try await ScriptedServer.with(responses) { server in
            let p = try AWSProject(endpoint: server.endpoint)
            try p.write("stack.yaml", AWSStackFiles.registryOnly)
            let r = try p.stackship(["aws", "status"])
            #expect(r.out.contains("registry: stack hello-registry ROLLBACK_COMPLETE"), "\(r.out)")
            #expect(r.out.contains("CREATE_FAILED PushRole (AWS::IAM::Role): Role hello-registry-github-push already exists"), "\(r.out)")
            expectCleanFailure(r, ["hello-registry is ROLLBACK_COMPLETE", "must be destroyed first"])
        }
    }

    // MARK: - start-build (scripted: moto answers StartBuildBatch with HTTP 500)

    @Test func startBuildFollowsTheBatchUntilItEnds() async throws {
        func batch(_ status: String, _ phase: String, _ build: String) -> String {
            #"{"id":"hello-ci-build:1234","buildBatchStatus":"\#(status)","currentPhase":"\#(phase)","buildGroups":[{"identifier":"build_hello","currentBuildSummary":{"buildStatus":"\#(build)"}}]}"#
        }
        let json = ["Content-Type": "application/x-amz-json-1.1"]
        let ok: [ScriptedServer.Response] = [
            .init(status: 200, headers: json, body: #"{"buildBatch":\#(batch("IN_PROGRESS", "SUBMITTED", "IN_PROGRESS"))}"#),
            .init(status: 200, headers: json, body: #"{"buildBatches":[\#(batch("IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS"))]}"#),
            .init(status: 200, headers: json, body: #"{"buildBatches":[\#(batch("SUCCEEDED", "SUCCEEDED", "SUCCEEDED"))]}"#),
        ]
        try await ScriptedServer.with(ok) { server in
            let p = try AWSProject(endpoint: server.endpoint)
            let r = try p.stackship(["aws", "start-build", "--project", "hello-ci-build", "--source-version", "main", "--buildspec", "buildspec-batch-2.yml"])
            #expect(r.status == 0, "\(r.out)\n\(r.err)")
            #expect(r.out.contains("started build batch hello-ci-build:1234"))
            #expect(r.out.contains("IN_PROGRESS IN_PROGRESS [build_hello=IN_PROGRESS]"), "\(r.out)")
            #expect(r.out.contains("build batch hello-ci-build:1234 SUCCEEDED"), "\(r.out)")
            let targets = server.requests().compactMap { ($0["headers"] as? [String: Any])?["X-Amz-Target"] as? String }
            #expect(targets == ["CodeBuild_20161006.StartBuildBatch", "CodeBuild_20161006.BatchGetBuildBatches", "CodeBuild_20161006.BatchGetBuildBatches"])
            let start = String(decoding: try #require(server.received().first).body, as: UTF8.self)
            #expect(start.contains(#""buildspecOverride":"buildspec-batch-2.yml""#) && start.contains(#""sourceVersion":"main""#), "\(start)")
        }
        let failing: [ScriptedServer.Response] = [
            .init(status: 200, headers: json, body: #"{"buildBatch":\#(batch("IN_PROGRESS", "SUBMITTED", "IN_PROGRESS"))}"#),
            .init(status: 200, headers: json, body: #"{"buildBatches":[\#(batch("FAILED", "FAILED", "FAILED"))]}"#),
        ]
        try await ScriptedServer.with(failing) { server in
            let p = try AWSProject(endpoint: server.endpoint)
            let r = try p.stackship(["aws", "start-build", "--project", "hello-ci-build"])
            expectCleanFailure(r, ["build batch hello-ci-build:1234 ended FAILED", "batch-get-build-batches"])
        }
    }

    // MARK: - login ecr

    @Test func loginECRStoresTheTokenWhereLoginDoes() async throws {
        try await MotoServer.with { moto in
            let p = try AWSProject(endpoint: moto.endpoint)
            let token = try await withAWS(moto.endpoint) { try await ECRClient(client: $0).getAuthorizationToken() }
            let r = try p.stackship(["login", "ecr"])
            #expect(r.status == 0, "\(r.out)\n\(r.err)")
            #expect(r.out.contains("Login Succeeded for \(token.registryHost)"), "\(r.out)")
            #expect(!r.out.contains(token.password) && !r.err.contains(token.password))
            let config = try #require(FileManager.default.contents(atPath: p.path + "/home/.docker/config.json"))
            let object = try JSONSerialization.jsonObject(with: config) as? [String: Any]
            let auths = try #require(object?["auths"] as? [String: Any])
            let entry = try #require(auths[token.registryHost] as? [String: Any], "\(auths.keys)")
            let auth = try #require(entry["auth"] as? String)
            #expect(Data(base64Encoded: auth).map { String(decoding: $0, as: UTF8.self) } == "AWS:\(token.password)")

            let custom = try p.stackship(["login", "ecr", "--registry", "https://registry.example.com/"])
            #expect(custom.status == 0, "\(custom.err)")
            let again = try JSONSerialization.jsonObject(with: try #require(FileManager.default.contents(atPath: p.path + "/home/.docker/config.json"))) as? [String: Any]
            #expect((again?["auths"] as? [String: Any])?["registry.example.com"] != nil)
            // `stackship logout` finds it where `login` put it.
            #expect(try p.stackship(["logout", "registry.example.com"]).out.contains("Removed login credentials"))
        }
    }

    // MARK: - health

    @Test func healthPassesWhenEverythingIsThere() async throws {
        let registryAnswer = ScriptedServer.Response(status: 200, headers: ["Docker-Distribution-API-Version": "registry/2.0", "Content-Type": "application/json"], body: "{}")
        try await MotoServer.with { moto in
            try await ScriptedServer.with([registryAnswer]) { registry in
                let p = try AWSProject(endpoint: moto.endpoint)
                // The registry is named by an image tag in the stack file; the aws.registry
                // repository exists (health checks that too).
                try p.write("stack.yaml", "images:\n  hello:\n    tags: [\"127.0.0.1:\(registry.port)/hello:1\"]\n" + AWSStackFiles.registryOnly)
                _ = try await withAWS(moto.endpoint) { try await ECRClient(client: $0).createRepository(name: "hello") }
                let r = try p.stackship(["health"],
                                        env: ["HTTPS_PROXY": "http://proxyuser:proxy-pass-123@proxy.example.com:3128", "NO_PROXY": "127.0.0.1,localhost"])
                #expect(r.status == 0, "\(r.out)\n\(r.err)")
                for check in ["ok   credentials: environment", "ok   region: us-east-1", "ok   identity: arn:aws:", "ok   proxy: HTTPS_PROXY=http://proxyuser:****@proxy.example.com:3128",
                              "ok   registry 127.0.0.1:\(registry.port): reachable", "ok   registry aws.registry (hello): repository exists", "ok   runtime: ", "ok   disk: "] {
                    #expect(r.out.contains(check), "missing '\(check)' in:\n\(r.out)")
                }
                #expect(!r.out.contains("proxy-pass-123") && !r.err.contains("proxy-pass-123"))
            }
        }
    }

    @Test func healthFailsWithHints() throws {
        let port = try Loopback.freePort()
        let p = try AWSProject(endpoint: "http://127.0.0.1:\(port)", credentials: false)
        try p.write("stack.yaml", "imagez: {}\n")
        let r = try p.stackship(["health", "--registry", "127.0.0.1:\(port)"], env: ["PATH": p.path + "/empty-bin"])
        #expect(r.out.contains("FAIL stack file:") && r.out.contains("did you mean 'images'"), "\(r.out)")
        #expect(r.status == 1, "\(r.out)\n\(r.err)")
        #expect(r.out.contains("FAIL credentials: none found"), "\(r.out)")
        #expect(r.out.contains("fix: No AWS credentials found"), "\(r.out)")
        #expect(r.out.contains("FAIL identity: not checked"), "\(r.out)")
        #expect(r.out.contains("FAIL registry 127.0.0.1:\(port): unreachable"), "\(r.out)")
        #expect(r.out.contains("FAIL runtime: runc or crun not found on PATH"), "\(r.out)")
        #expect(r.out.contains("fix: install runc or crun"), "\(r.out)")
        #expect(r.out.contains("ok   disk: "), "\(r.out)")
        expectCleanFailure(r, ["check(s) failed"])
    }

    // MARK: - Secrets never leak

    @Test func secretsNeverAppearInOutputLogsOrFiles() async throws {
        try await MotoServer.with { moto in
            let secretValue = "ghp_SecretsManagerValue_do_not_print_42"
            let ecrToken = try await withAWS(moto.endpoint) { client in
                _ = try await SecretsManagerClient(client: client).createSecret(name: "ci/github", secretString: secretValue)
                return try await ECRClient(client: client).getAuthorizationToken().password
            }
            let p = try AWSProject(endpoint: moto.endpoint)
            try p.write("stack.yaml", AWSStackFiles.everyKind)
            var results: [Result] = []
            results.append(try p.stackship(["aws", "render", "--all", "--output", "cfn"]))
            results.append(try p.stackship(["aws", "deploy", "source-credentials", "registry"]))
            results.append(try p.stackship(["aws", "status", "source-credentials", "registry"]))
            results.append(try p.stackship(["login", "ecr", "--registry", "ecr.example.com"]))
            results.append(try p.stackship(["health"]))
            results.append(try p.stackship(["aws", "status", "--endpoint-url", "http://127.0.0.1:\(try Loopback.freePort())"]))
            #expect(results[0].status == 0 && results[1].status == 0 && results[2].status == 0 && results[3].status == 0, "\(results.map(\.err))")
            let secrets = [AWSProject.secretAccessKey, AWSProject.sessionToken, ecrToken, secretValue]
            for (n, r) in results.enumerated() {
                for s in secrets { #expect(!r.out.contains(s) && !r.err.contains(s), "run \(n) printed a secret") }
            }
            // Generated files: templates, the stack file, and everything under HOME except the
            // docker config, whose job is to hold the login (base64 'AWS:token', as docker writes it).
            for file in p.allFiles() where !file.path.hasSuffix("/.docker/config.json") {
                for s in secrets { #expect(!file.text.contains(s), "\(file.path) holds a secret") }
            }
            let config = try #require(FileManager.default.contents(atPath: p.path + "/home/.docker/config.json"))
            #expect(!String(decoding: config, as: UTF8.self).contains(ecrToken), "the token is stored encoded, as docker does")
            // moto's own log (what was sent over the wire is signed, never the secret key).
            let motoLog = (try? String(contentsOfFile: moto.logPath, encoding: .utf8)) ?? ""
            #expect(!motoLog.contains(AWSProject.secretAccessKey))
        }
    }
}
