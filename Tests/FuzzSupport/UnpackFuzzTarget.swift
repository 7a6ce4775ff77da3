#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support
import OCI
import Runtime

/// One unpack fuzz case: a fixed base layer, then the input as a second layer, applied by
/// `SafeExtractor` (the image-layer policy) to `case/jail/root` beside a canary file
/// `case/canary`.
///
/// It holds the extractor to "an error or an unpacked root": it throws only an `OCIError`, the
/// canary keeps its mode, content and mtime, the jail holds just the root, and nothing else
/// appears in the case folder. A trap is the other failure. (The two host escapes of issue 16,
/// a hardlink to a symlink then chmod and a whiteout named `..`, were probed for and skipped
/// here until their fix; any escape is now a violation.)
public final class UnpackFuzzTarget {
    /// What one case did.
    public struct Outcome: Sendable {
        /// The error that ended the layer, in words; nil when it applied.
        public var error: String?
        /// Each broken invariant, in words; empty when the unpacker behaved.
        public var violations: [String] = []
    }

    /// Where the cases run (created, and emptied case by case).
    public let scratch: String
    private let baseLayer: Data
    private var counter = 0
    private static let canaryText = Data("canary: must stay as it is\n".utf8)

    /// Prepares `scratch`.
    public init(scratch: String) throws {
        self.scratch = scratch
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        baseLayer = try Self.base()
    }

    deinit { Self.removeTree(scratch) }

    /// Runs one case.
    public func run(_ bytes: [UInt8]) -> Outcome {
        var outcome = Outcome()
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
            let extractor = try SafeExtractor(root: dir + "/jail/root", policy: .imageLayers())
            try extractor.apply(DataSource(baseLayer), name: "base layer")
            try extractor.apply(DataSource(Data(bytes)), name: "fuzzed layer")
        } catch let error as OCIError {
            outcome.error = error.description
        } catch {
            outcome.violations.append("an error that is not an OCIError: \(type(of: error)) \(error)")
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
