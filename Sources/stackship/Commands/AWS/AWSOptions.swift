import ArgumentParser
import AWS
import AWSTemplates
import Foundation
import HTTPCore
import OCI
import Stack
import Support

/// The options every `stackship aws` command shares, spelled as the AWS CLI spells them.
struct AWSOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The AWS profile (default: $AWS_PROFILE, else 'default').", valueName: "name"))
    var profile: String?

    @Option(name: .long, help: ArgumentHelp("The AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, else the profile's).", valueName: "region"))
    var region: String?

    @Option(name: .customLong("endpoint-url"), help: ArgumentHelp("Send every AWS request to this URL (default: $AWS_ENDPOINT_URL...), e.g. a local moto_server.", valueName: "url"))
    var endpointURL: String?

    @Option(name: .long, help: ArgumentHelp("The stack file whose 'aws:' section describes the stacks.", valueName: "file"))
    var stack: String = "stack.yaml"

    /// The stack file's path, absolute.
    var stackPath: String { CLI.absolute(stack) }

    /// The `aws:` settings of the stack file, read by the stack file reader (only its `aws:`
    /// section: a layer source not built yet does not stop a deploy).
    func settings() throws -> AWSSettings {
        guard FileManager.default.fileExists(atPath: stackPath) else {
            throw AWSCommandError.stackFileMissing(path: stackPath)
        }
        // `ci:` too: its binary cache is what the CodeBuild roles must reach.
        return try StackFile.load(path: stack, sections: [.aws, .ci]).awsSettings()
    }

    /// A client for the options: region, credentials chain (resolved on first use), endpoint.
    func client() throws -> AWSClient {
        try AWSClient(profile: profile, region: region, endpoint: endpointURL)
    }

    /// Runs `body` with a client, shutting it down however `body` ends.
    func withClient<T: Sendable>(_ body: (AWSClient) async throws -> T) async throws -> T {
        try await client().withShutdown(body)
    }

    /// The stack file's settings and the stack kinds named (default: every kind with settings),
    /// then `body` with a CloudFormation client, shut down however `body` ends.
    /// With `image`, the service stack's image is first pinned to that reference's digest.
    func withStacks<T: Sendable>(_ names: [String], image: ServiceImageOptions? = nil,
                                 _ body: (AWSSettings, [StackKind], CloudFormationClient) async throws -> T) async throws -> T {
        var settings = try settings()
        return try await withClient { client in
            // Before anything is sent (pinning the service's image may ask a registry).
            let named = names.isEmpty ? settings.stacks : names.compactMap(StackKind.init(rawValue:))
            try Self.checkRegion(client.region, settings: settings, kinds: named)
            if let image, let reference = image.image {
                settings = try await ServiceImage.pin(reference, in: settings, aws: self, client: client, store: image.storeOptions)
            }
            let selected = try Self.kinds(names, all: false, settings: settings, defaultAll: true)
            do {
                return try await body(settings, selected, CloudFormationClient(client: client))
            } catch let error as AWSError {
                throw Self.explainUnsupportedPublicRepository(error, settings: settings, kinds: selected, client: client)
            }
        }
    }

    /// A stand-in CloudFormation (moto's) that has no `AWS::ECR::PublicRepository` skips the
    /// resource and then fails the stack with "Fn::GetAtt references undefined resource
    /// PublicRepository", which does not say why. Said plainly, with what to do.
    static func explainUnsupportedPublicRepository(_ error: AWSError, settings: AWSSettings, kinds: [StackKind], client: AWSClient) -> Error {
        guard kinds.contains(.registry), settings.registry?.isPublic == true,
              (try? client.endpoint(for: .cloudFormation).isCustom) == true,
              error.description.contains("undefined resource PublicRepository") else { return error }
        let endpoint = (try? client.endpoint(for: .cloudFormation).description) ?? "the endpoint"
        return AWSCommandError.publicRepositoryUnsupported(endpoint: endpoint, stack: settings.stackName(for: .registry), reason: error.description)
    }

    /// A public registry's stack lives in us-east-1, the only region with ECR Public. The stack
    /// commands work in one region, as the AWS CLI's do, so a different one is refused before
    /// anything is sent, naming the flag (the template's rule would refuse it too, later).
    static func checkRegion(_ region: String, settings: AWSSettings, kinds: [StackKind]) throws {
        guard kinds.contains(.registry), settings.registry?.isPublic == true, region != RegistrySettings.publicRegion else { return }
        let others = kinds.filter { $0 != .registry }.map(\.rawValue)
        throw AWSCommandError.publicRegistryRegion(region: region, otherKinds: others)
    }

    /// The kinds named on the command line (with did-you-mean for a typo), or every kind the
    /// settings have a section for when `all` or when none are named and `defaultAll`.
    static func kinds(_ names: [String], all: Bool, settings: AWSSettings, defaultAll: Bool) throws -> [StackKind] {
        if all || (names.isEmpty && defaultAll) {
            guard !settings.stacks.isEmpty else { throw AWSCommandError.noStacks }
            return settings.stacks
        }
        guard !names.isEmpty else { throw ValidationError("name at least one stack kind (\(StackKind.allCases.map(\.rawValue).joined(separator: ", "))) or give --all") }
        var kinds: [StackKind] = []
        for name in names {
            guard let kind = StackKind(rawValue: name) else { throw AWSCommandError.unknownKind(name) }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        for kind in kinds {
            // The template throws missingSection when the kind's settings are absent.
            do { _ = try settings.template(for: kind) } catch let error as TemplateError {
                throw AWSCommandError.settings(path: nil, error: error)
            }
        }
        return kinds
    }
}

/// `--image REF` for the commands that build the service stack's template, and the store a
/// reference without a registry is looked up in.
struct ServiceImageOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The service's image: a tag in a registry (ECR's or any other), or an image in the store pushed to the registry stack's repository. Its digest is resolved and the template pinned to it (instead of aws.service.image).",
        valueName: "ref"))
    var image: String?

    @OptionGroup var storeOptions: StoreOptions
}

/// What the `aws`, `login ecr` and `health` commands report beyond the library's own errors.
enum AWSCommandError: Error, CustomStringConvertible {
    case stackFileMissing(path: String)
    case settings(path: String?, error: TemplateError)
    case unknownKind(String)
    case noStacks
    case stacksNotHealthy([String])
    case confirmationNeeded(what: String)
    case buildFailed(id: String, status: String)
    case stackInBadState(stack: String, status: String)
    case healthFailed(Int)
    case publicRegistryRegion(region: String, otherKinds: [String])
    case publicRepositoryUnsupported(endpoint: String, stack: String, reason: String)
    case repositoryExists(name: String, project: String, ours: Bool)

    var description: String {
        switch self {
        case let .stackFileMissing(path):
            return "there is no stack file at \(path); run the command beside your stack.yaml or name it with --stack FILE."
        case let .settings(path, error):
            return (path.map { "\($0): " } ?? "") + error.description
        case let .unknownKind(name):
            let kinds = StackKind.allCases.map(\.rawValue)
            var text = "'\(name)' is not a stack kind"
            if let close = Suggestions.closest(to: name, in: kinds, maxDistance: max(2, name.count / 3), prefixes: true) { text += "; did you mean '\(close)'?" }
            return text + " The kinds are: \(kinds.joined(separator: ", "))."
        case .noStacks:
            return "the stack file's aws: section has no stack sections; add one (ci_build, registry, service, ...) or name the kinds to use."
        case let .stacksNotHealthy(lines):
            return "\(lines.count) stack(s) need attention: \(lines.joined(separator: "; ")). Deploy missing stacks with 'stackship aws deploy KIND'; for a failed one read its events above, fix the cause, then deploy again (a stack in ROLLBACK_COMPLETE must be destroyed first)."
        case let .confirmationNeeded(what):
            return "this would delete \(what); add --yes to confirm."
        case let .buildFailed(id, status):
            return "build batch \(id) ended \(status); open it in the CodeBuild console (or 'aws codebuild batch-get-build-batches --ids \(id)') for the failing build's logs."
        case let .stackInBadState(stack, status):
            return "stack \(stack) is in \(status), which cannot be updated; run 'stackship aws destroy' for it (it never finished creating), fix the cause shown by 'stackship aws status', and deploy again."
        case let .publicRegistryRegion(region, others):
            var text = "aws.registry.public is true, and ECR Public exists only in \(RegistrySettings.publicRegion), but the region is \(region); "
                + "run the registry stack's commands with --region \(RegistrySettings.publicRegion) (AWS_REGION=\(RegistrySettings.publicRegion) works too)"
            if !others.isEmpty { text += ", and the other stacks (\(others.joined(separator: ", "))) in a separate run for \(region)" }
            return text + "."
        case let .publicRepositoryUnsupported(endpoint, stack, reason):
            return "the CloudFormation at \(endpoint) cannot create AWS::ECR::PublicRepository (aws.registry.public: true): it left the repository out and then failed (\(reason)). "
                + "moto_server has no ECR Public; deploy the public registry on AWS in us-east-1, or use a private registry (remove 'public: true') against this endpoint. "
                + "A first deploy leaves \(stack) in REVIEW_IN_PROGRESS: remove it with 'stackship aws destroy registry --yes'."
        case let .healthFailed(count):
            return "\(count) check(s) failed; see the hints above."
        case let .repositoryExists(name, project, ours):
            if ours {
                return "ECR repository '\(name)' already exists outside any stack: an earlier 'aws destroy registry' kept it with its images (DeletionPolicy: Retain). Delete it and its images with 'stackship aws destroy registry --purge --yes', or name another repository with aws.registry.repository."
            }
            return "ECR repository '\(name)' already exists and is not \(project)'s (it lacks the tag stackship:project=\(project)); name another repository with aws.registry.repository, or delete it yourself ('aws ecr delete-repository --repository-name \(name) --force' deletes its images too)."
        }
    }
}


/// Output for the AWS commands: lines to stdout as they happen (flushed, so a pipe sees
/// events as they arrive).
enum Out {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func event(_ e: CloudFormationClient.StackEvent) {
        let time = e.timestamp.map { ISO8601DateFormatter().string(from: $0) } ?? ""
        var text = "  \(time) \(e.resourceStatus) \(e.logicalResourceID) (\(e.resourceType))"
        if let reason = e.resourceStatusReason, !reason.isEmpty { text += ": \(reason)" }
        line(text)
    }

    static func outputs(_ outputs: [String: String]) {
        guard !outputs.isEmpty else { return }
        line("  outputs:")
        for (key, value) in outputs.sorted(by: { $0.key < $1.key }) { line("    \(key) = \(value)") }
    }
}

/// How long to wait between polls of CloudFormation and CodeBuild; STACKSHIP_AWS_POLL_SECONDS
/// shortens it (the tests use local endpoints that answer at once).
enum Poll {
    static var interval: Duration {
        if let s = ProcessInfo.processInfo.environment["STACKSHIP_AWS_POLL_SECONDS"], let v = Double(s), v >= 0 {
            return .milliseconds(Int(v * 1000))
        }
        return .seconds(5)
    }
}
