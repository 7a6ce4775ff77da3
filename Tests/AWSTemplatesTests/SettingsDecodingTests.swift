import Foundation
import Testing

@testable import AWSTemplates
@testable import Stack

/// The `aws:` section as the stack file reader reads it: defaults, and every user mistake
/// named by its settings path, at its line and column, with the fix.
@Suite("AWS settings reading")
struct SettingsDecodingTests {
    static let digest = TemplateFixtures.digest

    /// The error reading `body` (indented under `aws:`, so body line N is file line N + 1 and
    /// columns shift by 2).
    func error(_ body: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> StackFileError? {
        let yaml = "aws:\n" + body.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
        return #expect(throws: StackFileError.self, sourceLocation: sourceLocation) { try TemplateFixtures.settings(yaml) }
    }

    /// Checks an error's place (file line and column) and text.
    func check(_ error: StackFileError?, _ line: Int, _ column: Int, _ message: String, hint: String? = nil,
               sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(error?.location == Stack.SourceLocation(file: "stack.yaml", line: line, column: column), "\(String(describing: error))",
                sourceLocation: sourceLocation)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
        if let hint { #expect(error?.hint?.contains(hint) == true, "\(String(describing: error))", sourceLocation: sourceLocation) }
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

    @Test("An unknown stack kind names the item and lists the kinds")
    func unknownStackKind() {
        let e = error("project: hello\nstacks: [registry, lambda]\nregistry: {github_repository: a/b}")
        check(e, 3, 22, #"aws.stacks[1]: "lambda" is not a stack kind"#, hint: "use one of source-credentials, ci-build")
        check(error("project: hello\nstacks: [registy]\nregistry: {github_repository: a/b}"), 3, 12, "not a stack kind",
              hint: "did you mean 'registry'?")
    }

    @Test("A listed stack kind without its section says which section to add")
    func missingSection() {
        let e = error("project: hello\nstacks: [service]")
        check(e, 3, 12, "the service stack needs its settings, but aws.service is missing", hint: "add a 'service' section under 'aws:'")
    }

    @Test("Asking for a kind the settings have no section for names the section")
    func templateWithoutSection() throws {
        let s = try TemplateFixtures.settings("aws:\n  project: hello\n  registry: {github_repository: a/b}")
        let e = #expect(throws: TemplateError.self) { try s.template(for: .eventJob) }
        #expect(e == .missingSection(kind: .eventJob, path: "aws.event_job"))
        let folder = try TemplateFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: TemplateError.self) { try s.render(to: folder, kinds: [.registry, .service]) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty, "nothing is written when one kind fails")
    }

    @Test("The registry needs the GitHub repository")
    func missingGitHubRepository() {
        let e = error("project: hello\nregistry:\n  immutable_tags: true")
        check(e, 3, 3, "missing key 'github_repository' in aws.registry", hint: "OWNER/REPO")
        #expect(e?.description.hasPrefix("stack.yaml:3:3: missing key 'github_repository' in aws.registry; name the GitHub repository") == true)
    }

    @Test("An invalid GitHub repository is refused at the value with its format", arguments: ["hello", "https://github.com/acme/hello", "acme/*", "acme/hello/extra", "-acme/x", "acme/.."])
    func invalidGitHubRepository(value: String) {
        let e = error("project: hello\nregistry: {github_repository: \"\(value)\"}")
        check(e, 3, 33, "aws.registry.github_repository: \"\(value)\" is not valid", hint: "OWNER/REPO")
    }

    @Test("The project is required and must fit resource names")
    func project() {
        check(error("registry: {github_repository: a/b}"), 1, 1, "missing key 'project' in aws",
              hint: "name the project, e.g. 'project: hello' (lowercase letters, digits and hyphens); every AWS resource name is derived from it")
        for bad in ["Hello", "h", "hello-", "1hello", String(repeating: "a", count: 33), "hello_world"] {
            check(error("project: \"\(bad)\""), 2, 12, "aws.project: \"\(bad)\" is not valid", hint: "lowercase")
        }
    }

    @Test("Merge keys work in the aws section as everywhere in a stack file")
    func mergeKeys() throws {
        let s = try TemplateFixtures.settings("""
            x-registry: &registry {github_repository: a/b, keep_images: 5}
            aws:
              project: hello
              registry:
                <<: *registry
                keep_images: 9
            """)
        #expect(s.registry?.githubRepository == "a/b")
        #expect(s.registry?.keepImages == 9, "an explicit key wins over a merged one")
    }

    @Test("A typo in a key is refused at the key with a suggestion")
    func unknownKey() {
        let e = error("project: hello\nregistry: {github_repo: a/b}")
        check(e, 3, 14, "unknown key 'github_repo' in aws.registry", hint: "did you mean 'github_repository'?")
        check(error("project: hello\nci_buld: {}"), 3, 3, "unknown key 'ci_buld' in aws", hint: "did you mean 'ci_build'?")
        check(error("project: hello\nservice: {image: \"r/x@\(Self.digest)\", enviroment: {A: b}}"), 3, 99,
              "unknown key 'enviroment' in aws.service", hint: "did you mean 'environment'?")
    }

    @Test("Wrong types name the key and point at the value")
    func wrongType() {
        check(error("project: hello\nregistry: {github_repository: a/b, keep_images: lots}"), 3, 51,
              "`aws.registry.keep_images` must be a whole number, found a string")
        check(error("project: hello\nregistry: [a]"), 3, 13, "`aws.registry` must be a mapping of settings, found a list")
        check(error("project: hello\nci_build: {source: {location: \"https://github.com/a/b\"}, branches: [[main]]}"), 3, 71,
              "`aws.ci_build.branches[0]` must be a string, found a list")
    }

    @Test("Values out of range or format are refused with the fix", arguments: [
        ("service: {image: \"r/x:latest\"}", "aws.service.image", "digest"),
        ("service: {image: \"r/x@\(digest)\", cpu: 300}", "aws.service.cpu", "Fargate"),
        ("service: {image: \"r/x@\(digest)\", cpu: 256, memory: 4096}", "aws.service.memory", "512 to 2048"),
        ("service: {image: \"r/x@\(digest)\", subnet_ids: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]}", "missing key 'vpc_id' in aws.service", "subnet_ids needs"),
        ("service: {image: \"r/x@\(digest)\", vpc_id: vpc-0123456789abcdef0}", "missing key 'subnet_ids' in aws.service", "two subnets"),
        ("service: {image: \"r/x@\(digest)\", vpc_id: vpc-0123456789abcdef0, subnet_ids: [subnet-0123456789abcdef0]}", "aws.service.subnet_ids: ", "two subnets"),
        ("service: {image: \"r/x@\(digest)\", assign_public_ip: false}", "aws.service.assign_public_ip", "NAT"),
        ("event_job: {image: \"docker.io/x@\(digest)\"}", "aws.event_job.image", "ECR"),
        ("ci_build: {source: {location: \"https://example.com/a/b\"}}", "aws.ci_build.source.location", "github.com/OWNER/REPO"),
        ("ci_build: {source: {type: CODECOMMIT, location: x}}", "aws.ci_build.source.type", "GITHUB"),
        ("ci_build: {source: {location: \"https://github.com/a/b\"}, log_retention_days: 10}", "aws.ci_build.log_retention_days", "14"),
        ("ci_build: {source: {location: \"https://github.com/a/b\"}, branches: [\"a..b\"]}", "aws.ci_build.branches", "branch"),
        ("ci_build: {source: {}}", "missing key 'location' in aws.ci_build.source", "clone URL"),
        ("source_credentials: [{server_type: GITHUB, secret: a}, {server_type: GITHUB, secret: b}]", "aws.source_credentials[1].server_type", "once"),
        ("source_credentials: [{server_type: BITBUCKET, secret: a}]", "missing key 'username' in aws.source_credentials[0]", "user name"),
        ("registry: {github_repository: a/b, oidc_provider_arn: \"arn:aws:iam::1:oidc-provider/x\"}", "aws.registry.oidc_provider_arn", "list-open-id-connect-providers"),
        ("registry: {github_repository: a/b, repository: Hello}", "aws.registry.repository", "lowercase"),
        ("tags: {\"aws:x\": y}", "aws.tags.aws:x", "aws:"),
    ])
    func badValues(body: String, message: String, fix: String) {
        let e = error("project: hello\n" + body)
        let text = e?.description ?? "no error"
        #expect(text.hasPrefix("stack.yaml:3:"), "\(text)")
        #expect(e?.message.hasPrefix(message) == true, "\(text)")
        #expect(e?.hint?.contains(fix) == true, "\(text)")
    }

    @Test("No aws section, or YAML that does not parse, is a clear error at its place")
    func noSection() throws {
        let none = try StackFile.parse(yaml: "images: {}\n", path: "stack.yaml", directory: NSTemporaryDirectory(), sections: .aws)
        let missing = #expect(throws: StackFileError.self) { try none.awsSettings() }
        #expect(missing?.description.hasPrefix("stack.yaml:1:1: missing key 'aws' at the top level; add an `aws:` section") == true)
        check(error("project: [\n"), 4, 1, "invalid YAML")
    }

    // Issue 23, message defects: `aws:` errors came one per run, and an unknown key's hint ran
    // into the message without a full stop ("is not a known setting Known keys here").

    @Test("Every aws: problem is reported at once, each at its file:line:col, in file order")
    func everyProblemAtOnce() throws {
        let yaml = """
            aws:
              project: Hello_World
              registry:
                github_repository: acme/hello
                keep_imagez: 3
              service:
                image: nginx:latest
              bogus: 1
            """
        let error = try #require(#expect(throws: StackFileError.self) { try TemplateFixtures.settings(yaml) })
        let all = error.all
        #expect(all.map { $0.location?.description ?? "-" } == ["stack.yaml:2:12", "stack.yaml:5:5", "stack.yaml:7:12", "stack.yaml:8:3"],
                "\(error)")
        #expect(all.count == 4 && all[0].message.contains("aws.project") && all[1].message.contains("unknown key 'keep_imagez'")
                && all[2].message.contains("aws.service.image") && all[3].message.contains("unknown key 'bogus'"), "\(error)")
        // Shown as one message with a line per problem, each with its place.
        let lines = error.description.split(separator: "\n")
        #expect(lines.first == "4 problems in the stack file:", "\(error)")
        #expect(lines.dropFirst().map { $0.hasPrefix("  stack.yaml:") } == [true, true, true, true], "\(error)")
    }

    @Test("One problem is still one line, as before")
    func oneProblemOneLine() throws {
        let error = self.error("project: hello\nregistry:\n  github_repository: acme/hello\n  keep_imagez: 3")
        #expect(error?.more.isEmpty == true)
        #expect(error?.description.contains("\n") == false)
        check(error, 5, 5, "unknown key 'keep_imagez' in aws.registry", hint: "did you mean 'keep_images'?")
    }

    @Test("An unknown key's message and its list of keys are separate sentences")
    func unknownKeyPunctuation() throws {
        let error = self.error("project: hello\nzzzzzzzzzzzz: 1")
        let text = error?.description ?? ""
        #expect(text.hasPrefix("stack.yaml:3:3: unknown key 'zzzzzzzzzzzz' in aws; valid keys are 'project', "), "\(text)")
        #expect(!text.contains("setting Known") && !text.contains("  "), "\(text)")
    }
}
