import Foundation
import Testing
@testable import Pipelines

/// Everything rendered and emitted for the two examples, compared with files under Golden/.
/// Regenerate with PIPELINES_REGENERATE_GOLDEN=1 and review the diff.
@Suite("Pipelines golden files")
struct GoldenTests {
    static func outputs(_ input: PlanInput, options: Plan.Options) throws -> [String: String] {
        let plan = try Plan.make(from: input, options: options)
        var files: [String: String] = [
            "plan.txt": PlanRenderer.text(plan),
            "graph.dot": PlanRenderer.dot(plan),
            "graph.mmd": PlanRenderer.mermaid(plan),
            "graph.html": PlanRenderer.html(plan),
        ]
        for backend in CIBackend.allCases {
            let out = try backend.emit(plan)
            for (path, text) in out.files { files["\(backend.rawValue)/\(path)"] = text }
            files["\(backend.rawValue)/NOTES.txt"] = out.notes.map { $0 + "\n" }.joined()
        }
        return files
    }

    @Test(arguments: ["hello", "hpc"]) func matchesGoldenFiles(example: String) throws {
        let (input, options): (PlanInput, Plan.Options) = example == "hello"
            ? (Fixtures.hello, .init()) : (Fixtures.hpc, .init(pruneUnchanged: true))
        let files = try Self.outputs(input, options: options)
        let root = Fixtures.goldenRoot.appendingPathComponent(example)
        if ProcessInfo.processInfo.environment["PIPELINES_REGENERATE_GOLDEN"] == "1" {
            try? FileManager.default.removeItem(at: root)
            try PipelineWriter.write(EmittedPipeline(backend: "golden", files: files), to: root)
        }
        let stored = (FileManager.default.subpaths(atPath: root.path) ?? []).filter {
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: root.appendingPathComponent($0).path, isDirectory: &isDir)
            return !isDir.boolValue
        }
        #expect(Set(stored) == Set(files.keys), "golden files for \(example) (set PIPELINES_REGENERATE_GOLDEN=1 to regenerate)")
        for (path, text) in files {
            let golden = try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
            #expect(golden == text, "\(example)/\(path) differs from its golden file (set PIPELINES_REGENERATE_GOLDEN=1 to regenerate, then review the diff)")
        }
    }
}
