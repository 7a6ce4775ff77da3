#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Thin, throwing wrappers over POSIX file calls; errors name the path.
public enum FileIO {
    /// Opens `path` with `flags`, retrying on EINTR.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw SupportError.io(path: path, operation: (flags & (O_WRONLY | O_RDWR)) != 0 ? "write" : "open", errno: errno)
        }
    }

    /// Writes all of `bytes` to `fd`.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw SupportError.io(path: path, operation: "write", errno: errno)
            }
            offset += n
        }
    }

    /// Reads up to `buffer.count` bytes.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw SupportError.io(path: path, operation: "read", errno: errno)
        }
    }

    /// Reads a whole (small) file.
    public static func readFile(_ path: String) throws -> Data {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var data = Data()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n = try read(fd, into: chunk, path: path)
            if n == 0 { return data }
            data.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
        }
    }

    /// fsyncs a directory so a rename inside it survives a crash.
    public static func syncDirectory(_ path: String) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    /// Creates `path` and its missing parents with `mode`; succeeds if it already exists.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        // Usually only the last component is missing, or none: one mkdir then.
        if mkdir(path, mode) == 0 || errno == EEXIST { return }
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/"
            current.append(contentsOf: component) // not `"/" + component`: generic, a conformance scan
            if mkdir(current, mode) != 0 && errno != EEXIST {
                throw SupportError.io(path: current, operation: "create directory", errno: errno)
            }
        }
    }

    /// The names in the directory `path` (not `.` and `..`), in readdir's order; nil when it
    /// cannot be read. (FileManager's contentsOfDirectory costs a conformance scan on first use.)
    public static func names(inDirectory path: String) -> [String]? {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        return names(inOpenedDirectory: fd)
    }

    /// As `names(inDirectory:)`, for a directory open as `fd`, which it closes.
    public static func names(inOpenedDirectory fd: Int32) -> [String]? {
        guard let stream = fdopendir(fd) else {
            close(fd)
            return nil
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// True if something (not following a final symlink) exists at `path`.
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// `path` with `.`, `..` and repeated or trailing slashes resolved lexically, as Go's
    /// filepath.Clean does: symlinks are not followed (NSString's standardizingPath follows them,
    /// with an lstat per component and ~0.2 ms of bridging on `run`'s timed path).
    public static func standardize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." {
                if let last = parts.last, last != ".." { parts.removeLast() } else if !absolute { parts.append(part) }
            } else {
                parts.append(part)
            }
        }
        // Joined by hand: `joined(separator:)` resolves its associated types at run time.
        var joined = ""
        for (i, part) in parts.enumerated() {
            if i > 0 { joined += "/" }
            joined.append(contentsOf: part)
        }
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    /// The directory part of `path` ("" when it has none) and its last component, lexically.
    public static func split(_ path: String) -> (directory: String, name: String) {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return ("", String(trimmed)) }
        let directory = slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
        return (directory, String(trimmed[trimmed.index(after: slash)...]))
    }

    /// Makes a new directory `parent/PREFIX<random>` (mode 0700; `parent` must exist) and
    /// returns its path: a name taken by another is skipped, never reused.
    public static func makeUniqueDirectory(in parent: String, prefix: String) throws -> String {
        while true {
            let candidate = parent + "/" + prefix + randomSuffix()
            if mkdir(candidate, 0o700) == 0 { return candidate }
            if errno != EEXIST { throw SupportError.io(path: candidate, operation: "create directory", errno: errno) }
        }
    }

    /// A short random hex string for temporary names.
    public static func randomSuffix() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }
}

/// Reads a file sequentially.
public final class FileSource: ByteSource {
    public let path: String
    private let fd: Int32

    public init(path: String) throws {
        self.path = path
        self.fd = try FileIO.open(path, O_RDONLY)
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try FileIO.read(fd, into: buffer, path: path)
    }
}

/// Writes to a file descriptor through a buffer, so many small writes cost few syscalls.
public final class FileSink: ByteSink {
    public let path: String
    let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: UnsafeMutableRawBufferPointer
    private var used = 0

    /// Wraps an open descriptor (not closed by the sink unless `owns`).
    public init(fd: Int32, path: String, owns: Bool = false, bufferSize: Int = 1 << 20) {
        self.fd = fd
        self.path = path
        self.ownsDescriptor = owns
        self.buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit {
        buffer.deallocate()
        if ownsDescriptor { close(fd) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if bytes.count >= buffer.count {
            try flush()
            try FileIO.writeAll(fd, bytes, path: path)
            return
        }
        if used + bytes.count > buffer.count { try flush() }
        (buffer.baseAddress! + used).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        used += bytes.count
    }

    /// Writes the buffered bytes out.
    public func flush() throws {
        if used > 0 {
            try FileIO.writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[0..<used]), path: path)
            used = 0
        }
    }

    public func finish() throws { try flush() }
}

/// Writes a file atomically: bytes go to a temporary file in the destination's directory,
/// which `commit()` fsyncs and renames over the destination. Until then the destination is
/// untouched; if the writer is dropped or the process dies, only a `.tmp-` file is left, which
/// `OCILayoutStore.gc` or a later `abort()` removes.
public final class AtomicFileWriter: ByteSink {
    public let destination: String
    public let temporaryPath: String
    private let sink: FileSink
    private var done = false

    /// Creates the temporary file beside `destination` with `mode`.
    public init(destination: String, mode: mode_t = 0o644) throws {
        self.destination = destination
        let (dir, base) = FileIO.split(destination)
        self.temporaryPath = (dir.isEmpty ? "." : dir) + "/.tmp-\(FileIO.randomSuffix())-\(base)"
        let fd = Glibc.open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SupportError.io(path: destination, operation: "write", errno: errno) }
        self.sink = FileSink(fd: fd, path: destination, owns: true)
    }

    deinit { if !done { unlink(temporaryPath) } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws { try sink.write(bytes) }

    /// Flushes; the file stays temporary until `commit()`.
    public func finish() throws { try sink.flush() }

    /// Flushes, fsyncs and renames the temporary file over the destination, or over
    /// `path` when given (it must be in the same directory, for the rename to be atomic).
    /// With `durable: false` nothing is fsynced: the file still appears whole or not at all, but
    /// may be lost in a power cut (right for state that a reboot makes stale anyway).
    public func commit(renamingTo path: String? = nil, durable: Bool = true) throws {
        let target = path ?? destination
        try sink.flush()
        guard !durable || fsync(sink.fd) == 0 else { throw SupportError.io(path: temporaryPath, operation: "fsync", errno: errno) }
        guard rename(temporaryPath, target) == 0 else {
            let code = errno
            unlink(temporaryPath)
            done = true
            throw SupportError.io(path: target, operation: "rename into place", errno: code)
        }
        done = true
        if durable {
            let directory = FileIO.split(target).directory
            FileIO.syncDirectory(directory.isEmpty ? "." : directory)
        }
    }

    /// Removes the temporary file; the destination is left as it was.
    public func abort() {
        if !done { unlink(temporaryPath); done = true }
    }

    /// Writes `data` to `path` atomically (and durably unless `durable` is false).
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o644, durable: Bool = true) throws {
        let writer = try AtomicFileWriter(destination: path, mode: mode)
        try writer.write(contentsOf: data)
        try writer.commit(durable: durable)
    }
}

extension Data {
    /// `text`'s UTF-8 bytes, copied. `Data(text.utf8)` goes through Data's generic sequence
    /// initialiser, whose dynamic casts cost a conformance scan on first use (~0.1 ms on
    /// `run`'s timed path).
    public init(utf8 text: String) {
        var text = text
        self = text.withUTF8 { Data(buffer: $0) }
    }
}
