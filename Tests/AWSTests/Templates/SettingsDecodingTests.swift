import Foundation
import Testing

@testable import AWS

/// The `aws:` section: defaults, and every user mistake named by its key with the fix.
@Suite("AWS settings decoding")
struct SettingsDecodingTests {
    static let digest = TemplateFixtures.digest

    /// The error decoding `body` (indented under `aws:`) throws.
    func error(_ body: String) -> TemplateError? {
        let yaml = "aws:\n" + body.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
        return #expect(throws: TemplateError.self) { try AWSSettings.decode(stackFileYAML: yaml) }
    }

    @Test("The realistic example decodes with its values and the documented defaults")
    func realistic() throws {
        let s = try TemplateFixtures.settings(TemplateFixtures.realistic)
        #expect(s.project == "hello")
        #expect(s.tags == ["team": "web", "cost-center": "1234"])
        #expect(s.sourceCredentials?.map(\.serverType) == ["GITHUB", "BITBUCKET"])
        #expect(s.sourceCredentials?[0].secretKey == "token")
        #expect(s.sourceCredentials?[0].authType == "PERSONAL_ACCESS_TOKEN")
        #expect(s.sourceCredentials?[1].authType == "BASIC_AUTH")
        let ci = try #require(s.ciBuild)
        #expect(ci.branches == ["main", "release/1.x"])
        #expect(ci.webhookEvents == ["PUSH", "PULL_REQUEST_CREATED", "PULL_REQUEST_UPDATED", "PULL_REQUEST_REOPENED"])
        #expect(ci.environment.image == "aws/codebuild/standard:7.0")
        #expect(ci.timeoutMinutes == 60 && ci.batch.maxBuilds == 10)
        #expect(ci.logRetentionDays == nil)
        #expect(ci.allSecrets == ["ci/dockerhub"])
        #expect(s.releaseBuild?.source.type == "GITHUB")
        #expect(s.releaseBuild?.allSecrets == ["ci/signing-key"])
        let registry = try #require(s.registry)
        #expect(registry.repositoryName(project: s.project) == "hello")
        #expect(registry.immutableTags && registry.scanOnPush && registry.keepImages == 30 && registry.untaggedExpiryDays == 7)
        #expect(registry.oidcProviderArn == nil)
        let service = try #require(s.service)
        #expect(service.cpu == 256 && service.memory == 512 && service.listenerPort == 80 && service.vpcId == nil)
        #expect(s.eventJob?.memory == 1024 && s.eventJob?.timeoutSeconds == 300)
    }

    @Test("Log retention defaults differ: CI 14 days, release 90")
    func retentionDefaults() throws {
        let s = try TemplateFixtures.settings(TemplateFixtures.realistic)
        let ci = try TemplateFixtures.parsed(s.template(for: .ciBuild))
        let release = try TemplateFixtures.parsed(s.template(for: .releaseBuild))
        func retention(_ t: [String: Any]) -> Int? {
            (((t["Resources"] as? [String: Any])?["LogGroup"] as? [String: Any])?["Properties"] as? [String: Any])?["RetentionInDays"] as? Int
        }
        #expect(retention(ci) == 14)
        #expect(retention(release) == 90)
        let releaseProject = try #require(((release["Resources"] as? [String: Any])?["Project"] as? [String: Any])?["Properties"] as? [String: Any])
        #expect(releaseProject["Triggers"] == nil, "release builds have no webhook")
    }

    @Test("An unknown stack kind names the key and lists the kinds")
    func unknownStackKind() {
        let e = error("project: hello\nstacks: [registry, lambda]\nregistry: {github_repository: a/b}")
        #expect(e == .unknownStackKind(path: "aws.stacks[1]", value: "lambda"))
        #expect(e?.description.contains("use one of source-credentials, ci-build") == true)
    }

    @Test("A listed stack kind without its section says which section to add")
    func missingSection() {
        let e = error("project: hello\nstacks: [service]")
        #expect(e == .missingSection(kind: .service, path: "aws.service"))
        #expect(e?.description.contains("add an 'service' section") == true)
    }

    @Test("Asking for a kind the settings have no section for names the section")
    func templateWithoutSection() throws {
        let s = try AWSSettings.decode(stackFileYAML: "aws:\n  project: hello\n  registry: {github_repository: a/b}")
        let e = #expect(throws: TemplateError.self) { try s.template(for: .eventJob) }
        #expect(e == .missingSection(kind: .eventJob, path: "aws.event_job"))
        let folder = try TemplateFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: TemplateError.self) { try s.render(to: folder, kinds: [.registry, .service]) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty, "nothing is written when one kind fails")
    }

    @Test("The registry needs the GitHub repository")
    func missingGitHubRepository() {
        let e = error("project: hello\nregistry: {immutable_tags: true}")
        guard case .missingKey(let path, let hint) = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(path == "aws.registry.github_repository")
        #expect(hint.contains("OWNER/REPO"))
        #expect(e?.description.hasPrefix("aws.registry.github_repository is required but missing") == true)
    }

    @Test("An invalid GitHub repository is refused with its format", arguments: ["hello", "https://github.com/acme/hello", "acme/*", "acme/hello/extra", "-acme/x", "acme/.."])
    func invalidGitHubRepository(value: String) {
        let e = error("project: hello\nregistry: {github_repository: \"\(value)\"}")
        guard case .invalidValue(let path, let got, let reason) = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(path == "aws.registry.github_repository")
        #expect(got == value)
        #expect(reason.contains("OWNER/REPO"))
    }

    @Test("The project is required and must fit resource names")
    func project() {
        #expect(error("registry: {github_repository: a/b}") == .missingKey(path: "aws.project", hint: "name the project, e.g. 'project: hello' (lowercase letters, digits and hyphens); every AWS resource name is derived from it"))
        for bad in ["Hello", "h", "hello-", "1hello", String(repeating: "a", count: 33), "hello_world"] {
            guard case .invalidValue(let path, _, _) = error("project: \"\(bad)\"") else { Issue.record("\(bad) accepted"); continue }
            #expect(path == "aws.project")
        }
    }

    @Test("A default project can come from the stack file parser")
    func defaultProject() throws {
        let s = try AWSSettings.decode(stackFileYAML: "aws:\n  registry: {github_repository: a/b}", defaultProject: "from-stack")
        #expect(s.project == "from-stack")
        #expect(s.stacks == [.registry])
    }

    @Test("A typo in a key is refused with a suggestion")
    func unknownKey() {
        let e = error("project: hello\nregistry: {github_repo: a/b}")
        #expect(e == .unknownKey(path: "aws.registry.github_repo", known: ["repository", "github_repository", "immutable_tags", "scan_on_push", "keep_images", "untagged_expiry_days", "oidc_provider_arn", "oidc_thumbprints"]))
        #expect(e?.description.contains("did you mean 'github_repository'?") == true)
        #expect(error("project: hello\nci_buld: {}")?.description.contains("did you mean 'ci_build'?") == true)
    }

    @Test("Wrong types name the key")
    func wrongType() {
        let e = error("project: hello\nregistry: {github_repository: a/b, keep_images: lots}")
        guard case .invalidValue(let path, _, let reason) = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(path == "aws.registry.keep_images")
        #expect(reason.contains("whole number"))
    }

    @Test("Values out of range or format are refused with the fix", arguments: [
        ("service: {image: \"r/x:latest\"}", "aws.service.image", "digest"),
        ("service: {image: \"r/x@\(digest)\", cpu: 300}", "aws.service.cpu", "Fargate"),
        ("service: {image: \"r/x@\(digest)\", cpu: 256, memory: 4096}", "aws.service.memory", "512 to 2048"),
        ("service: {image: \"r/x@\(digest)\", subnet_ids: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]}", "aws.service.vpc_id", "subnet_ids needs"),
        ("service: {image: \"r/x@\(digest)\", vpc_id: vpc-0123456789abcdef0}", "aws.service.subnet_ids", "two subnets"),
        ("service: {image: \"r/x@\(digest)\", vpc_id: vpc-0123456789abcdef0, subnet_ids: [subnet-0123456789abcdef0]}", "aws.service.subnet_ids", "two subnets"),
        ("service: {image: \"r/x@\(digest)\", assign_public_ip: false}", "aws.service.assign_public_ip", "NAT"),
        ("event_job: {image: \"docker.io/x@\(digest)\"}", "aws.event_job.image", "ECR"),
        ("ci_build: {source: {location: \"https://example.com/a/b\"}}", "aws.ci_build.source.location", "github.com/OWNER/REPO"),
        ("ci_build: {source: {type: CODECOMMIT, location: x}}", "aws.ci_build.source.type", "GITHUB"),
        ("ci_build: {source: {location: \"https://github.com/a/b\"}, log_retention_days: 10}", "aws.ci_build.log_retention_days", "14"),
        ("ci_build: {source: {location: \"https://github.com/a/b\"}, branches: [\"a..b\"]}", "aws.ci_build.branches", "branch"),
        ("ci_build: {source: {}}", "aws.ci_build.source.location", "clone URL"),
        ("source_credentials: [{server_type: GITHUB, secret: a}, {server_type: GITHUB, secret: b}]", "aws.source_credentials[1].server_type", "once"),
        ("source_credentials: [{server_type: BITBUCKET, secret: a}]", "aws.source_credentials[0].username", "user name"),
        ("registry: {github_repository: a/b, oidc_provider_arn: \"arn:aws:iam::1:oidc-provider/x\"}", "aws.registry.oidc_provider_arn", "list-open-id-connect-providers"),
        ("registry: {github_repository: a/b, repository: Hello}", "aws.registry.repository", "lowercase"),
        ("tags: {\"aws:x\": y}", "aws.tags.aws:x", "aws:"),
    ])
    func badValues(body: String, path: String, fix: String) {
        let e = error("project: hello\n" + body)
        let text = e?.description ?? "no error"
        #expect(text.hasPrefix(path), "\(text)")
        #expect(text.contains(fix), "\(text)")
    }

    @Test("No aws section, or YAML that does not parse, is a clear error")
    func noSection() {
        let none = #expect(throws: TemplateError.self) { try AWSSettings.decode(stackFileYAML: "name: hello\n") }
        #expect(none?.description.contains("add an 'aws:' section") == true)
        let broken = #expect(throws: TemplateError.self) { try AWSSettings.decode(stackFileYAML: "aws: [\n") }
        #expect(broken?.description.contains("not valid YAML") == true)
    }
}
