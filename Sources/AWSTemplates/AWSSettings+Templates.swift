import Foundation
import Support
import OCI
import Stack

extension AWSSettings {
    /// The template for `kind`; throws ``TemplateError/missingSection(kind:path:)`` when the settings
    /// have no section for it. Pure: same settings, same template.
    public func template(for kind: StackKind) throws -> CloudFormationTemplate {
        func missing() -> TemplateError { .missingSection(kind: kind, path: "aws.\(Self.sectionKey(kind))") }
        switch kind {
        case .sourceCredentials:
            guard let sourceCredentials else { throw missing() }
            return SourceCredentialsTemplate.make(self, sourceCredentials)
        case .ciBuild:
            guard let ciBuild else { throw missing() }
            return CodeBuildTemplate.make(self, ciBuild, kind: .ciBuild)
        case .releaseBuild:
            guard let releaseBuild else { throw missing() }
            return CodeBuildTemplate.make(self, releaseBuild, kind: .releaseBuild)
        case .registry:
            guard let registry else { throw missing() }
            return RegistryTemplate.make(self, registry)
        case .service:
            guard let service else { throw missing() }
            guard let image = service.image else { throw TemplateError.serviceImageMissing }
            return ServiceTemplate.make(self, service, image: image)
        case .eventJob:
            guard let eventJob else { throw missing() }
            return EventJobTemplate.make(self, eventJob)
        }
    }

    /// The tags every taggable resource of `kind` carries: `stackship:project`, `stackship:stack-kind`
    /// and the user's, sorted by key.
    public func resourceTags(for kind: StackKind) -> [(key: String, value: String)] {
        var all = tags
        all["stackship:project"] = project
        all["stackship:stack-kind"] = kind.rawValue
        return all.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
    }

    /// The CloudFormation stack name of `kind` for this project.
    public func stackName(for kind: StackKind) -> String { kind.stackName(project: project) }

    /// Writes each of ``stacks``' templates (or just `kinds`) into `folder` as `<kind>.json`,
    /// atomically (temporary file in the folder, fsync, rename), creating the folder if needed.
    ///
    /// Returns the written files by kind. Throws ``TemplateError``; a failure leaves no
    /// half-written file at a final path.
    @discardableResult
    public func render(to folder: URL, kinds: [StackKind]? = nil) throws -> [StackKind: URL] {
        let selected = kinds ?? stacks
        let templates = try selected.map { ($0, try template(for: $0)) }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw TemplateError.writeFailed(path: folder.path, reason: "cannot create the folder (\(error.localizedDescription))")
        }
        var written: [StackKind: URL] = [:]
        for (kind, template) in templates {
            let url = folder.appendingPathComponent(kind.fileName)
            do {
                try AtomicFileWriter.write(template.jsonData(), to: url.path)
            } catch {
                throw TemplateError.writeFailed(path: url.path, reason: "\(error)")
            }
            written[kind] = url
        }
        return written
    }
}
