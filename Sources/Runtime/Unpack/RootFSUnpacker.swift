#if canImport(Glibc)
import Glibc
#endif
import CRuntime
import Foundation
import OCI

/// Bounds on what unpacking may write, against decompression bombs.
public struct UnpackLimits: Sendable, Hashable {
    /// Bytes of file content, all layers together.
    public var maxBytes: Int64
    /// Entries, all layers together.
    public var maxEntries: Int

    public init(maxBytes: Int64 = 64 << 30, maxEntries: Int = 10_000_000) {
        self.maxBytes = maxBytes
        self.maxEntries = maxEntries
    }
}

/// Applies layer tar streams, in order, to a root filesystem directory.
///
/// Nothing is ever written outside the root: every parent path is resolved by the kernel with
/// `openat2(RESOLVE_IN_ROOT)` (symlinks, absolute targets and `..` stay inside, as securejoin
/// does, without its race), the final component is created with calls that never follow a
/// link, entries whose own path or hardlink target climbs out are refused, and the expanded
/// size is bounded. OCI whiteouts (`.wh.NAME`) and opaque directories (`.wh..wh..opq`) hide
/// lower layers' content only, never the same layer's.
public final class RootFSUnpacker {
    public let root: String
    private let rootFD: Int32
    private let limits: UnpackLimits
    private var bytes: Int64 = 0
    private var entries = 0
    private var createdInLayer = Set<String>()
    private let isRoot = geteuid() == 0

    /// Opens (creating if needed) the root directory.
    public init(root: String, limits: UnpackLimits = UnpackLimits()) throws {
        self.root = root
        self.limits = limits
        try FileIO.makeDirectories(root)
        let fd = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw RuntimeError.io(path: root, operation: "open", errno: errno) }
        rootFD = fd
    }

    deinit { close(rootFD) }

    /// Applies one layer (an uncompressed tar stream).
    public func apply(layer source: ByteSource) throws {
        createdInLayer.removeAll()
        let reader = TarReader(source: source)
        var directoryTimes: [(String, Int64)] = []
        while let entry = try reader.next() {
            entries += 1
            guard entries <= limits.maxEntries else { throw RuntimeError.tooLarge(what: "entries", limit: Int64(limits.maxEntries)) }
            guard let path = try Self.clean(entry.path) else { continue } // the root itself
            let (parent, base) = Self.split(path)
            if base == ".wh..wh..opq" {
                let dir = try openDirectory(parent, create: true)
                defer { close(dir) }
                try removeChildren(of: dir, at: parent, keeping: { self.createdInLayer.contains(Self.join(parent, $0)) })
                continue
            }
            if base.hasPrefix(".wh.") {
                let hidden = String(base.dropFirst(4))
                let target = Self.join(parent, hidden)
                guard !createdInLayer.contains(target), let dir = try? openDirectory(parent, create: false) else { continue }
                defer { close(dir) }
                try removeEntry(hidden, in: dir, path: target)
                continue
            }
            let dir = try openDirectory(parent, create: true)
            defer { close(dir) }
            try replaceExisting(base, in: dir, path: path, keepingDirectory: entry.kind == .directory)
            switch entry.kind {
            case .directory:
                if mkdirat(dir, base, 0o700) != 0 && errno != EEXIST { throw io(path, "create directory") }
                directoryTimes.append((path, entry.mtime))
            case .regular:
                bytes += entry.size
                guard bytes <= limits.maxBytes else { throw RuntimeError.tooLarge(what: "bytes", limit: limits.maxBytes) }
                let fd = openat(dir, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw io(path, "create") }
                defer { close(fd) }
                let sink = FileSink(fd: fd, path: root + "/" + path)
                try reader.copyContent(to: sink)
                try sink.flush()
            case .symlink:
                // Stored as written; it is resolved inside the root whenever it is used.
                guard symlinkat(entry.linkTarget, dir, base) == 0 else { throw io(path, "create symlink") }
            case .hardlink:
                guard let target = try Self.clean(entry.linkTarget) else {
                    throw RuntimeError.unsafeEntry(path: path, reason: "a hardlink to the root directory")
                }
                let (targetParent, targetBase) = Self.split(target)
                guard let source = try? openDirectory(targetParent, create: false) else {
                    throw RuntimeError.unsafeEntry(path: path, reason: "its hardlink target '\(entry.linkTarget)' does not exist in the image")
                }
                defer { close(source) }
                // linkat without AT_SYMLINK_FOLLOW links a symlink itself, never what it points at.
                guard linkat(source, targetBase, dir, base, 0) == 0 else { throw io(path, "link to \(target)") }
            case .fifo:
                guard mkfifoat(dir, base, mode_t(entry.mode & 0o7777)) == 0 else { throw io(path, "create fifo") }
            case .characterDevice, .blockDevice:
                guard isRoot else { continue } // unprivileged: devices come from the runtime
                let type: mode_t = entry.kind == .characterDevice ? S_IFCHR : S_IFBLK
                let device = (dev_t(entry.deviceMajor) << 8) | dev_t(entry.deviceMinor & 0xff) | (dev_t(entry.deviceMinor & ~0xff) << 12)
                guard mknodat(dir, base, type | mode_t(entry.mode & 0o7777), device) == 0 else { throw io(path, "create device") }
            }
            try setMetadata(entry, base: base, in: dir, path: path)
            createdInLayer.insert(path)
        }
        // Directory times last: adding their children changed them.
        for (path, mtime) in directoryTimes.reversed() {
            let (parent, base) = Self.split(path)
            guard let dir = try? openDirectory(parent, create: false) else { continue }
            var times = [timespec(tv_sec: Int(mtime), tv_nsec: 0), timespec(tv_sec: Int(mtime), tv_nsec: 0)]
            utimensat(dir, base, &times, AT_SYMLINK_NOFOLLOW)
            close(dir)
        }
    }

    /// Bytes of file content written so far.
    public var bytesWritten: Int64 { bytes }

    // MARK: Paths

    /// The entry's path made relative and normal; nil for the root itself; an error if it climbs out.
    static func clean(_ raw: String) throws -> String? {
        var parts: [Substring] = []
        for component in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." {
                guard !parts.isEmpty else { throw RuntimeError.unsafeEntry(path: raw, reason: "its path climbs out of the root with '..'") }
                parts.removeLast()
                continue
            }
            parts.append(component)
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }

    static func split(_ path: String) -> (parent: String, base: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }

    static func join(_ parent: String, _ name: String) -> String { parent.isEmpty ? name : parent + "/" + name }

    // MARK: Filesystem, always relative to the root

    /// Opens a directory of the image (resolved inside the root), creating missing ones.
    private func openDirectory(_ path: String, create: Bool) throws -> Int32 {
        if path.isEmpty { return try reopen(rootFD, ".") }
        let fd = stackship_open_in_root(rootFD, path, O_RDONLY | O_DIRECTORY, 0)
        if fd >= 0 { return fd }
        guard create, errno == ENOENT || errno == ENOTDIR else { throw io(path, "open directory") }
        var current = try reopen(rootFD, ".")
        var walked = ""
        for component in path.split(separator: "/") {
            walked = Self.join(walked, String(component))
            var next = stackship_open_in_root(rootFD, walked, O_RDONLY | O_DIRECTORY, 0)
            if next < 0 && (errno == ENOENT || errno == ENOTDIR) {
                // Something that is not a directory (and not a link to one) is in the way: replace it,
                // as a tar extraction would. A link whose target is missing is refused instead.
                var st = stat()
                if fstatat(current, String(component), &st, AT_SYMLINK_NOFOLLOW) == 0 {
                    if (st.st_mode & S_IFMT) == S_IFLNK {
                        close(current)
                        throw RuntimeError.unsafeEntry(path: path, reason: "'\(walked)' is a symlink to a directory that does not exist in the image")
                    }
                    try removeEntry(String(component), in: current, path: walked)
                }
                if mkdirat(current, String(component), 0o755) != 0 && errno != EEXIST {
                    let e = errno
                    close(current)
                    throw RuntimeError.io(path: walked, operation: "create directory", errno: e)
                }
                next = stackship_open_in_root(rootFD, walked, O_RDONLY | O_DIRECTORY, 0)
            }
            close(current)
            guard next >= 0 else { throw io(walked, "open directory") }
            current = next
        }
        return current
    }

    private func reopen(_ fd: Int32, _ path: String) throws -> Int32 {
        let new = openat(fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard new >= 0 else { throw io(root, "open") }
        return new
    }

    /// Removes what is at `name` (recursively for a directory) unless a directory is to be kept there.
    private func replaceExisting(_ name: String, in dir: Int32, path: String, keepingDirectory: Bool) throws {
        var st = stat()
        guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        if keepingDirectory && (st.st_mode & S_IFMT) == S_IFDIR { return }
        try removeEntry(name, in: dir, path: path)
    }

    /// Deletes `name` in `dir`, recursing into directories by descriptor, never following links.
    private func removeEntry(_ name: String, in dir: Int32, path: String) throws {
        var st = stat()
        guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            let child = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else { throw io(path, "open directory") }
            do {
                try removeChildren(of: child, at: path, keeping: { _ in false })
            } catch {
                close(child)
                throw error
            }
            close(child)
            guard unlinkat(dir, name, AT_REMOVEDIR) == 0 else { throw io(path, "remove directory") }
        } else {
            guard unlinkat(dir, name, 0) == 0 else { throw io(path, "remove") }
        }
    }

    private func removeChildren(of dir: Int32, at path: String, keeping: (String) -> Bool) throws {
        let listing = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard listing >= 0, let names = FileIO.names(inOpenedDirectory: listing) else { throw io(path, "read directory") }
        for name in names where !keeping(name) {
            try removeEntry(name, in: dir, path: Self.join(path, name))
        }
    }

    private func setMetadata(_ entry: TarEntry, base: String, in dir: Int32, path: String) throws {
        if isRoot && fchownat(dir, base, uid_t(entry.uid), gid_t(entry.gid), AT_SYMLINK_NOFOLLOW) != 0 {
            throw io(path, "set the owner of")
        }
        if entry.kind != .symlink {
            // After chown, which clears setuid/setgid bits.
            guard fchmodat(dir, base, mode_t(entry.mode & 0o7777), 0) == 0 else { throw io(path, "set the mode of") }
        }
        if entry.kind != .directory {
            var times = [timespec(tv_sec: Int(entry.mtime), tv_nsec: 0), timespec(tv_sec: Int(entry.mtime), tv_nsec: 0)]
            utimensat(dir, base, &times, AT_SYMLINK_NOFOLLOW)
        }
    }

    private func io(_ path: String, _ operation: String) -> RuntimeError {
        .io(path: root + "/" + path, operation: operation, errno: errno)
    }
}
