import Support
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import OCI
import CSupport

/// An overlayfs upper directory made by hand (as root: devices, trusted xattrs, owners) and
/// turned into a layer.
@Suite struct UpperDirLayerIntegrationTests {
    /// file capabilities v2: cap_net_raw and cap_setfcap permitted (a byte above 0x7f, which
    /// no text round-trips).
    static let capability: [UInt8] = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]

    func setXattr(_ path: String, _ name: String, _ value: [UInt8]) throws {
        guard lsetxattr(path, name, value, value.count, 0) == 0 else {
            throw OCIError.io(path: path, operation: "set xattr \(name) on (the test needs root and a file system with xattrs)", errno: errno)
        }
    }

    /// An upper directory with one of everything overlayfs leaves there.
    func makeUpper(_ t: TempDir) throws -> String {
        let u = t.path + "/upper"
        try FileManager.default.createDirectory(atPath: u, withIntermediateDirectories: true)
        let upper = TempDir.real(u)
        func file(_ rel: String, _ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: upper + "/" + rel)) }
        for d in ["etc", "d/new", "b/c", "run/secrets", "proc", "keep/empty", "z"] {
            try FileManager.default.createDirectory(atPath: upper + "/" + d, withIntermediateDirectories: true)
        }
        try file("a", "hi\n")
        guard link(upper + "/a", upper + "/h") == 0 else { throw OCIError.io(path: upper + "/h", operation: "link", errno: errno) }
        try FileManager.default.createSymbolicLink(atPath: upper + "/s", withDestinationPath: "/a")
        guard mknod(upper + "/etc/x", S_IFCHR | 0o000, 0) == 0 else { throw OCIError.io(path: upper + "/etc/x", operation: "mknod (needs root)", errno: errno) }
        try setXattr(upper + "/etc", "trusted.overlay.origin", [0, 1, 2, 0xff])
        try setXattr(upper + "/d", "trusted.overlay.opaque", Array("y".utf8))
        try file("d/new/f", "new\n")
        try file("o", "owned\n")
        guard chown(upper + "/o", 33, 33) == 0 else { throw OCIError.io(path: upper + "/o", operation: "chown", errno: errno) }
        try file("ping", "binary")
        try setXattr(upper + "/ping", "security.capability", Self.capability)
        try setXattr(upper + "/ping", "user.note", Array("dropped".utf8))
        guard mkfifo(upper + "/z/fifo", 0o640) == 0 else { throw OCIError.io(path: upper + "/z/fifo", operation: "mkfifo", errno: errno) }
        // What a runtime made for its mounts: an empty file and its empty parents, /proc.
        try file("run/secrets/tok", "")
        try file("etc/hosts", "")
        return upper
    }

    func tar(_ layer: UpperDirLayer, epoch: Int64 = 0) throws -> Data {
        let sink = DataSink()
        _ = try layer.writeTar(epoch: epoch, to: sink)
        return sink.data
    }

    @Test func overlayMarksBecomeOCIWhiteoutsAndOwnersStay() throws {
        let t = TempDir("upper")
        let upper = try makeUpper(t)
        let layer = UpperDirLayer(upperDirectory: upper, excluding: ["/run/secrets/tok", "/proc", "/etc/hosts"],
                                  excludingIfEmpty: ["/run", "/run/secrets"])
        let data = try tar(layer)
        let entries = try listTar(data)
        let paths = entries.map(\.path)
        #expect(paths == ["a", "b", "b/c", "d", "d/.wh..wh..opq", "d/new", "d/new/f", "etc", "etc/.wh.x", "h", "keep", "keep/empty",
                          "o", "ping", "s", "z", "z/fifo"])
        func entry(_ p: String) -> TarEntry? { entries.first { $0.path == p } }
        #expect(entry("etc/.wh.x")?.kind == .regular && entry("etc/.wh.x")?.size == 0 && entry("etc/.wh.x")?.mode == 0o600)
        #expect(entry("d/.wh..wh..opq")?.kind == .regular && entry("d/.wh..wh..opq")?.size == 0)
        #expect(entry("h")?.kind == .hardlink && entry("h")?.linkTarget == "a")
        #expect(entry("s")?.kind == .symlink && entry("s")?.linkTarget == "/a")
        #expect(entry("o")?.uid == 33 && entry("o")?.gid == 33 && entry("o")?.uname == "" && entry("o")?.gname == "")
        #expect(entry("z/fifo")?.kind == .fifo && entry("z/fifo")?.mode == 0o640)
        #expect(entries.allSatisfy { $0.mtime == 0 })
        // Only the capability survives of the xattrs; overlay's and user ones are gone.
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.contains("overlay") && !text.contains("user.note"))
        let record = Array((UpperDirLayer.capabilityRecord + "=").utf8) + Self.capability + [0x0a]
        #expect(Self.contains(Array(data), record))
        #expect(!text.contains("run/") && !text.contains("proc") && !text.contains("hosts"))
    }

    @Test func theSameChangesGiveTheSameBytesAndEpochClampsTimes() throws {
        let t1 = TempDir("upper"), t2 = TempDir("upper")
        let first = try tar(UpperDirLayer(upperDirectory: try makeUpper(t1)))
        usleep(1_100_000) // other mtimes
        let second = try tar(UpperDirLayer(upperDirectory: try makeUpper(t2)))
        #expect(first == second)
        let t3 = TempDir("upper")
        let upper = try makeUpper(t3)
        var old = [timespec(tv_sec: 5, tv_nsec: 0), timespec(tv_sec: 5, tv_nsec: 0)]
        utimensat(AT_FDCWD, upper + "/a", &old, AT_SYMLINK_NOFOLLOW)
        let entries = try listTar(try tar(UpperDirLayer(upperDirectory: upper), epoch: 1000))
        #expect(entries.first { $0.path == "a" }?.mtime == 5)
        #expect(entries.first { $0.path == "o" }?.mtime == 1000)
    }

    @Test func aParentOfAMountPointStaysWhenTheCommandPutSomethingThere() throws {
        let t = TempDir("upper")
        let upper = try makeUpper(t)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: upper + "/run/pid"))
        let entries = try listTar(try tar(UpperDirLayer(upperDirectory: upper, excluding: ["/run/secrets/tok"],
                                                        excludingIfEmpty: ["/run", "/run/secrets"])))
        #expect(entries.contains { $0.path == "run/pid" } && entries.contains { $0.path == "run" })
        #expect(!entries.contains { $0.path.hasPrefix("run/secrets") })
    }

    @Test func gnuTarRestoresTheCapabilityAndTheLayerGoesIntoTheStore() throws {
        let t = TempDir("upper")
        let upper = try makeUpper(t)
        let store = try OCILayoutStore(root: t.path + "/store")
        let built = try UpperDirLayer(upperDirectory: upper).build(options: LayerOptions(), into: store)
        #expect(built.descriptor.mediaType == MediaType.ociLayer(.gzip))
        #expect(store.contains(built.descriptor.digest))
        let out = t.path + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let (status, output) = try Self.run("/bin/tar", ["--xattrs", "--xattrs-include=security.capability", "-xzpf", store.path(of: built.descriptor.digest), "-C", out])
        #expect(status == 0, "\(output)")
        var value = [UInt8](repeating: 0, count: 64)
        let n = lgetxattr(out + "/ping", "security.capability", &value, value.count)
        #expect(n == Self.capability.count && Array(value.prefix(max(0, n))) == Self.capability)
        let toFile = try UpperDirLayer(upperDirectory: upper).build(options: LayerOptions(), toFile: t.path + "/layer.tgz")
        #expect(toFile.descriptor.digest == built.descriptor.digest && toFile.diffID == built.diffID)
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] && Array(haystack[i..<(i + needle.count)]) == needle {
            return true
        }
        return false
    }

    static func run(_ path: String, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

extension TempDir {
    /// The real path of `path` (TMPDIR may lead through a symlink).
    static func real(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
