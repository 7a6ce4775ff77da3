import Foundation
import Support
import OCI
import StackshipTesting
import Testing

/// Hostile images through the CLI, as a user meets them: `load` an archive someone published,
/// then `unpack` or `run` it. Each case checks the outcome (a one-line error and exit 1 where
/// the image is refused), that a canary file on the host keeps its mode, content and mtime,
/// that the unpack target's parent keeps its content, and that nothing is left in the store,
/// the host state (roots, containers) or beside the target.
@Suite(.serialized) struct HostileImageIntegrationTests {
    /// A project with a canary (`victim/canary`, 0644, mtime 1e6) and a folder `out/` holding a
    /// sentinel, into which `unpack` writes `out/root`.
    final class Scene {
        let project = Project()
        var env: [String: String] { ["STACKSHIP_STORE": project.store] }
        var canary: String { project.path + "/victim/canary" }
        var out: String { project.path + "/out" }

        init() throws {
            try project.write("victim/canary", "canary\n")
            try project.write("out/sentinel", "mine\n")
            var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
            utimensat(AT_FDCWD, canary, &times, 0)
        }

        func canaryState() -> String {
            var st = stat()
            lstat(canary, &st)
            let content = (try? String(contentsOfFile: canary, encoding: .utf8)) ?? "missing"
            return "mode=\(String(st.st_mode & 0o7777, radix: 8)) mtime=\(st.st_mtim.tv_sec) content=\(content)"
        }

        func cli(_ args: [String]) throws -> Result { try stackship(args, cwd: project.path, env: env) }

        /// Loads an archive of `layers` as evil:latest.
        @discardableResult
        func load(_ layers: [HostileImage.Layer], expectOK: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
            try HostileImage.archive(at: project.path + "/evil.tar", layers: layers)
            let r = try cli(["load", "evil.tar"])
            if expectOK { #expect(r.status == 0, "\(r.err)", sourceLocation: sourceLocation) }
            return r
        }

        /// Names in `dir` (hidden ones too), sorted; empty when it does not exist.
        func listing(_ dir: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        }

        /// What a failed unpack or run might leave: staging beside the target, roots, containers.
        func leftovers() -> [String] {
            listing(out).filter { $0 != "sentinel" }.map { "out/\($0)" }
                + listing(project.state + "/roots").map { "roots/\($0)" }
                + listing(project.state + "/containers").filter { !$0.hasPrefix(".") }.map { "containers/\($0)" }
                + listing(project.store).filter { $0.hasPrefix(".tmp-") }.map { "store/\($0)" }
        }
    }

    // MARK: Critical: a hardlink to a symlink, then chmod

    @Test func aHardlinkToASymlinkOfAHostFileLeavesTheHostFileAlone() throws {
        try requireTool("runc", package: "runc")
        let s = try Scene()
        let before = s.canaryState()
        let evil = try HostileImage.tar([TarEntry(path: "s", kind: .symlink, mode: 0o777, linkTarget: s.canary),
                                         TarEntry(path: "h", kind: .hardlink, mode: 0o4777, linkTarget: "s")])
        try s.load([.init(bytes: try HostileImage.busyboxLayer()), .init(bytes: evil)])
        let unpack = try s.cli(["unpack", "evil", s.out + "/root"])
        #expect(unpack.status == 0, "\(unpack.err)")
        var st = stat()
        lstat(s.out + "/root/h", &st)
        #expect(st.st_mode & S_IFMT == S_IFLNK, "h is a link to the symlink, as tar makes it")
        #expect(s.canaryState() == before)
        let run = try s.cli(["run", "--rm", "evil", "/bin/true"])
        #expect(run.status == 0, "\(run.err)")
        #expect(s.canaryState() == before)
        #expect(before == "mode=644 mtime=1000000 content=canary\n")
    }

    // MARK: Critical: a whiteout named '..'

    @Test func aWhiteoutOfDotDotIsRefusedAndTheTargetsParentIsKept() throws {
        try requireTool("runc", package: "runc")
        let s = try Scene()
        let evil = try HostileImage.tar([TarEntry(path: ".wh...", kind: .regular, mode: 0o644)])
        try s.load([.init(bytes: try HostileImage.busyboxLayer()), .init(bytes: evil)])
        let layer = Digest.compute(evil).description
        expectCleanFailure(try s.cli(["unpack", "evil", s.out + "/root"]), [layer, ".wh...", "whiteout"])
        #expect(s.listing(s.out) == ["sentinel"], "the target's parent keeps its content, and no staging is left")
        expectCleanFailure(try s.cli(["run", "--rm", "evil", "/bin/true"]), [layer, ".wh..."])
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
        #expect(try s.cli(["ps", "-a", "-q"]).out.isEmpty)
    }

    // MARK: High: negative sizes

    @Test(arguments: ["pax", "base256"])
    func aNegativeEntrySizeIsAnErrorNamingTheLayer(form: String) throws {
        try requireTool("runc", package: "runc")
        let s = try Scene()
        let evil: Data
        if form == "pax" {
            evil = HostileImage.raw([HostileImage.pax([("size", "-1")]), HostileImage.header("file")])
        } else {
            // GNU base-256 with the sign bit set: -1.
            evil = HostileImage.raw([HostileImage.header("file", base256Size: [0xff] + [UInt8](repeating: 0xff, count: 11))])
        }
        try s.load([.init(bytes: try HostileImage.busyboxLayer()), .init(bytes: evil)])
        let layer = Digest.compute(evil).description
        expectCleanFailure(try s.cli(["unpack", "evil", s.out + "/root"]), [layer, "file"])
        expectCleanFailure(try s.cli(["run", "--rm", "evil", "/bin/true"]), [layer])
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
        #expect(try s.cli(["ps", "-a", "-q"]).out.isEmpty)
        // The same bytes as an archive: load refuses them, and the store gets nothing.
        try evil.write(to: URL(fileURLWithPath: s.project.path + "/raw.tar"))
        let fresh = try Scene()
        try evil.write(to: URL(fileURLWithPath: fresh.project.path + "/raw.tar"))
        expectCleanFailure(try fresh.cli(["load", "raw.tar"]), ["raw.tar"])
        #expect(fresh.listing(fresh.project.store + "/blobs/sha256").isEmpty)
    }

    // MARK: Medium: load checks diffIDs

    @Test func anOCIArchiveWhoseConfigLiesAboutALayerLoadsNothing() throws {
        let s = try Scene()
        let layer = try HostileImage.tar([TarEntry(path: "a", kind: .regular, mode: 0o644)], content: ["a": "real"])
        let claimed = Digest.compute(Data("something else".utf8))
        let r = try s.load([.init(bytes: layer, claimedDiffID: claimed)], expectOK: false)
        expectCleanFailure(r, [Digest.compute(layer).description, claimed.description])
        #expect(try s.cli(["images", "-q"]).out.isEmpty)
        #expect(s.listing(s.project.store + "/blobs/sha256").isEmpty, "no blob of the refused image is left")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test func anUnknownLayerMediaTypeIsRefusedByName() throws {
        let s = try Scene()
        let layer = try HostileImage.tar([TarEntry(path: "a", kind: .regular, mode: 0o644)])
        let r = try s.load([.init(bytes: layer, mediaType: "application/vnd.oci.image.layer.v1.tar+lz4")], expectOK: false)
        expectCleanFailure(r, ["application/vnd.oci.image.layer.v1.tar+lz4", Digest.compute(layer).description])
        #expect(s.listing(s.project.store + "/blobs/sha256").isEmpty)
    }

    @Test func aCorruptCompressedLayerIsNamed() throws {
        let s = try Scene()
        let layer = try HostileImage.tar([TarEntry(path: "a", kind: .regular, mode: 0o644)], content: ["a": String(repeating: "x", count: 4096)])
        let sink = DataSink()
        let gzip = GzipCompressor(next: sink)
        try gzip.write(contentsOf: layer)
        try gzip.finish()
        let truncated = sink.data.prefix(sink.data.count - 12)
        let r = try s.load([.init(bytes: Data(truncated), mediaType: MediaType.ociLayerGzip, claimedDiffID: Digest.compute(layer))], expectOK: false)
        expectCleanFailure(r, [Digest.compute(Data(truncated)).description, "gzip"])
        #expect(s.listing(s.project.store + "/blobs/sha256").isEmpty)
    }

    // MARK: Low: devices stay out of unpack's folder

    @Test func unpackCreatesDeviceNodesOnlyWhenAsked() throws {
        let s = try Scene()
        var device = TarEntry(path: "dev/evil", kind: .characterDevice, mode: 0o666)
        device.deviceMajor = 1
        device.deviceMinor = 3
        try s.load([.init(bytes: try HostileImage.tar([TarEntry(path: "dev", kind: .directory, mode: 0o755), device]))])
        #expect(try s.cli(["unpack", "evil", s.out + "/plain"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: s.out + "/plain/dev/evil"))
        #expect(FileManager.default.fileExists(atPath: s.out + "/plain/dev"))
        let devices = try s.cli(["unpack", "--devices", "evil", s.out + "/devices"])
        #expect(devices.status == 0, "\(devices.err)")
        if geteuid() == 0 {
            var st = stat()
            #expect(lstat(s.out + "/devices/dev/evil", &st) == 0 && st.st_mode & S_IFMT == S_IFCHR)
        }
    }

    // MARK: Low: what interruptions leave is reclaimed

    /// An image of many small files, so an unpack takes long enough to be interrupted.
    func bigImage(_ s: Scene) throws {
        var entries = [TarEntry(path: "many", kind: .directory, mode: 0o755)]
        for i in 0..<20_000 { entries.append(TarEntry(path: "many/f\(i)", kind: .regular, mode: 0o644)) }
        try s.load([.init(bytes: try HostileImage.busyboxLayer()), .init(bytes: try HostileImage.tar(entries))])
    }

    /// Starts `args`, waits until `appears` lists something, then kills it with SIGKILL.
    func killWhile(_ s: Scene, _ args: [String], appears: () -> [String]) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try stackshipBinary())
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: s.project.path)
        process.environment = testEnvironment(cwd: s.project.path).merging(s.env) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var seen: [String] = []
        for _ in 0..<2000 where seen.isEmpty {
            seen = appears()
            if seen.isEmpty { usleep(5_000) }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return seen
    }

    @Test func anInterruptedUnpackIsCleanedUpByTheNextOne() throws {
        let s = try Scene()
        try bigImage(s)
        let seen = try killWhile(s, ["unpack", "evil", s.out + "/root"]) { s.listing(s.out).filter { $0.hasPrefix(".stackship-unpack-") } }
        #expect(!seen.isEmpty, "the unpack finished before it could be interrupted")
        #expect(s.listing(s.out).contains(seen.first ?? "?"), "SIGKILL leaves the staging directory")
        usleep(1_100_000) // staging younger than a second is never taken for abandoned
        let again = try s.cli(["unpack", "evil", s.out + "/again"])
        #expect(again.status == 0, "\(again.err)")
        #expect(s.listing(s.out) == ["again", "sentinel"])
    }

    @Test func anInterruptedRunsRootIsReclaimedByGC() throws {
        try requireTool("runc", package: "runc")
        let s = try Scene()
        try bigImage(s)
        let roots = s.project.state + "/roots"
        let seen = try killWhile(s, ["run", "--rm", "evil", "/bin/true"]) { s.listing(roots).filter { $0.hasPrefix(".tmp-") } }
        #expect(!seen.isEmpty, "the run finished unpacking before it could be interrupted")
        #expect(!s.listing(roots).filter { $0.hasPrefix(".tmp-") }.isEmpty)
        usleep(1_100_000)
        let gc = try s.cli(["gc"])
        #expect(gc.status == 0, "\(gc.err)")
        #expect(gc.out.contains("temporary file"), "\(gc.out)")
        #expect(s.listing(roots).filter { $0.hasPrefix(".tmp-") }.isEmpty)
        // The interrupted run's container record is removed by rm, as docker's would be.
        for id in try s.cli(["ps", "-a", "-q"]).out.split(separator: "\n") {
            #expect(try s.cli(["rm", "-f", String(id)]).status == 0)
        }
        #expect(try HostMounts.lines(containing: s.project.path).isEmpty, "no mount (a pinned namespace, an overlay) is left")
        #expect(try s.cli(["run", "--rm", "evil", "/bin/true"]).status == 0)
    }
}
