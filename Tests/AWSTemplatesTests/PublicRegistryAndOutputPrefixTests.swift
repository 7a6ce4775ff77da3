import Foundation
import Testing

@testable import AWSTemplates
@testable import Stack

/// Issue 23, items 1 and 8: `aws.registry.public` (an ECR Public repository and its push policy)
/// and `aws.event_job.output_prefix` (the job may write its results under one prefix).
@Suite("ECR Public registry and the event job's output prefix")
struct PublicRegistryAndOutputPrefixTests {
    static let digest = TemplateFixtures.digest

    /// The course's registry: public, pushed to from one GitHub repository.
    static let publicRegistry = """
        aws:
          project: hello
          registry:
            github_repository: acme/hello
            repository: hello-web
            public: true
        """

    /// An event job that reads `incoming/` and writes `results/`.
    static let outputJob = """
        aws:
          project: convert
          event_job:
            image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/convert@\(digest)
            prefix: incoming/
            suffix: .csv
            output_prefix: results/
            environment: {LOG_LEVEL: info}
        """

    /// The push policy the AWS documentation gives for ECR Public: these actions on the
    /// repository, and the two login actions (which take no resource) on "*".
    static let coursePushActions: Set<String> = [
        "ecr-public:BatchCheckLayerAvailability", "ecr-public:InitiateLayerUpload", "ecr-public:UploadLayerPart",
        "ecr-public:CompleteLayerUpload", "ecr-public:PutImage",
    ]
    static let courseLoginActions: Set<String> = ["ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"]

    static func resources(_ template: [String: Any]) throws -> [String: [String: Any]] {
        try #require(template["Resources"] as? [String: [String: Any]])
    }

    // MARK: - ECR Public

    @Test("public: true makes an ECR Public repository, retained like the private one, and no private one")
    func publicRepository() throws {
        let settings = try TemplateFixtures.settings(Self.publicRegistry)
        #expect(settings.registry?.isPublic == true)
        let template = try TemplateFixtures.parsed(settings.template(for: .registry))
        let resources = try Self.resources(template)
        // Its own logical ID, so that a private registry stack turned public is not a type change
        // of "Repository", which CloudFormation refuses.
        let repository = try #require(resources["PublicRepository"])
        #expect(resources["Repository"] == nil)
        #expect(repository["Type"] as? String == "AWS::ECR::PublicRepository")
        #expect(repository["DeletionPolicy"] as? String == "Retain" && repository["UpdateReplacePolicy"] as? String == "Retain")
        let properties = try #require(repository["Properties"] as? [String: Any])
        #expect(properties["RepositoryName"] as? String == "hello-web")
        #expect(Set(properties.keys) == ["RepositoryName", "RepositoryCatalogData", "Tags"], "no private-only property: \(properties.keys)")
        #expect(!resources.values.contains { $0["Type"] as? String == "AWS::ECR::Repository" })
        // No RepositoryUri attribute exists for a public repository: the outputs give the ARN and name.
        let outputs = try #require(template["Outputs"] as? [String: Any])
        #expect(Set(outputs.keys) == ["RepositoryArn", "RepositoryName", "PushRoleArn", "OIDCProviderArn"])
        #expect(!(try settings.template(for: .registry).jsonString()).contains("RepositoryUri"))
        // The template itself refuses any region but us-east-1.
        let rules = try #require(template["Rules"] as? [String: Any])
        let rule = try #require((rules["EcrPublicOnlyInUsEast1"] as? [String: Any])?["Assertions"] as? [[String: Any]])
        #expect(rule.count == 1)
        #expect((rule[0]["Assert"] as? [String: Any])?["Fn::Equals"] as? NSArray == [["Ref": "AWS::Region"], "us-east-1"] as NSArray)
        #expect((rule[0]["AssertDescription"] as? String)?.contains("us-east-1") == true)
        // A private registry has neither the rule nor the public resource.
        let privateTemplate = try TemplateFixtures.parsed(TemplateFixtures.settings(TemplateFixtures.realistic).template(for: .registry))
        #expect(privateTemplate["Rules"] == nil)
        #expect((try Self.resources(privateTemplate))["Repository"]?["Type"] as? String == "AWS::ECR::Repository")
    }

    @Test("The public push role: the course's push actions on its repository only, login on *, nothing else, action by action")
    func publicPushPolicyIsLeastPrivilege() throws {
        let settings = try TemplateFixtures.settings(Self.publicRegistry)
        let template = try TemplateFixtures.parsed(settings.template(for: .registry))
        let role = try #require(try Self.resources(template)["PushRole"]?["Properties"] as? [String: Any])
        let statements = LeastPrivilegeTests.statements(in: try #require(role["Policies"]))
        #expect(statements.count == 2, "\(statements.map(\.actions))")
        var granted: [String: [String]] = [:]
        for statement in statements {
            #expect(statement.effect == "Allow")
            #expect(statement.condition == nil && statement.principal == nil)
            #expect(statement.resources.count == 1)
            let resource = statement.resources.first.map { "\($0)" } ?? ""
            for action in statement.actions {
                #expect(granted[action] == nil, "\(action) granted twice")
                granted[action] = (granted[action] ?? []) + [resource]
            }
        }
        // Nothing more, nothing less than the list.
        #expect(Set(granted.keys) == Self.coursePushActions.union(Self.courseLoginActions), "\(granted.keys.sorted())")
        for action in Self.coursePushActions {
            let resource = try #require(granted[action]?.first, "\(action)")
            #expect(resource.contains("Fn::GetAtt") && resource.contains("PublicRepository") && resource.contains("Arn"), "\(action): \(resource)")
        }
        for action in Self.courseLoginActions {
            #expect(granted[action] == ["*"], "\(action): \(granted[action] ?? [])")
        }
        #expect(!granted.keys.contains { $0.hasPrefix("ecr:") }, "no private ECR action")
        // The trust is unchanged: only this GitHub repository's workflows.
        let trust = LeastPrivilegeTests.statements(in: try #require(role["AssumeRolePolicyDocument"]))
        #expect(trust.count == 1 && trust[0].actions == ["sts:AssumeRoleWithWebIdentity"])
        #expect((trust[0].condition?["StringLike"] as? [String: String]) == ["token.actions.githubusercontent.com:sub": "repo:acme/hello:*"])
    }

    @Test("Settings that ECR Public does not have are refused at their place with public: true, all at once")
    func privateOnlyKeysRefused() throws {
        let yaml = """
            aws:
              project: hello
              registry:
                github_repository: acme/hello
                public: true
                immutable_tags: true
                keep_images: 5
            """
        let error = try #require(#expect(throws: StackFileError.self) { try TemplateFixtures.settings(yaml) })
        #expect(error.all.map { $0.location?.description ?? "-" } == ["stack.yaml:6:21", "stack.yaml:7:18"], "\(error)")
        #expect(error.all.allSatisfy { $0.hint?.contains("ECR Public repositories have no tag immutability") == true }, "\(error)")
        #expect(error.all[0].message.hasPrefix("aws.registry.immutable_tags"), "\(error)")
        // public must be a boolean, named at its value.
        let wrong = #expect(throws: StackFileError.self) {
            try TemplateFixtures.settings("aws:\n  project: hello\n  registry:\n    github_repository: a/b\n    public: yes please\n")
        }
        #expect(wrong?.location?.description == "stack.yaml:5:13", "\(String(describing: wrong))")
        #expect(wrong?.message.contains("`aws.registry.public` must be true or false") == true, "\(String(describing: wrong))")
    }

    // MARK: - Event job output prefix

    @Test("With output_prefix the job's role may write there only; without it, it may only read its prefix")
    func outputPrefixPolicyExactly() throws {
        let settings = try TemplateFixtures.settings(Self.outputJob)
        #expect(settings.eventJob?.outputPrefix == "results/")
        let template = try TemplateFixtures.parsed(settings.template(for: .eventJob))
        let resources = try Self.resources(template)
        let role = try #require(resources["ExecutionRole"]?["Properties"] as? [String: Any])
        let statements = LeastPrivilegeTests.statements(in: try #require(role["Policies"]))
        let bucket = "arn:${AWS::Partition}:s3:::convert-uploads-${AWS::AccountId}-${AWS::Region}"
        func sub(_ value: Any) -> String? { (value as? [String: Any])?["Fn::Sub"] as? String }
        #expect(statements.count == 3)
        #expect(statements.map(\.actions) == [
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            ["s3:GetObject"],
            ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        ])
        #expect(statements.allSatisfy { $0.effect == "Allow" && $0.resources.count == 1 && $0.condition == nil })
        #expect(statements[1].resources.compactMap(sub) == ["\(bucket)/incoming/*"])
        #expect(statements[2].resources.compactMap(sub) == ["\(bucket)/results/*"])
        // The function is told where to write.
        let function = try #require(resources["Function"]?["Properties"] as? [String: Any])
        let variables = try #require((function["Environment"] as? [String: Any])?["Variables"] as? [String: Any])
        #expect(variables["OUTPUT_PREFIX"] as? String == "results/")
        #expect(sub(variables["OUTPUT_BUCKET"] as Any) == "convert-uploads-${AWS::AccountId}-${AWS::Region}")
        #expect(variables["LOG_LEVEL"] as? String == "info")

        // The same job without output_prefix: reading only, and no OUTPUT_ variables.
        let readOnly = try TemplateFixtures.settings(Self.outputJob.replacingOccurrences(of: "    output_prefix: results/\n", with: ""))
        #expect(readOnly.eventJob?.outputPrefix == nil)
        let plain = try TemplateFixtures.parsed(readOnly.template(for: .eventJob))
        let plainResources = try Self.resources(plain)
        let plainStatements = LeastPrivilegeTests.statements(in: try #require(plainResources["ExecutionRole"]?["Properties"] as? [String: Any])["Policies"] as Any)
        #expect(plainStatements.map(\.actions) == [["logs:CreateLogStream", "logs:PutLogEvents"], ["s3:GetObject"]])
        let plainVariables = (((plainResources["Function"]?["Properties"] as? [String: Any])?["Environment"] as? [String: Any])?["Variables"] as? [String: Any]) ?? [:]
        #expect(Set(plainVariables.keys) == ["LOG_LEVEL"])
    }

    @Test("A ${ in the output prefix stays literal in the policy's Fn::Sub")
    func outputPrefixEscaped() throws {
        let settings = try TemplateFixtures.settings(Self.outputJob.replacingOccurrences(of: "output_prefix: results/", with: "output_prefix: \"out${x}/\""))
        let json = try settings.template(for: .eventJob).jsonString()
        #expect(json.contains("/out${!x}/*"), "\(json)")
        #expect(json.contains(#""OUTPUT_PREFIX": "out${x}/""#))
    }

    @Test("An output prefix the trigger covers, or one that covers it, is refused at its value with why", arguments: [
        ("prefix: incoming/\n    output_prefix: incoming/results/", "overlaps the trigger prefix"),
        ("prefix: data/incoming/\n    output_prefix: data/", "overlaps the trigger prefix"),
        ("prefix: incoming/\n    output_prefix: incoming/", "overlaps the trigger prefix"),
        ("suffix: .csv\n    output_prefix: results/", "without a 'prefix', every upload"),
        ("prefix: incoming/\n    output_prefix: \"results/*\"", "no wildcards"),
        ("prefix: incoming/\n    output_prefix: \"\"", "1-1024 characters"),
    ])
    func overlappingOutputPrefix(body: String, reason: String) throws {
        let yaml = "aws:\n  project: convert\n  event_job:\n    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/convert@\(Self.digest)\n    \(body)\n"
        let error = try #require(#expect(throws: StackFileError.self) { try TemplateFixtures.settings(yaml) })
        #expect(error.location?.description == "stack.yaml:6:20", "\(error)")
        #expect(error.message.hasPrefix("aws.event_job.output_prefix:"), "\(error)")
        #expect(error.hint?.contains(reason) == true, "\(error)")
    }

    @Test("OUTPUT_PREFIX and OUTPUT_BUCKET cannot also be set by hand")
    func outputVariablesReserved() throws {
        let yaml = Self.outputJob.replacingOccurrences(of: "{LOG_LEVEL: info}", with: "{OUTPUT_PREFIX: elsewhere/}")
        let error = try #require(#expect(throws: StackFileError.self) { try TemplateFixtures.settings(yaml) })
        #expect(error.message.hasPrefix("aws.event_job.environment.OUTPUT_PREFIX"), "\(error)")
        #expect(error.location?.description == "stack.yaml:8:19", "\(error)")
        // Without output_prefix the names are the user's own.
        let own = yaml.replacingOccurrences(of: "    output_prefix: results/\n", with: "")
        #expect(try TemplateFixtures.settings(own).eventJob?.environment == ["OUTPUT_PREFIX": "elsewhere/"])
    }
}
