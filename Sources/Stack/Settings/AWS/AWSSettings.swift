import Foundation

/// The `aws:` section of a stack file: the project name, tags and one section per stack kind.
///
/// ```yaml
/// aws:
///   project: hello                 # names every resource; lowercase letters, digits, hyphens
///   tags: {team: web}              # added to every taggable resource, beside stackship:project
///   stacks: [registry, service]    # optional: which templates to write (default: every section given)
///   source_credentials: [...]      # see SourceCredentialSettings
///   ci_build: {...}                # see CodeBuildSettings
///   release_build: {...}           # see CodeBuildSettings
///   registry: {...}                # see RegistrySettings
///   service: {...}                 # see ServiceSettings
///   event_job: {...}               # see EventJobSettings
/// ```
///
/// The stack file reader checks every value and throws ``StackFileError`` at the value, naming
/// its settings path (`aws.registry.github_repository`) and the fix. The CloudFormation
/// templates are built from these values by the `AWSTemplates` target.
public struct AWSSettings: Sendable, Hashable, SettingsSection {
    /// The project name every resource name is derived from.
    public var project: String
    /// Extra tags for every taggable resource.
    public var tags: [String: String]
    /// The stack kinds to generate, in ``StackKind`` order.
    public var stacks: [StackKind]
    /// Source credentials, one per server type.
    public var sourceCredentials: [SourceCredentialSettings]?
    /// The CI build project.
    public var ciBuild: CodeBuildSettings?
    /// The release build project.
    public var releaseBuild: CodeBuildSettings?
    /// The image registry and its GitHub push role.
    public var registry: RegistrySettings?
    /// The Fargate service.
    public var service: ServiceSettings?
    /// The S3-triggered job.
    public var eventJob: EventJobSettings?
    /// The stack file's binary cache (`ci.cache`, `s3://BUCKET/PREFIX`), which the CodeBuild
    /// projects' jobs read and write; nil when the file names none (or one not in S3). Set by
    /// ``StackFile/awsSettings()`` when the `ci:` section was read.
    public var binaryCacheURL: String?

    static let keys = ["project", "tags", "stacks", "source_credentials", "ci_build", "release_build", "registry", "service", "event_job"]

    init(_ r: SettingsMapping) throws {
        // Each part is read on its own, so that with SettingsProblems collecting, a mistake in
        // one part does not hide the mistakes in the others.
        project = try r.attempt { () -> String in
            guard let project = try r.optional("project", String.self) else {
                throw r.missing("project", hint: "name the project, e.g. 'project: hello' (lowercase letters, digits and hyphens); every AWS resource name is derived from it")
            }
            guard SettingsMapping.matches(project, "[a-z][a-z0-9-]{0,30}[a-z0-9]") else {
                throw r.invalid("project", value: project, reason: "use 2 to 32 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (it becomes part of bucket and role names)")
            }
            return project
        } ?? ""
        tags = try r.attempt { () -> [String: String] in
            let tags = try r.optional("tags", [String: String].self) ?? [:]
            for (key, value) in tags.sorted(by: { $0.key < $1.key }) {
                guard !key.lowercased().hasPrefix("aws:"), (1...128).contains(key.count), value.count <= 256 else {
                    throw r.invalid("tags", value: key, member: key, reason: "tag keys are 1-128 characters and may not start with 'aws:'; values at most 256")
                }
                guard !key.hasPrefix("stackship:") else {
                    throw r.invalid("tags", value: key, member: key, reason: "the stackship: prefix is reserved for the tags Stackship sets itself; choose another key")
                }
            }
            return tags
        } ?? [:]
        sourceCredentials = try r.attempt { try r.optional("source_credentials", [SourceCredentialSettings].self) }
        ciBuild = try r.attempt { try r.optional("ci_build", CodeBuildSettings.self) }
        releaseBuild = try r.attempt { try r.optional("release_build", CodeBuildSettings.self) }
        // The release project runs the graph with the publish builds (`ci generate codebuild`
        // writes it beside buildspec.yml, which pull requests start and which never publishes).
        if releaseBuild?.source.buildspecIsDefault == true { releaseBuild?.source.buildspec = "buildspec-release.yml" }
        registry = try r.attempt { try r.optional("registry", RegistrySettings.self) }
        service = try r.attempt { try r.optional("service", ServiceSettings.self) }
        eventJob = try r.attempt { try r.optional("event_job", EventJobSettings.self) }

        if let credentials = sourceCredentials {
            guard !credentials.isEmpty else {
                throw r.invalid("source_credentials", value: "[]", reason: "list at least one server type, or remove the section")
            }
            var seen = Set<String>()
            for (n, credential) in credentials.enumerated() where !seen.insert(credential.serverType).inserted {
                let items = r.value("source_credentials")?.node.sequence.map { Array($0) } ?? []
                let here = (n < items.count ? items[n]["server_type"] : nil).map(r.parser.location) ?? r.node.location
                throw StackFileError(location: here, message: "\(r.path("source_credentials"))[\(n)].server_type: \"\(credential.serverType)\" is not valid",
                                     hint: "CodeBuild keeps one source credential per server type; list each server type once")
            }
        }
        let present = StackKind.allCases.filter { r.has(Self.sectionKey($0)) }
        if let listed = try r.optional("stacks", [StackKind].self) {
            for kind in listed where !present.contains(kind) {
                let item = r.value("stacks")?.node.sequence?.first { $0.scalar?.string == kind.rawValue }
                throw StackFileError(location: item.map(r.parser.location) ?? r.node.location,
                                     message: "the \(kind.rawValue) stack needs its settings, but \(r.path(Self.sectionKey(kind))) is missing",
                                     hint: "add a '\(Self.sectionKey(kind))' section under 'aws:', or remove \(kind.rawValue) from aws.stacks")
            }
            stacks = StackKind.allCases.filter { listed.contains($0) }
        } else {
            stacks = present
        }
    }

    /// The settings key of a kind's section: `ci_build` for ``StackKind/ciBuild``.
    public static func sectionKey(_ kind: StackKind) -> String { kind.rawValue.replacingOccurrences(of: "-", with: "_") }
}
