import Foundation
import StackshipTesting
import Testing

/// Issue 20's conformance suite: each case's Dockerfile is built by `stackship build -f` and by
/// buildah against the same busybox base in a loopback registry; each image is held to docker's
/// documented result, and the two images' configs and merged file lists to each other.
///
/// Needs root (buildah's chroot isolation, stackship's RUN under runc), buildah, skopeo,
/// docker-registry and busybox-static. Cases run one at a time: each builds twice, and the
/// machines this runs on have few cores.
@Suite(.serialized) struct DockerfileConformanceIntegrationTests {
    @Test func theSuiteCoversTheFeatureList() {
        let names = ConformanceCases.all.map(\.name)
        #expect(names.count >= 40, "\(names.count) cases")
        #expect(Set(names).count == names.count, "repeated names: \(Dictionary(grouping: names) { $0 }.filter { $0.value.count > 1 }.keys.sorted())")
        for c in ConformanceCases.all {
            // A case that expects nothing beyond its base could not fail.
            #expect(!c.config.isEmpty || !c.files.isEmpty || !c.absent.isEmpty, "\(c.name) expects nothing")
            for d in c.buildah {
                switch d {
                case .cannotBuild(let why), .config(_, let why), .path(_, let why):
                    #expect(!why.isEmpty, "\(c.name): a difference without a reason")
                }
            }
        }
    }

    @Test(arguments: ConformanceCases.all)
    func dockerfileCase(_ c: ConformanceCase) async throws {
        try requireTool("skopeo", package: "skopeo")
        let root = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try await LocalRegistry.start()
        defer { registry.stop() }
        try BusyboxBase.write(layout: root + "/base")
        try registry.push(layout: root + "/base", ref: "busybox:1", as: "busybox:1")
        let workspace = try CaseWorkspace(for: c, registry: registry.host, root: root + "/case")

        // The reference: buildah, held to the same expectations except where it is known to differ.
        let buildah = try BuildahDriver.build(c, in: workspace)
        if let why = c.buildah.first(where: \.cannotBuild) {
            #expect(buildah.status != 0, "buildah built \(c.name), which the case says it cannot (\(why)): drop that difference\n\(buildah.tail)")
        } else {
            #expect(buildah.status == 0, "buildah failed on \(c.name):\n\(buildah.tail)")
            if let image = buildah.image {
                let failures = ConformanceCheck.failures(of: image, against: c, skippingFields: c.buildahSkippedFields,
                                                         skippingPaths: c.buildahSkippedPaths)
                #expect(failures.isEmpty, "buildah's image of \(c.name) is not what docker documents:\n\(failures.joined(separator: "\n"))")
            }
        }

        // stackship, held to all of them.
        let ours = try StackshipDriver.build(c, in: workspace)
        #expect(ours.status == 0, "stackship build failed on \(c.name):\n\(ours.tail)")
        guard let image = ours.image else { return }
        let failures = ConformanceCheck.failures(of: image, against: c)
        #expect(failures.isEmpty, "stackship's image of \(c.name) is not what docker documents:\n\(failures.joined(separator: "\n"))")

        // And the two images against each other, beyond what the case names.
        if let reference = buildah.image {
            let differences = ConformanceCheck.differences((StackshipDriver.name, image), (BuildahDriver.name, reference), of: c,
                                                           skippingFields: c.buildahSkippedFields, skippingPaths: c.buildahSkippedPaths)
            #expect(differences.isEmpty, "stackship's and buildah's images of \(c.name) differ:\n\(differences.joined(separator: "\n"))")
        }
    }

    /// A fresh directory under the real temporary directory (buildah and runc want real paths).
    static func scratchDirectory() throws -> String {
        let base = realpath(NSTemporaryDirectory(), nil).map { p in defer { free(p) }; return String(cString: p) } ?? "/tmp"
        let path = base + "/stackship-conformance-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
