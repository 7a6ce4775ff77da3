import Foundation
import Yams

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
/// Decoding checks every value and throws ``TemplateError`` naming the key and the fix.
public struct AWSSettings: Sendable, Hashable, Decodable {
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

    /// The user-info key under which a stack file parser may pass a default project name (a
    /// `String`, typically the stack's own name), used when `aws.project` is absent.
    public static let defaultProjectKey = CodingUserInfoKey(rawValue: "stackship.aws.defaultProject")!

    static let keys = ["project", "tags", "stacks", "source_credentials", "ci_build", "release_build", "registry", "service", "event_job"]

    /// Decodes and checks the section; throws ``TemplateError``.
    public init(from decoder: any Decoder) throws {
        let r = try SettingsReader(decoder, known: Self.keys)
        let fallback = decoder.userInfo[Self.defaultProjectKey] as? String
        guard let project = try r.optional("project", String.self) ?? fallback else {
            throw TemplateError.missingKey(path: r.path("project"), hint: "name the project, e.g. 'project: hello' (lowercase letters, digits and hyphens); every AWS resource name is derived from it")
        }
        guard SettingsCheck.matches(project, "[a-z][a-z0-9-]{0,30}[a-z0-9]") else {
            throw TemplateError.invalidValue(path: r.path("project"), value: project, reason: "use 2 to 32 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (it becomes part of bucket and role names)")
        }
        self.project = project
        tags = try r.optional("tags", [String: String].self) ?? [:]
        for (key, value) in tags {
            guard !key.lowercased().hasPrefix("aws:"), (1...128).contains(key.count), value.count <= 256 else {
                throw TemplateError.invalidValue(path: "\(r.path("tags")).\(key)", value: key, reason: "tag keys are 1-128 characters and may not start with 'aws:'; values at most 256")
            }
            guard !key.hasPrefix("stackship:") else {
                throw TemplateError.invalidValue(path: "\(r.path("tags")).\(key)", value: key, reason: "the stackship: prefix is reserved for the tags Stackship sets itself; choose another key")
            }
        }
        sourceCredentials = try r.optional("source_credentials", [SourceCredentialSettings].self)
        ciBuild = try r.optional("ci_build", CodeBuildSettings.self)
        releaseBuild = try r.optional("release_build", CodeBuildSettings.self)
        registry = try r.optional("registry", RegistrySettings.self)
        service = try r.optional("service", ServiceSettings.self)
        eventJob = try r.optional("event_job", EventJobSettings.self)

        if let credentials = sourceCredentials {
            guard !credentials.isEmpty else {
                throw TemplateError.invalidValue(path: r.path("source_credentials"), value: "[]", reason: "list at least one server type, or remove the section")
            }
            var seen = Set<String>()
            for (n, credential) in credentials.enumerated() where !seen.insert(credential.serverType).inserted {
                throw TemplateError.invalidValue(path: "\(r.path("source_credentials"))[\(n)].server_type", value: credential.serverType, reason: "CodeBuild keeps one source credential per server type; list each server type once")
            }
        }
        let present = StackKind.allCases.filter { Self.section(for: $0, in: r) }
        if let listed = try r.optional("stacks", [StackKind].self) {
            for kind in listed where !present.contains(kind) {
                throw TemplateError.missingSection(kind: kind, path: r.path(Self.sectionKey(kind)))
            }
            stacks = StackKind.allCases.filter { listed.contains($0) }
        } else {
            stacks = present
        }
    }

    /// The settings key of a kind's section: `ci_build` for ``StackKind/ciBuild``.
    public static func sectionKey(_ kind: StackKind) -> String { kind.rawValue.replacingOccurrences(of: "-", with: "_") }

    private static func section(for kind: StackKind, in r: SettingsReader) -> Bool { r.has(sectionKey(kind)) }

    /// Decodes the `aws:` section of a whole stack file's YAML text.
    ///
    /// Throws ``TemplateError`` for bad settings, and ``TemplateError/missingKey(path:hint:)`` when the
    /// document has no `aws:` section. `defaultProject` stands in for an absent `aws.project`.
    public static func decode(stackFileYAML yaml: String, defaultProject: String? = nil) throws -> AWSSettings {
        struct Document: Decodable {
            var aws: AWSSettings?
            enum CodingKeys: String, CodingKey { case aws }
        }
        var userInfo: [CodingUserInfoKey: any Sendable] = [:]
        if let defaultProject { userInfo[defaultProjectKey] = defaultProject }
        let document: Document
        do {
            document = try YAMLDecoder().decode(Document.self, from: yaml, userInfo: userInfo)
        } catch let error as TemplateError {
            throw error
        } catch let error where TemplateError.wrapped(in: error) != nil {
            throw TemplateError.wrapped(in: error)!
        } catch {
            throw TemplateError.invalidValue(path: "aws", value: "", reason: "the stack file is not valid YAML (\(error)); fix the syntax")
        }
        guard let settings = document.aws else {
            throw TemplateError.missingKey(path: "aws", hint: "add an 'aws:' section with at least 'project:' and one stack section")
        }
        return settings
    }

    /// The tags every taggable resource of `kind` carries: `stackship:project`, `stackship:stack-kind`
    /// and the user's, sorted by key.
    public func resourceTags(for kind: StackKind) -> [(key: String, value: String)] {
        var all = tags
        all["stackship:project"] = project
        all["stackship:stack-kind"] = kind.rawValue
        return all.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
    }
}
