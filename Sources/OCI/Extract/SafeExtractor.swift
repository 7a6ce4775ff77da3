#if canImport(Glibc)
import Glibc
#endif
import CSupport
import Foundation
import Support

/// Extracts tar streams (image layers, in order, or one package artifact) into a root
/// directory, never writing or changing anything outside it. The one extractor of the code
/// base: the runtime's root file systems, `stackship unpack` and the binary cache all use it,
/// each with its `ExtractionPolicy`.
///
/// The guarantees, whatever the input:
/// - Every parent path is opened relative to the root: resolved inside it by the kernel
///   (`openat2(RESOLVE_IN_ROOT)`) or, by policy, walked without following any link.
/// - The final component is created with calls that never follow a link (`O_EXCL|O_NOFOLLOW`,
///   `symlinkat`, `mkdirat`, `linkat` without `AT_SYMLINK_FOLLOW`), after whatever was there is
///   removed without following links.
/// - Metadata is set through the descriptor of what was created (files, directories) or with
///   the no-follow forms (`AT_SYMLINK_NOFOLLOW`); a symlink's mode is never set, and a hardlink
///   keeps its target's metadata (as GNU tar), so no chmod can reach through a link.
/// - `..` never climbs above the root; whiteout names that do not name one entry (`.wh.`,
///   `.wh..`, `.wh...`) are refused; names with NUL bytes are refused.
/// - Bytes and entries are bounded (`ExtractionLimits`), and so is the space left on disk.
///
/// Errors are `OCIError`s that name the layer (the `name` given to `apply`) and the entry.
public final class SafeExtractor {
    public let root: String
    public let policy: ExtractionPolicy
    private let rootFD: Int32
    private var bytes: Int64 = 0
    private var entries = 0
    /// Bytes that may still be written: the limit, or the free space when that is smaller.
    private let byteBudget: Int64
    private let budgetIsFreeSpace: Bool
    private let isRoot = geteuid() == 0

    /// Opens `root`, creating it (and its parents) when missing. The root itself may not be a
    /// symlink.
    public init(root: String, policy: ExtractionPolicy) throws {
        self.root = root
        self.policy = policy
        try FileIO.makeDirectories(root)
        let fd = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw OCIError.io(path: root, operation: "open", errno: errno) }
        rootFD = fd
        var budget = policy.limits.maxBytes
        var fromDisk = false
        if policy.limits.boundedByFreeSpace {
            var fs = statvfs()
            if fstatvfs(fd, &fs) == 0 {
                let (free, overflow) = Int64(clamping: fs.f_bavail).multipliedReportingOverflow(by: Int64(clamping: fs.f_frsize))
                let available = overflow ? Int64.max : free
                if available < budget { budget = available; fromDisk = true }
            }
        }
        byteBudget = budget
        budgetIsFreeSpace = fromDisk
    }

    deinit { close(rootFD) }

    /// Bytes of file content written so far.
    public var bytesWritten: Int64 { bytes }
    /// Entries read so far.
    public var entriesRead: Int { entries }

    /// Applies one uncompressed tar stream. `name` says what it is in errors ("layer sha256:…").
    /// On an error the root is left part-written: callers extract into a staging directory.
    public func apply(_ source: ByteSource, name: String) throws {
        do {
            var layer = LayerState(name: name)
            try apply(TarReader(source: source), &layer)
            finishDirectories(layer)
        } catch let error as OCIError {
            throw Self.naming(error, layer: name)
        }
    }

    /// Tar format and decompression errors, which the reader and decompressor raise without
    /// knowing what they read, become errors about the layer.
    public static func naming(_ error: OCIError, layer: String) -> OCIError {
        switch error {
        case let .tar(detail): return .corruptLayer(layer: layer, detail: "tar: \(detail)")
        case let .malformedTar(entry, offset, reason):
            let what = entry.map { "tar entry '\(TarReader.shown($0))' (header at byte \(offset))" } ?? "tar header at byte \(offset)"
            return .corruptLayer(layer: layer, detail: "\(what): \(reason)")
        case let .compression(detail): return .corruptLayer(layer: layer, detail: detail)
        default: return error
        }
    }

    // MARK: One layer

    private struct LayerState {
        let name: String
        /// Paths this layer created: its own whiteouts do not hide them.
        var created = Set<String>()
        /// Directory metadata, applied after the children (a read-only directory, or times).
        var directories: [(path: String, entry: TarEntry)] = []
    }

    private func apply(_ reader: TarReader, _ layer: inout LayerState) throws {
        while let entry = try reader.next() {
            entries += 1
            guard entries <= policy.limits.maxEntries else {
                throw OCIError.extractionLimit(layer: layer.name, what: "entries", limit: Int64(policy.limits.maxEntries))
            }
            guard let path = try clean(entry.path, entry: entry.path, layer: layer.name) else { continue } // the root itself
            let (parent, base) = Self.split(path)
            if policy.whiteouts == .apply && base.hasPrefix(".wh.") {
                try applyWhiteout(parent: parent, base: base, entry: entry, layer: &layer)
                continue
            }
            let dir = try openParent(parent, create: true, entry: entry.path, layer: layer.name)
            defer { close(dir) }
            try replaceExisting(base, in: dir, path: path, keepingDirectory: entry.kind == .directory, layer: layer.name)
            switch entry.kind {
            case .directory:
                if mkdirat(dir, base, 0o700) != 0 && errno != EEXIST { throw io(path, "create directory") }
                layer.directories.append((path, entry))
            case .regular:
                try writeFile(entry, base: base, in: dir, path: path, reader: reader, layer: layer.name)
            case .symlink:
                guard !entry.linkTarget.utf8.contains(0) else {
                    throw OCIError.unsafeEntry(layer: layer.name, path: entry.path, reason: "its link target holds a NUL byte")
                }
                guard symlinkat(entry.linkTarget, dir, base) == 0 else { throw io(path, "create symlink") }
                try setOwnerAndTimes(entry, base: base, in: dir, path: path, layer: layer.name)
            case .hardlink:
                try link(entry, base: base, in: dir, path: path, layer: layer.name)
            case .fifo:
                guard mkfifoat(dir, base, 0o600) == 0 else { throw io(path, "create fifo") }
                try setSpecialFileMetadata(entry, base: base, in: dir, path: path, layer: layer.name)
            case .characterDevice, .blockDevice:
                switch policy.devices {
                case .refuse:
                    throw OCIError.unsafeEntry(layer: layer.name, path: entry.path, reason: "it is a device file, which this content may not hold")
                case .skip:
                    continue
                case .create:
                    guard isRoot else { continue } // unprivileged: the runtime provides /dev
                    let type: mode_t = entry.kind == .characterDevice ? S_IFCHR : S_IFBLK
                    guard mknodat(dir, base, type | 0o600, Self.device(entry.deviceMajor, entry.deviceMinor)) == 0 else {
                        throw io(path, "create device")
                    }
                    try setSpecialFileMetadata(entry, base: base, in: dir, path: path, layer: layer.name)
                }
            }
            layer.created.insert(path)
        }
    }

    private func writeFile(_ entry: TarEntry, base: String, in dir: Int32, path: String, reader: TarReader, layer: String) throws {
        let (total, overflow) = bytes.addingReportingOverflow(max(0, entry.size))
        guard !overflow, total <= byteBudget else {
            if budgetIsFreeSpace { throw OCIError.notEnoughSpace(path: root, needed: overflow ? Int64.max : total, available: byteBudget) }
            throw OCIError.extractionLimit(layer: layer, what: "bytes", limit: policy.limits.maxBytes)
        }
        bytes = total
        let fd = openat(dir, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw io(path, "create") }
        defer { close(fd) }
        // Small files are the common case: a buffer the size of the file, up to 1 MiB.
        let sink = FileSink(fd: fd, path: root + "/" + path, bufferSize: Int(min(max(entry.size, 4096), 1 << 20)))
        try reader.copyContent(to: sink)
        try sink.flush()
        // Through the descriptor of the file just created: nothing here can follow a link.
        if policy.owners && isRoot {
            let (uid, gid) = try owner(entry, layer: layer)
            guard fchown(fd, uid, gid) == 0 else { throw io(path, "set the owner of") }
        }
        // After chown, which clears setuid and setgid bits.
        guard fchmod(fd, mode_t(entry.mode & 0o7777)) == 0 else { throw io(path, "set the mode of") }
        var times = Self.times(entry.mtime)
        futimens(fd, &times)
    }

    private func link(_ entry: TarEntry, base: String, in dir: Int32, path: String, layer: String) throws {
        guard let target = try clean(entry.linkTarget, entry: entry.path, layer: layer) else {
            throw OCIError.unsafeEntry(layer: layer, path: entry.path, reason: "it is a hardlink to the root directory")
        }
        let (targetParent, targetBase) = Self.split(target)
        let missing = OCIError.unsafeEntry(layer: layer, path: entry.path, reason: "its hardlink target '\(entry.linkTarget)' is not in the content before it")
        let source: Int32
        do { source = try openParent(targetParent, create: false, entry: entry.path, layer: layer) } catch let error as OCIError {
            if case .io(_, _, ENOENT) = error { throw missing }
            if case .io(_, _, ENOTDIR) = error { throw missing }
            throw error
        }
        defer { close(source) }
        // Without AT_SYMLINK_FOLLOW a symlink is linked itself, never what it points at. A
        // hardlink keeps its target's mode, owner and times: setting them here could reach
        // through a linked symlink to a file outside the root.
        guard linkat(source, targetBase, dir, base, 0) == 0 else {
            if errno == ENOENT { throw missing }
            throw io(path, "link to \(target)")
        }
    }

    private func applyWhiteout(parent: String, base: String, entry: TarEntry, layer: inout LayerState) throws {
        if base == ".wh..wh..opq" {
            let dir = try openParent(parent, create: true, entry: entry.path, layer: layer.name)
            defer { close(dir) }
            let created = layer.created
            try FileIO.removeChildren(of: dir, displayPath: root + "/" + parent, keeping: { created.contains(Self.join(parent, $0)) })
            return
        }
        // Other `.wh..wh.` names are AUFS bookkeeping (`.wh..wh.plnk`); docker ignores them too.
        if base.hasPrefix(".wh..wh.") { return }
        let hidden = String(base.dropFirst(4))
        guard !hidden.isEmpty, hidden != ".", hidden != ".." else {
            throw OCIError.unsafeEntry(layer: layer.name, path: entry.path,
                                       reason: "a whiteout must name one file or directory, and '\(hidden)' does not")
        }
        let target = Self.join(parent, hidden)
        guard !layer.created.contains(target) else { return }
        let dir: Int32
        do { dir = try openParent(parent, create: false, entry: entry.path, layer: layer.name) } catch { return } // nothing there to hide
        defer { close(dir) }
        try removeEntry(hidden, in: dir, path: target)
    }

    /// Directory modes, owners and times, deepest first, through a descriptor opened without
    /// following links (an entry that became something else meanwhile is left alone).
    private func finishDirectories(_ layer: LayerState) {
        let deepestFirst = layer.directories.enumerated().sorted {
            let a = $0.element.path.utf8.count(where: { $0 == UInt8(ascii: "/") })
            let b = $1.element.path.utf8.count(where: { $0 == UInt8(ascii: "/") })
            return a != b ? a > b : $0.offset > $1.offset
        }
        for (_, item) in deepestFirst {
            let (parent, base) = Self.split(item.path)
            guard let dir = try? openParent(parent, create: false, entry: item.path, layer: layer.name) else { continue }
            let fd = openat(dir, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(dir)
            guard fd >= 0 else { continue }
            if policy.owners && isRoot, let (uid, gid) = try? owner(item.entry, layer: layer.name) { fchown(fd, uid, gid) }
            fchmod(fd, mode_t(item.entry.mode & 0o7777))
            var times = Self.times(item.entry.mtime)
            futimens(fd, &times)
            close(fd)
        }
    }

    // MARK: Metadata

    private func owner(_ entry: TarEntry, layer: String) throws -> (uid_t, gid_t) {
        guard let uid = uid_t(exactly: entry.uid), let gid = gid_t(exactly: entry.gid) else {
            throw OCIError.unsafeEntry(layer: layer, path: entry.path, reason: "its owner \(entry.uid):\(entry.gid) is not a valid user and group id")
        }
        return (uid, gid)
    }

    private func setOwnerAndTimes(_ entry: TarEntry, base: String, in dir: Int32, path: String, layer: String) throws {
        if policy.owners && isRoot {
            let (uid, gid) = try owner(entry, layer: layer)
            guard fchownat(dir, base, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else { throw io(path, "set the owner of") }
        }
        var times = Self.times(entry.mtime)
        utimensat(dir, base, &times, AT_SYMLINK_NOFOLLOW)
    }

    /// FIFOs and devices: opening them could block or act, so they are changed by name, with
    /// the no-follow forms (glibc's fchmodat with AT_SYMLINK_NOFOLLOW works on an O_PATH
    /// descriptor and refuses a symlink).
    private func setSpecialFileMetadata(_ entry: TarEntry, base: String, in dir: Int32, path: String, layer: String) throws {
        try setOwnerAndTimes(entry, base: base, in: dir, path: path, layer: layer)
        // After chown, which clears setuid and setgid bits; a mode change does not touch times.
        guard fchmodat(dir, base, mode_t(entry.mode & 0o7777), AT_SYMLINK_NOFOLLOW) == 0 else { throw io(path, "set the mode of") }
    }

    static func times(_ mtime: Int64) -> [timespec] {
        let t = timespec(tv_sec: Int(mtime), tv_nsec: 0)
        return [t, t]
    }

    /// glibc's makedev: 12 bits of major and 20 of minor in the classic places, the rest above.
    static func device(_ major: UInt32, _ minor: UInt32) -> dev_t {
        let ma = dev_t(major), mi = dev_t(minor)
        return ((ma & 0xfff) << 8) | ((ma & ~0xfff) << 32) | (mi & 0xff) | ((mi & ~0xff) << 12)
    }

    // MARK: Paths

    /// The entry's path made relative and normal; nil for the root itself. Throws for a path
    /// that climbs out (or holds any `..`, by policy) or holds a NUL byte.
    func clean(_ raw: String, entry: String, layer: String) throws -> String? {
        guard !raw.utf8.contains(0) else { throw OCIError.unsafeEntry(layer: layer, path: entry, reason: "its path holds a NUL byte") }
        var parts: [Substring] = []
        for component in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." {
                guard policy.dotDot == .resolveInside else {
                    throw OCIError.unsafeEntry(layer: layer, path: entry, reason: "'\(raw)' contains '..'")
                }
                guard !parts.isEmpty else {
                    throw OCIError.unsafeEntry(layer: layer, path: entry, reason: "'\(raw)' climbs out of the root with '..'")
                }
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

    // MARK: File system, always relative to the root

    /// Opens the directory `path` below the root, creating missing ones when `create`. A
    /// non-directory in the way is replaced (as tar does); a symlink is resolved inside the
    /// root or refused, by policy.
    private func openParent(_ path: String, create: Bool, entry: String, layer: String) throws -> Int32 {
        if path.isEmpty { return try reopenRoot() }
        if policy.parentLinks == .resolveInRoot {
            let fd = stackship_open_in_root(rootFD, path, O_RDONLY | O_DIRECTORY, 0)
            if fd >= 0 { return fd }
            guard create, errno == ENOENT || errno == ENOTDIR else { throw io(path, "open directory") }
        }
        var current = try reopenRoot()
        var walked = ""
        for component in path.split(separator: "/").map(String.init) {
            walked = Self.join(walked, component)
            var next = open(component, under: current, walked: walked)
            if next < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) && create {
                var st = stat()
                if fstatat(current, component, &st, AT_SYMLINK_NOFOLLOW) == 0 {
                    // Something that is not a directory (nor a link to one) is in the way.
                    if (st.st_mode & S_IFMT) == S_IFLNK || policy.parentLinks == .refuse {
                        close(current)
                        let reason = policy.parentLinks == .refuse
                            ? "its parent '\(walked)' is a symlink or not a directory; entries are never written through a link"
                            : "'\(walked)' is a symlink to a directory that does not exist in the image"
                        throw OCIError.unsafeEntry(layer: layer, path: entry, reason: reason)
                    }
                    // An image layer replaces it, as a tar extraction would.
                    do { try removeEntry(component, in: current, path: walked) } catch { close(current); throw error }
                }
                if mkdirat(current, component, 0o755) != 0 && errno != EEXIST {
                    let code = errno
                    close(current)
                    throw OCIError.io(path: root + "/" + walked, operation: "create directory", errno: code)
                }
                next = open(component, under: current, walked: walked)
            }
            let code = errno
            close(current)
            guard next >= 0 else {
                if code == ELOOP && policy.parentLinks == .refuse {
                    throw OCIError.unsafeEntry(layer: layer, path: entry, reason: "its parent '\(walked)' is a symlink; entries are never written through a link")
                }
                throw OCIError.io(path: root + "/" + walked, operation: "open directory", errno: code)
            }
            current = next
        }
        return current
    }

    /// One step of a walk: inside the root by the kernel, or without following a link.
    private func open(_ component: String, under current: Int32, walked: String) -> Int32 {
        switch policy.parentLinks {
        case .resolveInRoot: return stackship_open_in_root(rootFD, walked, O_RDONLY | O_DIRECTORY, 0)
        case .refuse: return openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
    }

    private func reopenRoot() throws -> Int32 {
        let fd = openat(rootFD, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw OCIError.io(path: root, operation: "open", errno: errno) }
        return fd
    }

    /// Removes what is at `name`, unless a directory is to be kept there.
    private func replaceExisting(_ name: String, in dir: Int32, path: String, keepingDirectory: Bool, layer: String) throws {
        var st = stat()
        guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        let isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
        if keepingDirectory && isDirectory { return }
        if isDirectory && !policy.replacesDirectories {
            throw OCIError.unsafeEntry(layer: layer, path: path, reason: "it would replace a directory of the same content")
        }
        try removeEntry(name, in: dir, path: path)
    }

    private func removeEntry(_ name: String, in dir: Int32, path: String) throws {
        try FileIO.removeEntry(name, in: dir, displayPath: root + "/" + path)
    }

    private func io(_ path: String, _ operation: String) -> OCIError {
        .io(path: root + "/" + path, operation: operation, errno: errno)
    }
}
