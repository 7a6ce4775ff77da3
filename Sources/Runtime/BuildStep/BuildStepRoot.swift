import Support
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CSupport
import OCI

/// A directory's owner and mode, to tell later whether overlay's copy of it changed.
struct DirectoryMetadata: Sendable, Hashable {
    var path: String
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
}

/// Paths inside a root file system that an image controls: every lookup resolves symlinks and
/// `..` as if the root were `/` (openat2 RESOLVE_IN_ROOT), so a link in the image can never
/// lead a build step's preparation to the host's files.
enum BuildStepRoot {
    /// Linux's O_PATH (a descriptor that only names a file), which Swift's Glibc leaves out
    /// (glibc defines it for _GNU_SOURCE only); the same value on every Linux architecture.
    static let O_PATH: Int32 = 0o10000000

    /// Whether `path` names anything in `root` (the last component not followed).
    static func exists(_ path: String, in root: String) -> Bool {
        let rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootfd >= 0 else { return false }
        defer { close(rootfd) }
        let fd = stackship_open_in_root(rootfd, path, O_PATH | O_NOFOLLOW, 0)
        if fd >= 0 { close(fd) }
        return fd >= 0
    }

    /// The owner and mode of the directory `path` in `root` (links followed inside it); nil
    /// when it is not a directory there.
    static func directoryMetadata(_ path: String, in root: String) -> DirectoryMetadata? {
        let rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootfd >= 0 else { return nil }
        defer { close(rootfd) }
        let fd = stackship_open_in_root(rootfd, path, O_PATH | O_NOFOLLOW, 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return nil }
        return DirectoryMetadata(path: path, mode: UInt32(st.st_mode) & 0o7777, uid: st.st_uid, gid: st.st_gid)
    }

    /// The host path of what `path` names inside `root` (links followed inside it).
    static func resolve(_ path: String, in root: String) throws -> String {
        let rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootfd >= 0 else { throw RuntimeError.io(path: root, operation: "open", errno: errno) }
        defer { close(rootfd) }
        let fd = stackship_open_in_root(rootfd, path, O_PATH, 0)
        guard fd >= 0 else { throw RuntimeError.io(path: "\(path) in \(root)", operation: "find", errno: errno) }
        defer { close(fd) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
        guard n > 0 else { throw RuntimeError.io(path: "\(path) in \(root)", operation: "resolve", errno: errno) }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `mkdir -p` of the absolute `path` inside `root`; what it creates is 0755 and root's.
    static func makeDirectories(_ path: String, in root: String) throws {
        let rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootfd >= 0 else { throw RuntimeError.io(path: root, operation: "open", errno: errno) }
        defer { close(rootfd) }
        var prefix = ""
        for component in path.split(separator: "/") {
            let parent = prefix.isEmpty ? "/" : prefix
            prefix += "/" + component
            var fd = stackship_open_in_root(rootfd, prefix, O_RDONLY | O_DIRECTORY, 0)
            if fd < 0 && errno == ENOENT {
                let dir = stackship_open_in_root(rootfd, parent, O_PATH | O_DIRECTORY, 0)
                guard dir >= 0 else { throw RuntimeError.io(path: parent + " in the step's root", operation: "open", errno: errno) }
                let made = mkdirat(dir, String(component), 0o755)
                let code = errno
                close(dir)
                guard made == 0 || code == EEXIST else { throw RuntimeError.io(path: prefix + " in the step's root", operation: "create directory", errno: code) }
                fd = stackship_open_in_root(rootfd, prefix, O_RDONLY | O_DIRECTORY, 0)
                if fd >= 0 && made == 0 { fchmod(fd, 0o755) } // whatever this process's umask
            }
            guard fd >= 0 else {
                throw RuntimeError.badOption(option: "workdir \(path)", reason: "\(prefix) in the root is not a directory (\(String(cString: strerror(errno))))")
            }
            close(fd)
        }
    }

    /// Removes from an upper directory what the runtime made there for its mounts: each of
    /// `excluded` with everything below it, then each of `excludedIfEmpty` that is an empty
    /// directory, and each of `copiedUp` that overlay copied up only to hold a mount point (an
    /// empty directory, not opaque, with the owner and mode it had below), deepest first. Links
    /// are never followed: the upper directory's content is the container's.
    static func prune(_ upper: String, excluded: [String], excludedIfEmpty: [String], copiedUp: [DirectoryMetadata]) throws {
        for path in excluded {
            guard let (dir, name) = openParent(of: path, in: upper) else { continue }
            defer { close(dir) }
            try FileIO.removeEntry(name, in: dir, displayPath: upper + path)
        }
        let unchanged = Dictionary(copiedUp.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let deepestFirst = Set(excludedIfEmpty + copiedUp.map(\.path)).sorted {
            let a = $0.split(separator: "/").count, b = $1.split(separator: "/").count
            return a != b ? a > b : $0 < $1
        }
        for path in deepestFirst {
            guard let (dir, name) = openParent(of: path, in: upper) else { continue }
            defer { close(dir) }
            if let before = unchanged[path] {
                let fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard fd >= 0 else { continue }
                var st = stat()
                let same = fstat(fd, &st) == 0 && UInt32(st.st_mode) & 0o7777 == before.mode && st.st_uid == before.uid && st.st_gid == before.gid
                // An opaque directory hides what is below it: a change even when empty.
                let opaque = fgetxattr(fd, "trusted.overlay.opaque", nil, 0) >= 0 || fgetxattr(fd, "user.overlay.opaque", nil, 0) >= 0
                close(fd)
                guard same && !opaque else { continue }
            }
            _ = unlinkat(dir, name, AT_REMOVEDIR) // fails, as it should, when not empty
        }
    }

    /// The directory holding `path` in `upper`, opened without following any link, and the
    /// last component; nil when a component is missing or not a directory.
    private static func openParent(of path: String, in upper: String) -> (Int32, String)? {
        var components = path.split(separator: "/").map(String.init)
        guard let name = components.popLast() else { return nil }
        var dir = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dir >= 0 else { return nil }
        for component in components {
            let next = openat(dir, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(dir)
            guard next >= 0 else { return nil }
            dir = next
        }
        return (dir, name)
    }

    /// An absolute path without `.`, `..` or repeated slashes.
    static func normalized(_ path: String) -> String { PathText.normalized(path) }

    /// The ancestors of an absolute path, nearest the root first (`/a/b/c` → `/a`, `/a/b`).
    static func ancestors(of path: String) -> [String] {
        var out: [String] = []
        var prefix = ""
        for component in path.split(separator: "/").dropLast() {
            prefix += "/" + component
            out.append(prefix)
        }
        return out
    }
}
