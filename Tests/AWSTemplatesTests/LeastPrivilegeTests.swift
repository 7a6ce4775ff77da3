import Foundation
import Testing

@testable import AWSTemplates
import Stack

/// Reads the generated policies back and checks them for least privilege.
@Suite("Template policies are least-privilege")
struct LeastPrivilegeTests {
    /// Actions IAM only accepts with `"Resource": "*"` because they are not scoped to a resource
    /// (see the Service Authorization Reference: no resource types for these actions):
    /// - ecr:GetAuthorizationToken: issues a registry login token for the whole account.
    /// - ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken: the ECR Public login
    ///   (a bearer token for the account's public registry).
    static let actionsNeedingStar: Set<String> = ["ecr:GetAuthorizationToken", "ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"]

    struct Statement {
        let where_: String
        let effect: String
        let actions: [String]
        let resources: [Any]
        let principal: Any?
        let condition: [String: Any]?
    }

    /// Every statement of every policy document in a parsed template, with where it was found.
    static func statements(in value: Any, path: String = "") -> [Statement] {
        var found: [Statement] = []
        if let object = value as? [String: Any] {
            if let list = object["Statement"] as? [[String: Any]] {
                for s in list {
                    let actions = (s["Action"] as? [String]) ?? [(s["Action"] as? String)].compactMap { $0 }
                    let resources = (s["Resource"] as? [Any]) ?? [s["Resource"]].compactMap { $0 }
                    found.append(Statement(
                        where_: path, effect: s["Effect"] as? String ?? "", actions: actions, resources: resources,
                        principal: s["Principal"], condition: s["Condition"] as? [String: Any]))
                }
            }
            for (key, member) in object { found += statements(in: member, path: "\(path)/\(key)") }
        } else if let list = value as? [Any] {
            for (n, member) in list.enumerated() { found += statements(in: member, path: "\(path)[\(n)]") }
        }
        return found
    }

    static func allTemplates() throws -> [(String, [String: Any])] {
        var all: [(String, [String: Any])] = []
        for yaml in [TemplateFixtures.realistic, TemplateFixtures.edgeCases,
                     PublicRegistryAndOutputPrefixTests.publicRegistry, PublicRegistryAndOutputPrefixTests.outputJob] {
            let settings = try TemplateFixtures.settings(yaml)
            for kind in settings.stacks {
                all.append(("\(settings.project)/\(kind)", try TemplateFixtures.parsed(settings.template(for: kind))))
            }
        }
        return all
    }

    @Test("No Allow statement grants every action or a whole service")
    func noWildcardActions() throws {
        var checked = 0
        for (name, template) in try Self.allTemplates() {
            for s in Self.statements(in: template) where s.effect == "Allow" {
                checked += 1
                for action in s.actions {
                    #expect(action != "*" && !action.hasSuffix(":*") && !action.contains("*"), "\(name)\(s.where_): \(action)")
                }
            }
        }
        #expect(checked > 10)
    }

    @Test("Resource \"*\" appears only for the actions that need it")
    func starOnlyWhereRequired() throws {
        var stars = 0
        for (name, template) in try Self.allTemplates() {
            for s in Self.statements(in: template) where s.effect == "Allow" {
                if s.resources.contains(where: { ($0 as? String) == "*" }) {
                    stars += 1
                    #expect(Set(s.actions).isSubset(of: Self.actionsNeedingStar), "\(name)\(s.where_): \(s.actions) on *")
                }
                for resource in s.resources {
                    if let text = resource as? String, text != "*" { #expect(!text.hasSuffix(":*:*") && text.hasPrefix("arn:"), "\(name): \(text)") }
                }
            }
        }
        #expect(stars >= 1, "the registry push role logs in to ECR")
    }

    @Test("The CodeBuild roles reach only their own log group, bucket, project, named repositories and secrets")
    func codeBuildScopes() throws {
        let settings = try TemplateFixtures.settings(TemplateFixtures.realistic)
        let template = try TemplateFixtures.parsed(settings.template(for: .ciBuild))
        let all = try #require(template["Resources"] as? [String: Any])
        let serviceRole = try #require(all["ServiceRole"])
        let byAction = Dictionary(grouping: Self.statements(in: serviceRole).filter { $0.effect == "Allow" && !$0.actions.contains("sts:AssumeRole") }.flatMap { s in s.actions.map { ($0, s) } }, by: \.0)
        func resources(of action: String) -> String { byAction[action].map { "\($0.map { "\($0.1.resources)" })" } ?? "none" }
        #expect(resources(of: "logs:PutLogEvents").contains("LogGroup"))
        #expect(resources(of: "s3:PutObject").contains("ArtifactsBucket.Arn}/*"))
        #expect(resources(of: "ecr:PutImage").contains("repository/hello"))
        #expect(resources(of: "secretsmanager:GetSecretValue").contains("secret:ci/dockerhub-??????"))
        #expect(!resources(of: "secretsmanager:GetSecretValue").contains("AccessToken"), "the JSON key is not part of the ARN")
        let batch = Self.statements(in: try #require(all["BatchServiceRole"])).filter { !$0.actions.contains("sts:AssumeRole") }
        #expect(batch.count == 1)
        #expect(Set(batch[0].actions) == ["codebuild:StartBuild", "codebuild:StopBuild", "codebuild:RetryBuild"])
        #expect("\(batch[0].resources)".contains("project/hello-ci-build"))
    }

    @Test("The CodeBuild roles read and write the stack's binary cache (ci.cache) under its prefix only")
    func codeBuildReachesTheBinaryCache() throws {
        let yaml = TemplateFixtures.realistic + "\nci:\n  cache: s3://team-cache/stacks/hello\n"
        let settings = try StackFile.parse(yaml: yaml, path: "stack.yaml", directory: NSTemporaryDirectory(), sections: [.aws, .ci]).awsSettings()
        #expect(settings.binaryCacheURL == "s3://team-cache/stacks/hello")
        for kind in [StackKind.ciBuild, .releaseBuild] {
            let template = try TemplateFixtures.parsed(settings.template(for: kind))
            let role = try #require((template["Resources"] as? [String: Any])?["ServiceRole"])
            let cache = Self.statements(in: role).filter { "\($0.resources)".contains("team-cache") }
            let objects = try #require(cache.first { $0.actions.contains("s3:GetObject") })
            #expect(Set(objects.actions) == ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], "\(kind)")
            #expect("\(objects.resources)".contains("arn:${AWS::Partition}:s3:::team-cache/stacks/hello/*"), "\(objects.resources)")
            let listing = try #require(cache.first { $0.actions == ["s3:ListBucket"] })
            #expect("\(listing.resources)".contains("arn:${AWS::Partition}:s3:::team-cache") && !"\(listing.resources)".contains("team-cache/"))
            #expect("\(listing.condition ?? [:])".contains("stacks/hello/*"), "listing only under the prefix: \(String(describing: listing.condition))")
            #expect(cache.count == 2, "\(kind): nothing else on the cache bucket")
        }
        // Without ci.cache in S3, no cache statement at all.
        let plain = try TemplateFixtures.parsed(try TemplateFixtures.settings(TemplateFixtures.realistic).template(for: .ciBuild))
        #expect(!"\(plain)".contains("BinaryCache"))
    }

    @Test("A build image from ECR is pulled with the service role, which may read only that repository")
    func ecrBuildImage() throws {
        let settings = try TemplateFixtures.settings(TemplateFixtures.edgeCases)
        let json = try settings.template(for: .releaseBuild).jsonString()
        #expect(json.contains(#""ImagePullCredentialsType": "SERVICE_ROLE""#))
        #expect(json.contains(#""arn:aws:ecr:us-east-1:123456789012:repository/acme/builder""#))
        let curated = try settings.template(for: .ciBuild).jsonString()
        #expect(curated.contains(#""ImagePullCredentialsType": "CODEBUILD""#))
        #expect(!curated.contains("ecr:"), "no ECR access when the build neither pushes nor pulls from ECR")
    }

    @Test("The push role trusts only the given GitHub repository, and the audience sts.amazonaws.com", arguments: [TemplateFixtures.realistic, TemplateFixtures.edgeCases])
    func oidcTrustRestricted(yaml: String) throws {
        let settings = try TemplateFixtures.settings(yaml)
        let github = try #require(settings.registry?.githubRepository)
        let template = try TemplateFixtures.parsed(settings.template(for: .registry))
        let resources = try #require(template["Resources"] as? [String: Any])
        let role = try #require(resources["PushRole"] as? [String: Any])
        let properties = try #require(role["Properties"] as? [String: Any])
        let trust = Self.statements(in: try #require(properties["AssumeRolePolicyDocument"]))
        #expect(trust.count == 1)
        let statement = try #require(trust.first)
        #expect(statement.effect == "Allow" && statement.actions == ["sts:AssumeRoleWithWebIdentity"])
        let condition = try #require(statement.condition)
        let equals = try #require(condition["StringEquals"] as? [String: String])
        let like = try #require(condition["StringLike"] as? [String: String])
        #expect(equals == ["token.actions.githubusercontent.com:aud": "sts.amazonaws.com"])
        #expect(like == ["token.actions.githubusercontent.com:sub": "repo:\(github):*"])
        #expect(Set(condition.keys) == ["StringEquals", "StringLike"])
        let federated = try #require((statement.principal as? [String: Any])?["Federated"])
        if let existing = settings.registry?.oidcProviderArn {
            #expect(federated as? String == existing)
            #expect(resources["GitHubOIDCProvider"] == nil, "an existing provider is not created again")
        } else {
            #expect((federated as? [String: String]) == ["Ref": "GitHubOIDCProvider"])
            let provider = try #require((resources["GitHubOIDCProvider"] as? [String: Any])?["Properties"] as? [String: Any])
            #expect(provider["Url"] as? String == "https://token.actions.githubusercontent.com")
            #expect(provider["ClientIdList"] as? [String] == ["sts.amazonaws.com"])
        }
        // The push policy: login on *, the push actions on this repository only.
        let policy = Self.statements(in: try #require(properties["Policies"]))
        #expect(policy.count == 2)
        let push = try #require(policy.first { $0.actions.contains("ecr:PutImage") })
        #expect(Set(push.actions) == Set(RegistryTemplate.pushActions))
        #expect("\(push.resources)".contains("Repository") && push.resources.count == 1)
    }

    @Test("Every bucket blocks public access, is encrypted, and denies requests without TLS", arguments: [TemplateFixtures.realistic, TemplateFixtures.edgeCases])
    func bucketsArePrivate(yaml: String) throws {
        let settings = try TemplateFixtures.settings(yaml)
        var buckets = 0
        for kind in settings.stacks {
            let template = try TemplateFixtures.parsed(settings.template(for: kind))
            let resources = try #require(template["Resources"] as? [String: [String: Any]])
            for (id, resource) in resources where resource["Type"] as? String == "AWS::S3::Bucket" {
                buckets += 1
                let properties = try #require(resource["Properties"] as? [String: Any])
                #expect(properties["PublicAccessBlockConfiguration"] as? [String: Bool] == ["BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true], "\(kind) \(id)")
                #expect(properties["BucketEncryption"] != nil, "\(kind) \(id)")
                let policy = try #require(resources.values.first {
                    $0["Type"] as? String == "AWS::S3::BucketPolicy" && (($0["Properties"] as? [String: Any])?["Bucket"] as? [String: String]) == ["Ref": id]
                }, "\(kind) \(id) has a bucket policy")
                let deny = Self.statements(in: policy).filter { $0.effect == "Deny" }
                #expect(deny.count == 1)
                let condition = deny.first?.condition?["Bool"] as? [String: String]
                #expect(condition == ["aws:SecureTransport": "false"], "\(kind) \(id)")
                #expect(deny.first?.principal as? String == "*")
                #expect(deny.first?.resources.count == 2, "the bucket and its objects")
            }
        }
        #expect(buckets == 3, "ci and release artifacts and the event uploads: \(buckets)")
    }
}
