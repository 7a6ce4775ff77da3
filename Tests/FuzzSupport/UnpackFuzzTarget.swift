#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
import Runtime

/// One unpack fuzz case: a fixed base layer, then the input as a second layer, applied by
/// `RootFSUnpacker` to `case/jail/root` beside a canary file `case/canary`.
///
/// It holds the unpacker to "an error or an unpacked root": it throws only a `RuntimeError`
/// or `OCIError`, the canary keeps its mode, content and mtime, the jail holds just the root,
/// and nothing else appears in the case folder. A trap is the other failure.
///
/// Two host escapes of issue 16 are known (a hardlink to a symlink chmods the link's target; a
/// whiteout named `..` removes the root's parent). Each is probed once at start; while the
/// unpacker still does it, inputs that could do it (a symlink and a hardlink in one layer; a
/// `.wh.`, `.wh..` or `.wh...` name) are skipped and counted, because a mutated symlink target
/// may name any host file (`/`, say) and the fuzzer runs as root. The probes show the fix, and
/// the skips stop, by themselves.
public final class UnpackFuzzTarget {
    /// What one case did.
    public struct Outcome: Sendable {
        /// The error that ended the layer, in words; nil when it applied.
        public var error: String?
        /// Each broken invariant, in words; empty when the unpacker behaved.
        public var violations: [String] = []
        /// The case was not run: it could hit a known escape (see the type).
        public var skipped = false
    }

    /// Where the cases run (created, and emptied case by case).
    public let scratch: String
    /// The unpacker changes a file outside the root through a hardlinked symlink (issue 16, item 1).
    public private(set) var chmodsThroughLinks = false
    /// A `.wh...` whiteout removes the root's parent (issue 16, item 2).
    public private(set) var whiteoutClimbs = false
    private let baseLayer: Data
    private var counter = 0
    private static let canaryText = Data("canary: must stay as it is\n".utf8)

    /// Prepares `scratch` and probes the unpacker for the known escapes.
    public init(scratch: String) throws {
        self.scratch = scratch
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        baseLayer = try Self.base()
        chmodsThroughLinks = try probeChmodThroughLink()
        whiteoutClimbs = try probeWhiteoutClimb()
    }

    deinit { Self.removeTree(scratch) }

    /// Runs one case.
    public func run(_ bytes: [UInt8]) -> Outcome {
        var outcome = Outcome()
        if couldEscape(bytes) {
            outcome.skipped = true
            return outcome
        }
        counter += 1
        let dir = scratch + "/case-\(counter)"
        defer { Self.removeTree(dir) }
        do {
            try makeCase(dir)
        } catch {
            outcome.violations.append("cannot prepare the case folder \(dir): \(error)")
            return outcome
        }
        do {
            let unpacker = try RootFSUnpacker(root: dir + "/jail/root")
            try unpacker.apply(layer: DataSource(baseLayer))
            try unpacker.apply(layer: DataSource(Data(bytes)))
        } catch let error as RuntimeError {
            outcome.error = error.description
        } catch let error as OCIError {
            outcome.error = error.description
        } catch {
            outcome.violations.append("an error that is neither a RuntimeError nor an OCIError: \(type(of: error)) \(error)")
        }
        outcome.violations += Self.checkCase(dir)
        return outcome
    }

    // MARK: The case folder

    private func makeCase(_ dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir + "/jail", withIntermediateDirectories: true)
        let canary = dir + "/canary"
        try Self.write(Array(Self.canaryText), to: canary, mode: 0o640)
        var times = [timespec(tv_sec: 1_000_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, canary, &times, AT_SYMLINK_NOFOLLOW)
    }

    /// What is wrong outside the root after a case.
    static func checkCase(_ dir: String) -> [String] {
        var out: [String] = []
        var st = stat()
        if lstat(dir + "/canary", &st) != 0 {
            out.append("the canary beside the jail is gone")
        } else {
            if st.st_mode != (S_IFREG | 0o640) { out.append("the canary's mode became \(String(st.st_mode, radix: 8))") }
            if st.st_mtim.tv_sec != 1_000_000_000 { out.append("the canary's mtime became \(st.st_mtim.tv_sec)") }
            // Read only a regular file: a FIFO put in its place would block the read.
            if (st.st_mode & S_IFMT) == S_IFREG && FileManager.default.contents(atPath: dir + "/canary") != canaryText {
                out.append("the canary's content changed")
            }
        }
        let caseNames = (FileIO.names(inDirectory: dir) ?? []).sorted()
        if caseNames != ["canary", "jail"] { out.append("the case folder holds \(caseNames), not [canary, jail]") }
        let jailNames = FileIO.names(inDirectory: dir + "/jail") ?? []
        if jailNames != ["root"] { out.append("the root's parent holds \(jailNames), not [root]") }
        if lstat(dir + "/jail/root", &st) != 0 || (st.st_mode & S_IFMT) != S_IFDIR { out.append("the root is no longer a directory") }
        return out
    }

    // MARK: Known escapes

    /// Whether `bytes` could hit an escape the unpacker is known (probed) to have.
    func couldEscape(_ bytes: [UInt8]) -> Bool {
        guard chmodsThroughLinks || whiteoutClimbs else { return false }
        let reader = TarReader(source: DataSource(Data(bytes)))
        var symlinks = 0, hardlinks = 0
        while let entry = try? reader.next() {
            if entry.kind == .symlink { symlinks += 1 }
            if entry.kind == .hardlink { hardlinks += 1 }
            if whiteoutClimbs && entry.path.split(separator: "/").contains(where: { [".wh.", ".wh..", ".wh..."].contains($0) }) { return true }
        }
        return chmodsThroughLinks && symlinks > 0 && hardlinks > 0
    }

    private func probeChmodThroughLink() throws -> Bool {
        let dir = scratch + "/probe-chmod"
        defer { Self.removeTree(dir) }
        try makeCase(dir)
        let sink = DataSink()
        let w = TarWriter(sink: sink)
        try w.write(TarEntry(path: "s", kind: .symlink, mode: 0o777, linkTarget: dir + "/canary"))
        try w.write(TarEntry(path: "h", kind: .hardlink, mode: 0o707, linkTarget: "s"))
        try w.finish()
        let unpacker = try RootFSUnpacker(root: dir + "/jail/root")
        _ = try? unpacker.apply(layer: DataSource(sink.data))
        return !Self.checkCase(dir).isEmpty
    }

    private func probeWhiteoutClimb() throws -> Bool {
        let dir = scratch + "/probe-whiteout"
        defer { Self.removeTree(dir) }
        try makeCase(dir)
        let sink = DataSink()
        let w = TarWriter(sink: sink)
        try w.write(TarEntry(path: ".wh...", kind: .regular, mode: 0o644))
        try w.finish()
        let unpacker = try RootFSUnpacker(root: dir + "/jail/root")
        _ = try? unpacker.apply(layer: DataSource(sink.data))
        return !Self.checkCase(dir).isEmpty
    }

    /// The lower layer the fuzzed one lands on: something for whiteouts to hide.
    static func base() throws -> Data {
        let sink = DataSink()
        let w = TarWriter(sink: sink)
        try w.write(TarEntry(path: "base", kind: .directory, mode: 0o755))
        try w.write(TarEntry(path: "base/file", kind: .regular, mode: 0o644), content: Array("lower\n".utf8))
        try w.write(TarEntry(path: "base/sub", kind: .directory, mode: 0o755))
        try w.write(TarEntry(path: "base/sub/old", kind: .regular, mode: 0o644), content: [1])
        try w.write(TarEntry(path: "base/gone-dir/x", kind: .regular, mode: 0o644), content: [2])
        try w.write(TarEntry(path: "dir", kind: .directory, mode: 0o755))
        try w.write(TarEntry(path: "dir/file", kind: .regular, mode: 0o600), content: [3])
        try w.finish()
        return sink.data
    }

    /// Writes a file without the fsync FileManager's writes cost (a case's files are throwaway).
    static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw OCIError.io(path: path, operation: "create", errno: errno) }
        defer { close(fd) }
        try bytes.withUnsafeBytes { try FileIO.writeAll(fd, $0, path: path) }
        fchmod(fd, mode)
    }

    /// Removes `path` and everything under it, whatever modes the case left (never following links).
    static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            chmod(path, 0o700)
            for name in FileIO.names(inDirectory: path) ?? [] { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
