import Foundation
import Testing

@testable import AWSTemplates
import Stack

/// Settings examples and helpers shared by the template tests.
enum TemplateFixtures {
    static let digest = "sha256:" + String(repeating: "0123456789abcdef", count: 4)
    /// A token-shaped value: it must never appear in a template or an error.
    static let leakedToken = "ghp_TopSecretTokenValue1234567890abcdEF"

    /// A realistic stack file: every kind, the common options.
    static let realistic = """
        aws:
          project: hello
          tags:
            team: web
            cost-center: "1234"
          source_credentials:
            - server_type: GITHUB
              secret: ci/github
            - server_type: BITBUCKET
              secret: ci/bitbucket
              secret_key: app_password
              username: ci-bot
          ci_build:
            source:
              type: GITHUB
              location: https://github.com/acme/hello.git
              buildspec: ci/buildspec.yml
            branches: [main, release/1.x]
            environment:
              compute_type: BUILD_GENERAL1_MEDIUM
              privileged_mode: true
              variables: {STACK_FILE: stack.yaml}
              secret_variables: {DOCKERHUB_TOKEN: "ci/dockerhub:AccessToken"}
            batch: {max_builds: 10}
            artifacts: {expire_after_days: 14, versioning: true}
            ecr_repositories: [hello]
          release_build:
            source:
              location: https://github.com/acme/hello.git
              buildspec: ci/release-buildspec.yml
              version: main
            ecr_repositories: [hello]
            secrets: [ci/signing-key]
          registry:
            github_repository: acme/hello
            immutable_tags: true
          service:
            image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/hello@\(digest)
            port: 8080
            health_check_path: /health
            environment: {LOG_LEVEL: info}
            secrets: {DATABASE_URL: prod/hello/db}
          event_job:
            image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/hello-job@\(digest)
            prefix: incoming/
            suffix: .csv
            expire_after_days: 30
        """

    /// The edge cases: existing VPC with HTTPS, mutable tags with an existing OIDC provider,
    /// an unfiltered event job, a GitLab CI source, and defaults everywhere else.
    static let edgeCases = """
        aws:
          project: data-pipeline-with-a-long-name-x
          source_credentials:
            - server_type: GITLAB_SELF_MANAGED
              secret: arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/gitlab
            - server_type: GITHUB_ENTERPRISE
              secret: ci/ghe
            - server_type: GITLAB
              secret: ci/gitlab-com
            - server_type: GITHUB
              secret: ci/gh
          ci_build:
            source:
              type: GITLAB
              location: https://gitlab.com/acme/data/pipeline.git
            webhook_events: [PUSH]
          release_build:
            source:
              type: GITLAB_SELF_MANAGED
              location: https://git.example.com/acme/pipeline.git
            environment:
              image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/acme/builder:2024.1
              type: ARM_CONTAINER
              compute_type: BUILD_GENERAL1_LARGE
            log_retention_days: 365
          registry:
            github_repository: acme/data-pipeline
            repository: acme/data-pipeline
            immutable_tags: false
            scan_on_push: false
            oidc_provider_arn: arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com
          service:
            image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/pipeline@\(digest)
            cpu: 1024
            memory: 4096
            port: 3000
            desired_count: 2
            certificate_arn: arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789
            vpc_id: vpc-0123456789abcdef0
            subnet_ids: [subnet-0123456789abcdef0, subnet-0fedcba9876543210]
            assign_public_ip: false
          event_job:
            image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/job@\(digest)
            architecture: arm64
        """

    /// The `aws:` settings of a stack file's text, as the stack file reader reads them.
    static func settings(_ yaml: String) throws -> AWSSettings {
        try StackFile.parse(yaml: yaml, path: "stack.yaml", directory: NSTemporaryDirectory(), sections: .aws).awsSettings()
    }

    /// A fresh temporary folder; removed by the caller with `defer`.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("aws-templates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The JSON object a template renders to, parsed back.
    static func parsed(_ template: CloudFormationTemplate) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: template.jsonData()) as? [String: Any])
    }

    /// The folder of the golden files, next to this source file.
    static var goldenFolder: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    }
}

/// cfn-lint, found on PATH or where pip puts it.
enum CfnLint {
    static func executable() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        let candidates = path.split(separator: ":").map { "\($0)/cfn-lint" } + ["\(home)/.local/bin/cfn-lint", "\(home)/.pyenv/shims/cfn-lint", "/usr/local/bin/cfn-lint"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs cfn-lint on `files` for us-east-1; returns its exit status and combined output.
    /// Output goes to a temporary file read after exit (pipes can hit EINTR here).
    static func run(_ files: [URL]) throws -> (status: Int32, output: String) {
        guard let cfnLint = executable() else {
            Issue.record("cfn-lint is not installed; install it with: pip install cfn-lint (scripts/setup does)")
            return (-1, "cfn-lint missing")
        }
        let folder = try TemplateFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = folder.appendingPathComponent("cfn-lint.out")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: cfnLint)
        process.arguments = ["--regions", "us-east-1", "--"] + files.map(\.path)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let output = String(decoding: try Data(contentsOf: log), as: UTF8.self)
        return (process.terminationStatus, output)
    }
}
