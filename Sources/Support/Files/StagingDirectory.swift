#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A directory that a long write (unpacking a root, loading an archive) fills before it is
/// renamed into place, so a failure never leaves a half-written result under the final name.
///
/// Its creator holds an exclusive `flock` on it for as long as it lives; the kernel releases
/// that when the process ends, however it ends. `removeAbandoned` deletes the staging
/// directories of processes that died (killed, out of memory, power loss) and skips the ones
/// still being written, so the next start or `gc` reclaims what an interruption left.
public final class StagingDirectory {
    /// Where it is now (until `commit` moves it).
    public let path: String
    private var lock: Int32

    /// Creates `parent/PREFIXrandom` (and `parent` when missing) and locks it.
    public init(in parent: String, prefix: String) throws {
        try FileIO.makeDirectories(parent)
        let candidate = try FileIO.makeUniqueDirectory(in: parent, prefix: prefix)
        let fd = Glibc.open(candidate, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            if fd >= 0 { close(fd) }
            rmdir(candidate)
            throw SupportError.io(path: candidate, operation: "lock", errno: code)
        }
        path = candidate
        lock = fd
    }

    deinit { if lock >= 0 { close(lock) } }

    /// Renames the staging directory (or `path/subpath` inside it) to `final`, then removes
    /// what is left. Returns false, removing everything, when `final` already exists (someone
    /// else finished the same work first).
    @discardableResult
    public func commit(_ subpath: String? = nil, to final: String) throws -> Bool {
        let from = subpath.map { path + "/" + $0 } ?? path
        if rename(from, final) != 0 {
            let code = errno
            guard code == EEXIST || code == ENOTEMPTY else {
                throw SupportError.io(path: final, operation: "move \(from) to", errno: code)
            }
            remove()
            return false
        }
        if subpath != nil { remove() } else { release() }
        return true
    }

    /// Deletes the staging directory and everything in it, then releases the lock.
    public func remove() {
        try? FileIO.removeTree(path)
        release()
    }

    private func release() {
        if lock >= 0 { close(lock) }
        lock = -1
    }

    /// Deletes the directories named `PREFIX…` in `parent` whose creator is gone (their lock is
    /// free) and that are older than `minimumAge` seconds (a directory an instant old may not be
    /// locked yet). Returns how many it removed (or, with `dryRun`, would remove).
    @discardableResult
    public static func removeAbandoned(in parent: String, prefix: String, minimumAge: TimeInterval = 1, dryRun: Bool = false) -> Int {
        guard let names = FileIO.names(inDirectory: parent) else { return 0 }
        var removed = 0
        let now = Date().timeIntervalSince1970
        for name in names where name.hasPrefix(prefix) {
            let candidate = parent + "/" + name
            var st = stat()
            guard lstat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR,
                  now - TimeInterval(st.st_ctim.tv_sec) >= minimumAge else { continue }
            let fd = Glibc.open(candidate, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue } // still being written
            if !dryRun { try? FileIO.removeTree(candidate) }
            removed += 1
        }
        return removed
    }
}
