#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
import Runtime
import Support

/// A step's changes being made in a directory the way overlayfs keeps an upper directory, so
/// that it becomes the step's layer (``UpperDirLayer``) and, kept, a lower layer of the steps
/// after it. COPY, ADD and WORKDIR write here; RUN's upper directory comes from the runner.
///
/// Nothing here follows a symlink: a parent that is not a real directory in the change set is
/// replaced by one, so a link copied by an earlier source can never lead a write to the host.
struct ChangeSet {
    /// The directory (the image's `/`).
    let upper: String
    /// The stage's root before the step: parents that exist there keep their owner and mode.
    let view: MergedRoot?

    init(upper: String, view: MergedRoot?) throws {
        self.upper = upper
        self.view = view
        try FileIO.makeDirectories(upper, mode: 0o755)
        if let top = view?.directory("/") {
            _ = chown(upper, top.uid, top.gid)
            _ = chmod(upper, mode_t(top.mode))
        }
    }

    private func host(_ imagePath: String) -> String {
        let cleaned = CopySources.clean(imagePath) ?? "/"
        return cleaned == "/" ? upper : upper + cleaned
    }

    /// Makes every directory of the absolute `imagePath` that the change set lacks: those the
    /// stage's root has keep its owner and mode, the others get `owner` and 0755.
    func ensureDirectory(_ imagePath: String, owner: (uid: UInt32, gid: UInt32)) throws {
        var prefix = ""
        for component in (CopySources.clean(imagePath) ?? "/").split(separator: "/") {
            prefix += "/" + component
            let path = upper + prefix
            var st = stat()
            if lstat(path, &st) == 0 {
                if (st.st_mode & S_IFMT) == S_IFDIR { continue }
                try FileIO.removeTree(path)
            }
            let existing = view?.directory(prefix)
            guard mkdir(path, 0o755) == 0 else { throw OCIError.io(path: path, operation: "create directory", errno: errno) }
            let uid = existing?.uid ?? owner.uid, gid = existing?.gid ?? owner.gid
            guard chown(path, uid, gid) == 0, chmod(path, mode_t(existing?.mode ?? 0o755)) == 0 else {
                throw OCIError.io(path: path, operation: "set the owner and mode of", errno: errno)
            }
        }
    }

    /// Makes the directory `imagePath` itself with `mode` and `owner` (parents as
    /// ``ensureDirectory(_:owner:)``); a directory the stage's root has keeps its metadata.
    func makeDirectory(_ imagePath: String, mode: UInt32, owner: (uid: UInt32, gid: UInt32)) throws {
        let (parent, _) = FileIO.split(CopySources.clean(imagePath) ?? "/")
        if !parent.isEmpty { try ensureDirectory(parent, owner: owner) }
        let path = host(imagePath)
        var st = stat()
        if lstat(path, &st) == 0 {
            if (st.st_mode & S_IFMT) == S_IFDIR { return }
            try FileIO.removeTree(path)
        }
        let existing = view?.directory(imagePath)
        guard mkdir(path, 0o755) == 0 else { throw OCIError.io(path: path, operation: "create directory", errno: errno) }
        guard chown(path, existing?.uid ?? owner.uid, existing?.gid ?? owner.gid) == 0,
              chmod(path, mode_t(existing?.mode ?? mode & 0o7777)) == 0 else {
            throw OCIError.io(path: path, operation: "set the owner and mode of", errno: errno)
        }
    }

    /// Removes whatever is at `path` in the change set (so a file may replace a directory).
    private func clear(_ path: String) throws {
        var st = stat()
        if lstat(path, &st) == 0 { try FileIO.removeTree(path) }
    }

    /// Copies the regular file `source` (not following a final link) to `imagePath`.
    func copyFile(_ source: String, to imagePath: String, mode: UInt32, owner: (uid: UInt32, gid: UInt32),
                  parentOwner: (uid: UInt32, gid: UInt32)) throws {
        let (parent, _) = FileIO.split(CopySources.clean(imagePath) ?? "/")
        if !parent.isEmpty { try ensureDirectory(parent, owner: parentOwner) }
        let path = host(imagePath)
        try clear(path)
        let input = try FileIO.open(source, O_RDONLY | O_NOFOLLOW)
        defer { close(input) }
        let output = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw OCIError.io(path: path, operation: "create", errno: errno) }
        defer { close(output) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try FileIO.read(input, into: buffer, path: source)
            if n == 0 { break }
            try FileIO.writeAll(output, UnsafeRawBufferPointer(rebasing: buffer[0..<n]), path: path)
        }
        guard fchown(output, owner.uid, owner.gid) == 0, fchmod(output, mode_t(mode & 0o7777)) == 0 else {
            throw OCIError.io(path: path, operation: "set the owner and mode of", errno: errno)
        }
    }

    /// Writes `content` to `imagePath` (a here-document, a downloaded file).
    func writeFile(_ content: Data, to imagePath: String, mode: UInt32, owner: (uid: UInt32, gid: UInt32)) throws {
        let (parent, _) = FileIO.split(CopySources.clean(imagePath) ?? "/")
        if !parent.isEmpty { try ensureDirectory(parent, owner: owner) }
        let path = host(imagePath)
        try clear(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw OCIError.io(path: path, operation: "create", errno: errno) }
        defer { close(fd) }
        try content.withUnsafeBytes { try FileIO.writeAll(fd, $0, path: path) }
        guard fchown(fd, owner.uid, owner.gid) == 0, fchmod(fd, mode_t(mode & 0o7777)) == 0 else {
            throw OCIError.io(path: path, operation: "set the owner and mode of", errno: errno)
        }
    }

    /// Makes a symlink at `imagePath` pointing at `target` (never followed here).
    func makeSymlink(_ target: String, at imagePath: String, owner: (uid: UInt32, gid: UInt32),
                     parentOwner: (uid: UInt32, gid: UInt32)) throws {
        let (parent, _) = FileIO.split(CopySources.clean(imagePath) ?? "/")
        if !parent.isEmpty { try ensureDirectory(parent, owner: parentOwner) }
        let path = host(imagePath)
        try clear(path)
        guard symlink(target, path) == 0 else { throw OCIError.io(path: path, operation: "create symlink", errno: errno) }
        _ = lchown(path, owner.uid, owner.gid)
    }

    /// Copies `entry` (found under a copied directory) to `imagePath`: files, directories and
    /// symlinks; FIFOs and devices from an image root are recreated.
    func copy(_ entry: SourceEntry, to imagePath: String, mode: UInt32?, owner: (uid: UInt32, gid: UInt32)) throws {
        let entryMode = mode ?? (UInt32(entry.info.st_mode) & 0o7777)
        switch entry.info.st_mode & S_IFMT {
        case S_IFDIR:
            let path = host(imagePath)
            var st = stat()
            if lstat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFDIR { try FileIO.removeTree(path) }
            if lstat(path, &st) != 0 {
                try ensureDirectory(FileIO.split(CopySources.clean(imagePath) ?? "/").directory, owner: owner)
                guard mkdir(path, 0o700) == 0 else { throw OCIError.io(path: path, operation: "create directory", errno: errno) }
            }
            guard chown(path, owner.uid, owner.gid) == 0, chmod(path, mode_t(entryMode)) == 0 else {
                throw OCIError.io(path: path, operation: "set the owner and mode of", errno: errno)
            }
        case S_IFREG:
            try copyFile(entry.hostPath, to: imagePath, mode: entryMode, owner: owner, parentOwner: owner)
        case S_IFLNK:
            try makeSymlink(CopySources.readLink(entry.hostPath) ?? "", at: imagePath, owner: owner, parentOwner: owner)
        case S_IFIFO, S_IFCHR, S_IFBLK:
            let path = host(imagePath)
            try ensureDirectory(FileIO.split(CopySources.clean(imagePath) ?? "/").directory, owner: owner)
            try clear(path)
            guard mknod(path, entry.info.st_mode, entry.info.st_rdev) == 0 else { throw OCIError.io(path: path, operation: "create", errno: errno) }
            _ = lchown(path, owner.uid, owner.gid)
        default:
            return
        }
    }
}
