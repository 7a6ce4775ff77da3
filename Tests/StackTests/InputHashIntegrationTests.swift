import Foundation
import Testing
@testable import Stack
import Support

/// What a package's input hash covers beyond its recipe text.
struct InputHashIntegrationTests {
    @Test func aSwiftPackageHashCoversTheToolchainAndASpackOneTheSpackVersion() throws {
        let swiftVersion = InputHasher.toolVersion("swift")
        #expect(swiftVersion.contains("Swift version"), "\(swiftVersion)")
        let hasher = InputHasher(sources: PackageSources(mirrors: NSTemporaryDirectory() + "mirrors-\(UUID().uuidString)"), builderDigest: nil)
        let directory = NSTemporaryDirectory() + "hash-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/tool", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let stack = try StackFile.parse(yaml: """
            version: 2
            packages:
              tool:
                source: ./tool
                build: {swift: tool}
              sci:
                build: {spack: {specs: [zlib]}}
            """, path: directory + "/stack.yaml", directory: directory)
        let swift = try hasher.recipe(try stack.package(named: "tool"))
        #expect(swift["toolchain"] as? String == swiftVersion)
        let spack = try hasher.recipe(try stack.package(named: "sci"))
        // No spack here: recorded as absent, so installing spack later changes the hash.
        #expect(spack["spack"] as? String == (ChildProcessProbe.onPath("spack") ? InputHasher.toolVersion("spack") : "absent"))
    }
}

enum ChildProcessProbe {
    static func onPath(_ tool: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)")
        }
    }
}
