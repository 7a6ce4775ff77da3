#if canImport(Glibc)
import Glibc
#endif
import BuildCache
import Foundation
import Support
import OCI
import Testing

/// Extraction never writes outside its directory: every escape attempt is refused and the
/// places it aimed at are unchanged.
@Suite("Safe extraction")
struct ExtractionTests {
    final class Place {
        let dir = Scratch.makeDirectory()
        var root: String { dir + "/root" }
        var outside: String { dir + "/outside" }
        init() {
            try! FileManager.default.createDirectory(atPath: dir + "/root", withIntermediateDirectories: true)
            try! FileManager.default.createDirectory(atPath: dir + "/outside", withIntermediateDirectories: true)
            try! Scratch.write(dir + "/outside/victim", "original")
        }
        deinit { Scratch.remove(dir) }

        /// A tar.gz of `entries` (content given per regular file).
        func artifact(_ entries: [(TarEntry, String)]) throws -> String {
            let sink = DataSink()
            let tar = TarWriter(sink: sink)
            for (e, content) in entries { try tar.write(e, content: Array(content.utf8)) }
            try tar.finish()
            let path = dir + "/a-\(UUID().uuidString).tar.gz"
            let file = try AtomicFileWriter(destination: path)
            let gz = try Compressor.sink(.gzip, next: file)
            try gz.write(contentsOf: sink.data)
            try gz.finish()
            try file.commit()
            return path
        }

        var outsideUnchanged: Bool {
            Scratch.listing(outside) == ["victim"] && Scratch.read(outside + "/victim") == "original"
                && Scratch.listing(dir).allSatisfy { $0.hasPrefix("root") || $0.hasPrefix("outside") || $0.hasPrefix("a-") }
        }
    }

    static func file(_ path: String, _ content: String = "x") -> (TarEntry, String) {
        (TarEntry(path: path, kind: .regular, mode: 0o644, size: Int64(content.utf8.count)), content)
    }
    static func link(_ path: String, to target: String) -> (TarEntry, String) {
        (TarEntry(path: path, kind: .symlink, mode: 0o777, linkTarget: target), "")
    }
    static func hardlink(_ path: String, to target: String) -> (TarEntry, String) {
        (TarEntry(path: path, kind: .hardlink, mode: 0o644, linkTarget: target), "")
    }

    func refuses(_ entries: [(TarEntry, String)], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let place = Place()
        let artifact = try place.artifact(entries)
        #expect(sourceLocation: sourceLocation) { _ = try ArtifactExtractor.extract(artifact, into: place.root) } throws: { error in
            guard let e = error as? OCIError, case .unsafeEntry = e else { return false }
            return true
        }
        #expect(place.outsideUnchanged, "something outside the root changed", sourceLocation: sourceLocation)
    }

    @Test func dotDotPaths() throws {
        try refuses([Self.file("../outside/victim", "pwned")])
        try refuses([Self.file("bin/../../outside/victim", "pwned")])
        try refuses([Self.file("ok"), Self.file("a/b/../../../outside/new", "pwned")])
    }

    @Test func writingThroughASymlinkToOutside() throws {
        let place = Place()
        try refuses([Self.link("escape", to: place.outside), Self.file("escape/victim", "pwned")])
        try refuses([Self.link("escape", to: "../outside"), Self.file("escape/new", "pwned")])
        try refuses([Self.link("up", to: ".."), Self.file("up/outside/victim", "pwned")])
        // A symlink in the middle of the path.
        try refuses([(TarEntry(path: "lib", kind: .directory, mode: 0o755), ""), Self.link("lib/x", to: "/"), Self.file("lib/x/tmp/pwned", "pwned")])
    }

    @Test func replacingASymlinkNeverWritesThroughIt() throws {
        // A file entry at a symlink's path replaces the link, it never writes its target.
        let place = Place()
        let artifact = try place.artifact([Self.link("victim", to: place.outside + "/victim"), Self.file("victim", "inside")])
        _ = try ArtifactExtractor.extract(artifact, into: place.root)
        #expect(Scratch.read(place.root + "/victim") == "inside")
        #expect(place.outsideUnchanged)
    }

    @Test func hardlinksOutOfTheRoot() throws {
        try refuses([Self.hardlink("stolen", to: "../outside/victim")])
        let place = Place()
        try refuses([Self.link("escape", to: place.outside), Self.hardlink("stolen", to: "escape/victim")])
    }

    @Test func devicesAreRefused() throws {
        try refuses([(TarEntry(path: "dev/null", kind: .characterDevice, mode: 0o666), "")])
    }

    @Test func absolutePathsLandInsideTheRoot() throws {
        let place = Place()
        let artifact = try place.artifact([Self.file(place.outside + "/victim", "inside"), Self.file("/etc/conf", "c")])
        _ = try ArtifactExtractor.extract(artifact, into: place.root)
        #expect(Scratch.read(place.root + place.outside + "/victim") == "inside")
        #expect(Scratch.read(place.root + "/etc/conf") == "c")
        #expect(place.outsideUnchanged)
    }

    @Test func limitsStopBombs() throws {
        let place = Place()
        let artifact = try place.artifact([Self.file("a", String(repeating: "a", count: 5000)), Self.file("b", String(repeating: "b", count: 5000))])
        #expect(throws: OCIError.extractionLimit(layer: "package artifact \(artifact)", what: "bytes", limit: 8000)) {
            _ = try ArtifactExtractor.extract(artifact, into: place.root, limits: ExtractionLimits(maxBytes: 8000))
        }
        #expect(throws: OCIError.extractionLimit(layer: "package artifact \(artifact)", what: "entries", limit: 1)) {
            _ = try ArtifactExtractor.extract(artifact, into: place.root, limits: ExtractionLimits(maxEntries: 1))
        }
    }

    @Test func modesHardlinksAndReadOnlyDirectoriesAreKept() throws {
        let place = Place()
        let artifact = try place.artifact([
            (TarEntry(path: "ro", kind: .directory, mode: 0o555), ""),
            Self.file("ro/data", "d"),
            (TarEntry(path: "bin/tool", kind: .regular, mode: 0o755, size: 2), "#!"),
            Self.hardlink("bin/tool2", to: "bin/tool"),
        ])
        #expect(try ArtifactExtractor.extract(artifact, into: place.root) == 4)
        #expect(Scratch.read(place.root + "/ro/data") == "d")
        let ro = try FileManager.default.attributesOfItem(atPath: place.root + "/ro")
        #expect((ro[.posixPermissions] as? Int) == 0o555)
        var a = stat(), b = stat()
        stat(place.root + "/bin/tool", &a)
        stat(place.root + "/bin/tool2", &b)
        #expect(a.st_ino == b.st_ino && (a.st_mode & 0o777) == 0o755)
    }

    @Test func aMaliciousSignedPackageIsRefusedAndNothingInstalled() async throws {
        let env = try await Env(.directory)
        let place = Place()
        let artifact = try place.artifact([Self.file("fine", "ok"), Self.link("escape", to: place.outside), Self.file("escape/victim", "pwned")])
        _ = try await env.cache.push(artifact: artifact, info: PackageInfo(hash: hash("evil"), name: "evil", version: "1", platform: "linux/amd64"), signer: env.key)
        let dest = env.destination()
        await #expect { try await env.binary().fetch(hash("evil"), into: dest) } throws: { error in
            guard let e = error as? OCIError, case let .unsafeEntry(_, path, _) = e else { return false }
            return path == "escape/victim"
        }
        #expect(!FileManager.default.fileExists(atPath: dest))
        #expect(Scratch.listing((dest as NSString).deletingLastPathComponent).isEmpty)
        #expect(place.outsideUnchanged)
    }
}
