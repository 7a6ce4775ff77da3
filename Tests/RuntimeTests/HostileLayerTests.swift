import Foundation
import Support
@testable import OCI
import Testing
@testable import Runtime

/// Layers built to attack the host through the extractor (issue: hostile images). Each test
/// checks the outcome and that a canary file outside the root keeps its mode, content and
/// modification time, and the root's parent keeps its content.
@Suite struct HostileLayerTests {
    /// A sandbox with a canary beside the root: `path/victim/canary`, mode 0644, a fixed mtime.
    final class Host {
        let sandbox: Sandbox
        var canary: String { sandbox.victim + "/canary" }

        init() throws {
            sandbox = try Sandbox()
            try Data("canary\n".utf8).write(to: URL(fileURLWithPath: canary))
            chmod(canary, 0o644)
            var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
            utimensat(AT_FDCWD, canary, &times, 0)
        }

        /// Mode, content and mtime of the canary, and everything outside the root.
        func state() throws -> [String] {
            var st = stat()
            lstat(canary, &st)
            let mode = String(st.st_mode & 0o7777, radix: 8)
            return try sandbox.outside() + ["canary mode=\(mode) mtime=\(st.st_mtim.tv_sec)"]
        }

        /// Applies `layers` (with `devices`); returns the error, if any, after checking the host.
        func apply(_ layers: [Data], devices: ExtractionPolicy.Devices = .create,
                   sourceLocation: SourceLocation = #_sourceLocation) throws -> Error? {
            let before = try state()
            var thrown: Error?
            do { try sandbox.unpack(layers, devices: devices) } catch { thrown = error }
            #expect(try state() == before, "the host changed", sourceLocation: sourceLocation)
            #expect(before.contains("canary mode=644 mtime=1000000"), sourceLocation: sourceLocation)
            return thrown
        }
    }

    static func tar(_ entries: [TarEntry], content: [String: String] = [:]) throws -> Data {
        let sink = DataSink()
        let writer = TarWriter(sink: sink)
        for var entry in entries {
            let bytes = Array((content[entry.path] ?? "").utf8)
            if entry.kind == .regular { entry.size = Int64(bytes.count) }
            try writer.write(entry, content: bytes)
        }
        try writer.finish()
        return sink.data
    }

    static func isSymlink(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
    }

    // MARK: Critical 1: a hardlink to a symlink, then chmod

    @Test(arguments: [true, false])
    func aHardlinkToASymlinkNeverChangesTheFileItPointsAt(absolute: Bool) throws {
        let host = try Host()
        let target = absolute ? host.canary : "../victim/canary"
        var hardlink = TarEntry(path: "h", kind: .hardlink, mode: 0o4777, linkTarget: "s")
        hardlink.mtime = 42
        hardlink.uid = 0
        let layer = try Self.tar([TarEntry(path: "s", kind: .symlink, mode: 0o777, linkTarget: target), hardlink])
        let error = try host.apply([layer])
        #expect(error == nil, "a hardlink to a symlink is valid tar: \(String(describing: error))")
        #expect(Self.isSymlink(host.sandbox.root + "/h"), "h is the symlink itself, linked")
    }

    @Test func aHardlinkInALaterLayerToASymlinkOfAnEarlierOne() throws {
        let host = try Host()
        let lower = try Self.tar([TarEntry(path: "bin", kind: .directory, mode: 0o755),
                                  TarEntry(path: "bin/s", kind: .symlink, mode: 0o777, linkTarget: host.canary)])
        let upper = try Self.tar([TarEntry(path: "bin/h", kind: .hardlink, mode: 0o6777, linkTarget: "bin/s")])
        #expect(try host.apply([lower, upper]) == nil)
        #expect(Self.isSymlink(host.sandbox.root + "/bin/h"))
    }

    @Test func aDirectoryReplacedByASymlinkGetsNoLateModeChange() throws {
        // Directory modes are applied at the end of a layer; by then "d" is a link to the canary.
        let host = try Host()
        let layer = try Self.tar([TarEntry(path: "d", kind: .directory, mode: 0o4777, mtime: 7),
                                  TarEntry(path: "d", kind: .symlink, mode: 0o777, linkTarget: host.canary)])
        #expect(try host.apply([layer]) == nil)
        #expect(Self.isSymlink(host.sandbox.root + "/d"))
    }

    @Test func aFifoOrADeviceOverAPlantedSymlinkReplacesTheLink() throws {
        let host = try Host()
        var fifo = TarEntry(path: "p", kind: .fifo, mode: 0o4777)
        fifo.mtime = 9
        let layer = try Self.tar([TarEntry(path: "p", kind: .symlink, mode: 0o777, linkTarget: host.canary), fifo])
        #expect(try host.apply([layer]) == nil)
        var st = stat()
        lstat(host.sandbox.root + "/p", &st)
        #expect(st.st_mode & S_IFMT == S_IFIFO)
    }

    // MARK: Critical 2: whiteouts that do not name one entry

    @Test(arguments: [".wh...", ".wh..", ".wh.", "sub/.wh...", "sub/.wh.."])
    func aWhiteoutOfDotDotIsRefusedAndNothingIsRemoved(name: String) throws {
        let host = try Host()
        let lower = try Self.tar([TarEntry(path: "sub", kind: .directory, mode: 0o755), TarEntry(path: "sub/keep", kind: .regular, mode: 0o644)],
                                 content: ["sub/keep": "kept"])
        let upper = try Self.tar([TarEntry(path: name, kind: .regular, mode: 0o644)])
        let error = try host.apply([lower, upper])
        guard case let .unsafeEntry(layer, path, reason)? = error as? OCIError else {
            Issue.record("expected an unsafe-entry error, got \(String(describing: error))")
            return
        }
        #expect(layer == "layer 1" && path == name && reason.contains("whiteout"))
        #expect(host.sandbox.content("sub/keep") == "kept", "the lower layer's content is intact")
        #expect(FileManager.default.fileExists(atPath: host.sandbox.victim + "/keep"), "the root's parent is intact")
    }

    @Test func aufsBookkeepingNamesAreIgnoredAsDockerDoes() throws {
        let host = try Host()
        let layer = try Self.tar([TarEntry(path: ".wh..wh.plnk", kind: .directory, mode: 0o700), TarEntry(path: "a", kind: .regular, mode: 0o644)])
        #expect(try host.apply([layer]) == nil)
        #expect(!host.sandbox.exists(".wh..wh.plnk") && host.sandbox.exists("a"))
    }

    // MARK: Devices, owners, names

    @Test func devicesFollowThePolicy() throws {
        var device = TarEntry(path: "dev/null2", kind: .characterDevice, mode: 0o666)
        device.deviceMajor = 1
        device.deviceMinor = 3
        let layer = try Self.tar([device])
        let skipped = try Host()
        #expect(try skipped.apply([layer], devices: .skip) == nil)
        #expect(!skipped.sandbox.exists("dev/null2"), "unpack's host folder gets no device nodes")

        let refused = try Host()
        let error = try refused.apply([layer], devices: .refuse)
        #expect("\(error.map { "\($0)" } ?? "")".contains("device"))

        let created = try Host()
        #expect(try created.apply([layer], devices: .create) == nil)
        if geteuid() == 0 {
            var st = stat()
            lstat(created.sandbox.root + "/dev/null2", &st)
            #expect(st.st_mode & S_IFMT == S_IFCHR && st.st_rdev == SafeExtractor.device(1, 3))
        }
    }

    @Test func setuidBitsSurviveTheOwnerChange() throws {
        let host = try Host()
        var file = TarEntry(path: "bin/su", kind: .regular, mode: 0o4755)
        file.uid = 0
        let layer = try Self.tar([TarEntry(path: "bin", kind: .directory, mode: 0o755), file], content: ["bin/su": "#!"])
        #expect(try host.apply([layer]) == nil)
        var st = stat()
        lstat(host.sandbox.root + "/bin/su", &st)
        #expect(st.st_mode & 0o7777 == 0o4755)
    }

    @Test func deviceNumbersMatchGlibc() {
        // glibc's gnu_dev_makedev, worked by hand.
        #expect(SafeExtractor.device(1, 3) == 0x103)
        #expect(SafeExtractor.device(259, 0x12345) == 0x1231_0345)
        #expect(SafeExtractor.device(0x1000, 0) == 0x1000_0000_0000)
    }

    // MARK: Free space

    @Test func theByteLimitIsTheFreeSpaceWhenThatIsSmaller() throws {
        let host = try Host()
        var fs = statvfs()
        statvfs(host.sandbox.path, &fs)
        let free = Int64(fs.f_bavail) * Int64(fs.f_frsize)
        // A header that claims more than the disk has: refused before a byte is written.
        var big = TarEntry(path: "big", kind: .regular, mode: 0o644)
        big.size = free + (1 << 30)
        let sink = DataSink()
        let writer = TarWriter(sink: sink)
        try writer.writeHeader(big)
        let before = try host.state()
        do {
            try host.sandbox.unpack([sink.data], limits: ExtractionLimits(maxBytes: .max))
            Issue.record("a layer larger than the free space was accepted")
        } catch let OCIError.notEnoughSpace(path, needed, available) {
            #expect(path == host.sandbox.root && needed == big.size && available <= free + (64 << 20))
            #expect("\(OCIError.notEnoughSpace(path: path, needed: needed, available: available))".contains("free"))
        }
        #expect(try host.state() == before)
        #expect(!host.sandbox.exists("big"))
    }
}

@Suite struct StagingDirectoryTests {
    @Test func abandonedStagingIsRemovedAndLiveStagingIsKept() throws {
        let sandbox = try Sandbox()
        let live = try StagingDirectory(in: sandbox.path, prefix: ".tmp-")
        try Data("x".utf8).write(to: URL(fileURLWithPath: live.path + "/file"))
        // Left by a process that died: nobody holds its lock.
        let dead = sandbox.path + "/.tmp-dead"
        try FileManager.default.createDirectory(atPath: dead + "/ro/deep", withIntermediateDirectories: true)
        chmod(dead + "/ro", 0o555)
        let other = sandbox.path + "/tmp-not-ours"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)

        #expect(StagingDirectory.removeAbandoned(in: sandbox.path, prefix: ".tmp-", minimumAge: 0, dryRun: true) == 1)
        #expect(FileManager.default.fileExists(atPath: dead))
        #expect(StagingDirectory.removeAbandoned(in: sandbox.path, prefix: ".tmp-", minimumAge: 0) == 1)
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: live.path + "/file"), "a staging directory still locked is kept")
        #expect(FileManager.default.fileExists(atPath: other))
        // Too young: kept, whoever holds it.
        let young = sandbox.path + "/.tmp-young"
        try FileManager.default.createDirectory(atPath: young, withIntermediateDirectories: true)
        #expect(StagingDirectory.removeAbandoned(in: sandbox.path, prefix: ".tmp-", minimumAge: 60) == 0)
        live.remove()
        #expect(!FileManager.default.fileExists(atPath: live.path))
    }

    @Test func commitMovesIntoPlaceOnceAndReportsARace() throws {
        let sandbox = try Sandbox()
        let first = try StagingDirectory(in: sandbox.path, prefix: ".tmp-")
        try FileManager.default.createDirectory(atPath: first.path + "/rootfs", withIntermediateDirectories: true)
        #expect(try first.commit("rootfs", to: sandbox.path + "/final"))
        #expect(!FileManager.default.fileExists(atPath: first.path))
        let second = try StagingDirectory(in: sandbox.path, prefix: ".tmp-")
        try Data("x".utf8).write(to: URL(fileURLWithPath: second.path + "/f"))
        try Data("y".utf8).write(to: URL(fileURLWithPath: sandbox.path + "/final/y"))
        #expect(try second.commit(to: sandbox.path + "/final") == false, "a non-empty final directory is not replaced")
        #expect(!FileManager.default.fileExists(atPath: second.path))
    }
}
