import Foundation
import Testing

@testable import AWSTemplates
import Stack

/// Every kind's template, written by `render(to:)`, passes cfn-lint with no error, warning or output.
@Suite("Stack templates pass cfn-lint")
struct StackTemplateLintIntegrationTests {
    static let examples: [(name: String, yaml: String)] = [
        ("realistic", TemplateFixtures.realistic),
        ("edge cases", TemplateFixtures.edgeCases),
        ("minimal", """
            aws:
              project: mini
              source_credentials: [{server_type: GITHUB, secret: gh}]
              ci_build: {source: {location: "https://github.com/a/b"}}
              release_build: {source: {location: "https://github.com/a/b"}}
              registry: {github_repository: a/b}
              service: {image: "r.example/x@\(TemplateFixtures.digest)"}
              event_job: {image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/x@\(TemplateFixtures.digest)"}
            """),
    ]

    @Test("JSON templates lint clean", arguments: 0..<3)
    func jsonLintsClean(example: Int) throws {
        let (name, yaml) = Self.examples[example]
        let settings = try TemplateFixtures.settings(yaml)
        #expect(settings.stacks == StackKind.allCases, "\(name): every kind is configured")
        let folder = try TemplateFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let written = try settings.render(to: folder)
        #expect(Set(written.keys) == Set(StackKind.allCases))
        for (kind, url) in written { #expect(url.lastPathComponent == "\(kind.rawValue).json") }
        let result = try CfnLint.run(written.values.sorted { $0.path < $1.path })
        #expect(result.status == 0, "\(name): cfn-lint exit \(result.status)\n\(result.output)")
        #expect(result.output.isEmpty, "\(name): cfn-lint said:\n\(result.output)")
    }

    @Test("The public registry and an event job with an output prefix lint clean, as JSON and YAML")
    func publicRegistryAndOutputPrefixLintClean() throws {
        let folder = try TemplateFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var files: [URL] = []
        for (name, yaml, kind) in [("public", PublicRegistryAndOutputPrefixTests.publicRegistry, StackKind.registry),
                                   ("output", PublicRegistryAndOutputPrefixTests.outputJob, StackKind.eventJob)] {
            let template = try TemplateFixtures.settings(yaml).template(for: kind)
            for (ext, text) in [("json", template.jsonString()), ("yaml", template.yamlString())] {
                let url = folder.appendingPathComponent("\(name)-\(kind.rawValue).\(ext)")
                try Data(text.utf8).write(to: url)
                files.append(url)
            }
        }
        #expect(try String(contentsOf: files[0], encoding: .utf8).contains("AWS::ECR::PublicRepository"))
        let result = try CfnLint.run(files)
        #expect(result.status == 0, "cfn-lint exit \(result.status)\n\(result.output)")
        #expect(result.output.isEmpty, "cfn-lint said:\n\(result.output)")
    }

    @Test("The lint harness fails a template cfn-lint finds wrong")
    func lintCatchesErrors() throws {
        let folder = try TemplateFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let broken = CloudFormationTemplate(resources: ["Bucket": .init("AWS::S3::Bucket", properties: ["BucketNam": "x"])])
        let url = folder.appendingPathComponent("broken.json")
        try broken.jsonData().write(to: url)
        let result = try CfnLint.run([url])
        #expect(result.status != 0)
        #expect(result.output.contains("BucketNam"))
    }

    @Test("YAML renderings lint clean and mean the same as the JSON")
    func yamlLintsClean() throws {
        let folder = try TemplateFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var files: [URL] = []
        for (n, example) in Self.examples.enumerated() {
            let settings = try TemplateFixtures.settings(example.yaml)
            for kind in settings.stacks {
                let template = try settings.template(for: kind)
                let url = folder.appendingPathComponent("\(n)-\(kind.rawValue).yaml")
                try Data(template.yamlString().utf8).write(to: url)
                files.append(url)
                let fromYAML = try YAMLCheck.jsonEquivalent(of: template.yamlString())
                let fromJSON = try JSONSerialization.jsonObject(with: template.jsonData()) as? NSDictionary
                #expect(fromYAML == fromJSON, "\(example.name) \(kind): YAML and JSON differ")
            }
        }
        let result = try CfnLint.run(files)
        #expect(result.status == 0, "cfn-lint exit \(result.status)\n\(result.output)")
        #expect(result.output.isEmpty, "cfn-lint said:\n\(result.output)")
    }
}

import Yams

enum YAMLCheck {
    /// Loads YAML and returns it as Foundation objects shaped like JSONSerialization's.
    static func jsonEquivalent(of yaml: String) throws -> NSDictionary? {
        let loaded = try Yams.load(yaml: yaml)
        let data = try JSONSerialization.data(withJSONObject: normalise(loaded as Any))
        return try JSONSerialization.jsonObject(with: data) as? NSDictionary
    }

    private static func normalise(_ value: Any) -> Any {
        switch value {
        case let d as [AnyHashable: Any]: Dictionary(uniqueKeysWithValues: d.map { ("\($0.key)", normalise($0.value)) })
        case let a as [Any]: a.map(normalise)
        default: value
        }
    }
}
