import Foundation
import Testing

@testable import AWSTemplates
import Stack

/// The realistic example's templates, byte for byte. Regenerate after an intended change with
/// `STACKSHIP_UPDATE_GOLDEN=1 swift test --filter GoldenTemplateTests` and review the diff.
@Suite("Golden templates")
struct GoldenTemplateTests {
    static let regenerate = ProcessInfo.processInfo.environment["STACKSHIP_UPDATE_GOLDEN"] == "1"

    @Test("Each kind matches its golden file", arguments: StackKind.allCases)
    func matchesGolden(kind: StackKind) throws {
        let settings = try TemplateFixtures.settings(TemplateFixtures.realistic)
        let bytes = try settings.template(for: kind).jsonData()
        let golden = TemplateFixtures.goldenFolder.appendingPathComponent(kind.fileName)
        if Self.regenerate {
            try FileManager.default.createDirectory(at: TemplateFixtures.goldenFolder, withIntermediateDirectories: true)
            try bytes.write(to: golden, options: .atomic)
        }
        let expected = try Data(contentsOf: golden)
        #expect(bytes == expected, "\(kind.fileName) differs from its golden file; if intended, regenerate with STACKSHIP_UPDATE_GOLDEN=1")
    }

    @Test("Same settings, same bytes; render(to:) writes exactly the template's JSON")
    func deterministic() throws {
        let first = try TemplateFixtures.settings(TemplateFixtures.realistic)
        // Decode again, so dictionaries are rebuilt with (possibly) different hash seeds and orders.
        let second = try TemplateFixtures.settings(TemplateFixtures.realistic)
        let folder = try TemplateFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let written = try first.render(to: folder)
        for kind in StackKind.allCases {
            let a = try first.template(for: kind)
            let b = try second.template(for: kind)
            #expect(a.jsonData() == b.jsonData(), "\(kind)")
            #expect(a.yamlString() == b.yamlString(), "\(kind)")
            #expect(try Data(contentsOf: try #require(written[kind])) == a.jsonData(), "\(kind)")
            let text = a.jsonString()
            #expect(text.hasSuffix("}\n") && !text.hasSuffix("\n\n"))
            #expect(!text.contains("\\/"), "slashes are not escaped")
        }
        // Rendering again replaces the files and leaves no temporary file behind.
        try first.render(to: folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names == StackKind.allCases.map(\.fileName).sorted())
    }

    @Test("A folder that cannot be written is a clear error")
    func unwritableFolder() throws {
        let folder = try TemplateFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: file)
        let settings = try TemplateFixtures.settings(TemplateFixtures.realistic)
        let error = #expect(throws: TemplateError.self) { try settings.render(to: file.appendingPathComponent("out")) }
        #expect(error?.description.contains("could not write") == true)
    }
}
