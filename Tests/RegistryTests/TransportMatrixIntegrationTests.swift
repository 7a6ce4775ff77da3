import Foundation
import OCI
import Testing
@testable import Registry

/// `stackship copy` between every pair of its five transports (the store, an OCI layout
/// directory, an OCI archive, a docker archive, a registry), each result read by the peer tool
/// on the other side: skopeo inspects layouts, archives and the registry, umoci unpacks
/// layouts, stackship unpacks the store. The manifest digest survives every hop that does not
/// go through a docker archive (whose format holds uncompressed layers and no manifest).
@Suite(.serialized) struct TransportMatrixIntegrationTests {
    enum Kind: String, CaseIterable, CustomStringConvertible {
        case store, layout, ociArchive, dockerArchive, registry
        var description: String { rawValue }
    }

    final class World {
        let cli: RegistryCLIIntegrationTests
        let registry: RegistryFixture
        var counter = 0

        init(cli: RegistryCLIIntegrationTests, registry: RegistryFixture) {
            self.cli = cli
            self.registry = registry
        }

        /// A new location of `kind`, in stackship's (and skopeo's) syntax.
        func fresh(_ kind: Kind) -> String {
            counter += 1
            switch kind {
            case .store: return "store:copy\(counter):1"
            case .layout: return "oci:\(cli.home)/layout\(counter):v1"
            case .ociArchive: return "oci-archive:\(cli.home)/oci\(counter).tar:v1"
            case .dockerArchive: return "docker-archive:\(cli.home)/docker\(counter).tar:copy\(counter):1"
            case .registry: return "docker://\(registry.host)/matrix/copy\(counter):1"
            }
        }

        func tool(_ program: String, _ args: [String]) throws -> (Int32, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [program] + args
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }

        /// The peer tool reads what is at `location`; returns a short failure or nil.
        func peerReads(_ location: String, kind: Kind) throws -> String? {
            switch kind {
            case .store:
                let name = String(location.dropFirst("store:".count))
                let target = cli.home + "/unpacked\(counter)"
                let r = try cli.stackship(["unpack", name, target])
                return r.status == 0 && FileManager.default.fileExists(atPath: target + "/app/greeting.txt") ? nil : "stackship unpack: \(r.err)"
            case .layout:
                let (s1, o1) = try tool("skopeo", ["inspect", location])
                guard s1 == 0 else { return "skopeo inspect: \(o1)" }
                let bundle = cli.home + "/bundle\(counter)"
                let (s2, o2) = try tool("umoci", ["unpack", "--rootless", "--image", String(location.dropFirst("oci:".count)), bundle])
                return s2 == 0 && FileManager.default.fileExists(atPath: bundle + "/rootfs/app/greeting.txt") ? nil : "umoci unpack: \(o2)"
            case .ociArchive, .dockerArchive:
                let (s, o) = try tool("skopeo", ["inspect", kind == .dockerArchive ? String(location.prefix(upTo: location.range(of: ".tar")!.upperBound)) : location])
                return s == 0 ? nil : "skopeo inspect: \(o)"
            case .registry:
                let (s, o) = try tool("skopeo", ["inspect", "--tls-verify=false", location])
                return s == 0 ? nil : "skopeo inspect: \(o)"
            }
        }
    }

    @Test func everyTransportToEveryOther() async throws {
        let registry = try await RegistryFixture.start(.plain)
        defer { registry.stop() }
        let cli = try RegistryCLIIntegrationTests()
        try cli.buildImage("app:1")
        let world = World(cli: cli, registry: registry)
        let original = try OCILayoutStore(root: cli.home + "/store", create: false).resolve("app:1").descriptor.digest

        // A seed of the image at each kind of location.
        var seeds: [Kind: String] = [.store: "store:app:1"]
        for kind in Kind.allCases where kind != .store {
            let location = world.fresh(kind)
            let r = try cli.stackship(["copy", "store:app:1", location])
            #expect(r.status == 0, "seed \(kind): \(r.err)")
            seeds[kind] = location
        }
        for from in Kind.allCases {
            for to in Kind.allCases {
                let destination = world.fresh(to)
                let r = try cli.stackship(["copy", seeds[from]!, destination])
                #expect(r.status == 0, "\(from) → \(to): \(r.err)")
                guard r.status == 0 else { continue }
                if let failure = try world.peerReads(destination, kind: to) {
                    Issue.record("\(from) → \(to): \(failure)")
                }
                if from != .dockerArchive && to != .dockerArchive {
                    #expect(r.out.contains(original.description), "\(from) → \(to) kept the digest: \(r.out)")
                }
            }
        }
    }

    @Test func anImageUmociMadeRunsAfterCopyAndAfterLoad() async throws {
        let cli = try RegistryCLIIntegrationTests()
        let world = World(cli: cli, registry: try await RegistryFixture.start(.plain))
        defer { world.registry.stop() }
        let layout = cli.home + "/umoci"
        let busybox = ["/bin/busybox", "/usr/bin/busybox"].first { FileManager.default.fileExists(atPath: $0) }!
        // unpack, add busybox, repack (umoci 0.4.7's `insert` writes a layer cut short before
        // its end-of-archive blocks, which GNU tar refuses too).
        let bundle = cli.home + "/umoci-bundle"
        for args in [["init", "--layout", layout], ["new", "--image", layout + ":made"],
                     ["unpack", "--rootless", "--image", layout + ":made", bundle]] {
            let (status, output) = try world.tool("umoci", args)
            #expect(status == 0, "umoci \(args.joined(separator: " ")): \(output)")
        }
        try FileManager.default.createDirectory(atPath: bundle + "/rootfs/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: busybox, toPath: bundle + "/rootfs/bin/busybox")
        for args in [["repack", "--image", layout + ":made", bundle],
                     ["config", "--image", layout + ":made", "--config.entrypoint", "/bin/busybox", "--config.cmd", "echo", "--config.cmd", "made by umoci"]] {
            let (status, output) = try world.tool("umoci", args)
            #expect(status == 0, "umoci \(args.joined(separator: " ")): \(output)")
        }
        let copied = try cli.stackship(["copy", "oci:\(layout):made", "store:umoci:1"])
        #expect(copied.status == 0, "\(copied.err)")
        let run = try cli.stackship(["run", "--rm", "umoci:1"])
        #expect(run.status == 0 && run.out.contains("made by umoci"), "\(run.out) \(run.err)")
        // `load DIR`: the layout's bare ref name `made` names the image after the folder.
        let loaded = try cli.stackship(["load", layout])
        #expect(loaded.status == 0 && loaded.out.contains("Loaded image: umoci:made"), "\(loaded.out) \(loaded.err)")
        let again = try cli.stackship(["run", "--rm", "umoci:made"])
        #expect(again.status == 0 && again.out.contains("made by umoci"), "\(again.out) \(again.err)")
    }
}
