#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI

/// Bounds on what extracting one artifact may write, against decompression bombs.
public struct ExtractionLimits: Sendable, Hashable {
    /// Bytes of file content.
    public var maxBytes: Int64
    /// Entries.
    public var maxEntries: Int

    /// Limits (64 GiB and ten million entries by default).
    public init(maxBytes: Int64 = 64 << 30, maxEntries: Int = 10_000_000) {
        self.maxBytes = maxBytes
        self.maxEntries = maxEntries
    }
}

/// Extracts an artifact (a tar, plain or compressed) into a directory without ever writing
/// outside it.
///
/// Every entry path is relative (the tar reader strips a leading `/`, so an absolute name
/// lands inside the root) and may not contain `..`. Parents are opened one component at a
/// time from the root with `O_NOFOLLOW`, so an entry whose parent is a symlink (planted by an
/// earlier entry) is refused instead of followed; final components are created with calls that
/// never follow a link; hardlink targets obey the same rules. Devices are refused (a package
/// has no business shipping them). Sizes and entry counts are bounded.
public enum ArtifactExtractor {
    /// Extracts `artifact` into `directory`, which must exist; returns the number of entries.
    public static func extract(_ artifact: String, into directory: String, limits: ExtractionLimits = ExtractionLimits()) throws -> Int {
        let rootFD = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard rootFD >= 0 else { throw BuildCacheError.io(path: directory, operation: "open", errno: errno) }
        defer { close(rootFD) }
        do {
            let (_, source) = try Decompressor.sniffing(try FileSource(path: artifact))
            var extractor = Extraction(rootFD: rootFD, root: directory, limits: limits)
            return try extractor.run(TarReader(source: source))
        } catch let error as BuildCacheError {
            throw error
        } catch let error as OCIError {
            if case let .io(p, op, code) = error { throw BuildCacheError.io(path: p, operation: op, errno: code) }
            throw BuildCacheError.malformed(what: "artifact \(artifact)", detail: error.description)
        }
    }

    /// The normal relative form of an entry path; nil for the root itself. Throws for `..`.
    static func clean(_ raw: String) throws -> String? {
        var parts: [Substring] = []
        for component in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." { throw BuildCacheError.unsafeEntry(path: raw, reason: "its path contains '..'") }
            parts.append(component)
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }

    private struct Extraction {
        let rootFD: Int32
        let root: String
        let limits: ExtractionLimits
        var bytes: Int64 = 0
        var entries = 0

        init(rootFD: Int32, root: String, limits: ExtractionLimits) {
            self.rootFD = rootFD
            self.root = root
            self.limits = limits
        }

        mutating func run(_ reader: TarReader) throws -> Int {
            var directoryModes: [(String, UInt32, Int64)] = []
            while let entry = try reader.next() {
                entries += 1
                guard entries <= limits.maxEntries else { throw BuildCacheError.tooLarge(what: "entries", limit: Int64(limits.maxEntries)) }
                guard let path = try ArtifactExtractor.clean(entry.path) else { continue }
                let (parent, base) = split(path)
                let dir = try openParent(parent, entry: entry.path)
                defer { close(dir) }
                if entry.kind != .directory { try removeExisting(base, in: dir, path: path) }
                switch entry.kind {
                case .directory:
                    var st = stat()
                    if fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) != S_IFDIR {
                        try removeExisting(base, in: dir, path: path)
                    }
                    // 0700 while children are written; the entry's mode is applied at the end.
                    if mkdirat(dir, base, 0o700) != 0 && errno != EEXIST { throw io(path, "create directory") }
                    directoryModes.append((path, entry.mode, entry.mtime))
                    continue
                case .regular:
                    bytes += entry.size
                    guard bytes <= limits.maxBytes else { throw BuildCacheError.tooLarge(what: "bytes", limit: limits.maxBytes) }
                    let fd = openat(dir, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                    guard fd >= 0 else { throw io(path, "create") }
                    defer { close(fd) }
                    let sink = FileSink(fd: fd, path: root + "/" + path)
                    do { try reader.copyContent(to: sink); try sink.flush() } catch { throw translate(error, path) }
                case .symlink:
                    // Created, never followed: any later entry beneath it is refused by openParent.
                    guard symlinkat(entry.linkTarget, dir, base) == 0 else { throw io(path, "create symlink") }
                case .hardlink:
                    guard let target = try ArtifactExtractor.clean(entry.linkTarget) else {
                        throw BuildCacheError.unsafeEntry(path: entry.path, reason: "it is a hardlink to the root directory")
                    }
                    let (targetParent, targetBase) = split(target)
                    let source = try openParent(targetParent, entry: entry.path)
                    defer { close(source) }
                    // Without AT_SYMLINK_FOLLOW a symlink is linked itself, never what it points at.
                    guard linkat(source, targetBase, dir, base, 0) == 0 else {
                        if errno == ENOENT { throw BuildCacheError.unsafeEntry(path: entry.path, reason: "its hardlink target '\(entry.linkTarget)' is not in the artifact") }
                        throw io(path, "link to \(target)")
                    }
                    continue // a hardlink shares its target's mode and times
                case .fifo:
                    guard mkfifoat(dir, base, 0o600) == 0 else { throw io(path, "create fifo") }
                case .characterDevice, .blockDevice:
                    throw BuildCacheError.unsafeEntry(path: entry.path, reason: "it is a device file, which a package may not contain")
                }
                if entry.kind != .symlink {
                    guard fchmodat(dir, base, mode_t(entry.mode & 0o7777), 0) == 0 else { throw io(path, "set the mode of") }
                }
                var times = [timespec(tv_sec: Int(entry.mtime), tv_nsec: 0), timespec(tv_sec: Int(entry.mtime), tv_nsec: 0)]
                utimensat(dir, base, &times, AT_SYMLINK_NOFOLLOW)
            }
            // Deepest first: a read-only directory is closed only after its children are written.
            for (path, mode, mtime) in directoryModes.reversed() {
                let (parent, base) = split(path)
                guard let dir = try? openParent(parent, entry: path) else { continue }
                defer { close(dir) }
                fchmodat(dir, base, mode_t(mode & 0o7777), 0)
                var times = [timespec(tv_sec: Int(mtime), tv_nsec: 0), timespec(tv_sec: Int(mtime), tv_nsec: 0)]
                utimensat(dir, base, &times, AT_SYMLINK_NOFOLLOW)
            }
            return entries
        }

        /// Opens `parent` below the root one component at a time, never following a symlink,
        /// creating missing directories.
        func openParent(_ parent: String, entry: String) throws -> Int32 {
            var current = openat(rootFD, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard current >= 0 else { throw io("", "open") }
            var walked = ""
            for component in parent.split(separator: "/").map(String.init) {
                walked = walked.isEmpty ? component : walked + "/" + component
                var next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if next < 0 && errno == ENOENT {
                    if mkdirat(current, component, 0o700) != 0 && errno != EEXIST {
                        let e = errno
                        close(current)
                        throw BuildCacheError.io(path: root + "/" + walked, operation: "create directory", errno: e)
                    }
                    next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                }
                let code = errno
                close(current)
                guard next >= 0 else {
                    if code == ELOOP || code == ENOTDIR {
                        throw BuildCacheError.unsafeEntry(path: entry, reason: "its parent '\(walked)' is a symlink or not a directory; entries are never written through a link")
                    }
                    throw BuildCacheError.io(path: root + "/" + walked, operation: "open directory", errno: code)
                }
                current = next
            }
            return current
        }

        /// Removes a non-directory already at `name` (a later entry replaces an earlier one, as tar does).
        func removeExisting(_ name: String, in dir: Int32, path: String) throws {
            var st = stat()
            guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                throw BuildCacheError.unsafeEntry(path: path, reason: "it would replace a directory of the same artifact")
            }
            guard unlinkat(dir, name, 0) == 0 else { throw io(path, "replace") }
        }

        func split(_ path: String) -> (String, String) {
            guard let slash = path.lastIndex(of: "/") else { return ("", path) }
            return (String(path[..<slash]), String(path[path.index(after: slash)...]))
        }

        func io(_ path: String, _ operation: String) -> BuildCacheError {
            .io(path: root + "/" + path, operation: operation, errno: errno)
        }

        func translate(_ error: Error, _ path: String) -> Error {
            if case let OCIError.io(_, op, code) = error { return BuildCacheError.io(path: root + "/" + path, operation: op, errno: code) }
            return error
        }
    }
}
