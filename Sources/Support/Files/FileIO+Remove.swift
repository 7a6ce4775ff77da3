#if canImport(Glibc)
import Glibc
#endif

extension FileIO {
    /// Deletes `name` in the directory open as `dir`, recursing into a directory by descriptor
    /// and never following a link; a read-only directory is made writable first so that an
    /// unprivileged caller can empty it. Succeeds if nothing is there. Throws with
    /// `displayPath` (the entry's path for messages).
    public static func removeEntry(_ name: String, in dir: Int32, displayPath: String) throws {
        var st = stat()
        guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            let child = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else { throw SupportError.io(path: displayPath, operation: "open directory", errno: errno) }
            defer { close(child) }
            if st.st_mode & 0o700 != 0o700 { fchmod(child, 0o700) }
            try removeChildren(of: child, displayPath: displayPath)
            guard unlinkat(dir, name, AT_REMOVEDIR) == 0 else { throw SupportError.io(path: displayPath, operation: "remove directory", errno: errno) }
        } else {
            guard unlinkat(dir, name, 0) == 0 else { throw SupportError.io(path: displayPath, operation: "remove", errno: errno) }
        }
    }

    /// Deletes everything in the directory open as `dir` for which `keeping` is false.
    public static func removeChildren(of dir: Int32, displayPath: String, keeping: (String) -> Bool = { _ in false }) throws {
        let listing = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard listing >= 0, let names = names(inOpenedDirectory: listing) else {
            throw SupportError.io(path: displayPath, operation: "read directory", errno: errno)
        }
        for name in names where !keeping(name) {
            try removeEntry(name, in: dir, displayPath: displayPath + "/" + name)
        }
    }

    /// Deletes the file or tree at `path` without following links inside it; nothing there is
    /// not an error.
    public static func removeTree(_ path: String) throws {
        let (directory, name) = split(path)
        let parent = Glibc.open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else {
            if errno == ENOENT { return }
            throw SupportError.io(path: directory, operation: "open directory", errno: errno)
        }
        defer { close(parent) }
        try removeEntry(name, in: parent, displayPath: path)
    }
}
