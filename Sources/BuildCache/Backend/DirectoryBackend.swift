#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support
import OCI

/// A cache in a local directory (the embedded default): each object is a file at `root/key`.
///
/// Writes go to a `.tmp-` file beside the final name and are renamed (replace) or hard-linked
/// (create-only) into place after an fsync, so no reader ever sees half an object, and several
/// processes can write the same directory without locks. Listing skips `.tmp-` files.
public struct DirectoryBackend: CacheBackend {
    /// The directory holding the objects (absolute).
    public let root: String

    /// Opens the cache at `root`; creates it when `create`, else throws
    /// `BuildCacheError.cacheMissing` if there is no directory there.
    public init(root: String, create: Bool) throws {
        let absolute = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
        self.root = (absolute as NSString).standardizingPath
        if create {
            do { try FileIO.makeDirectories(self.root) } catch { throw Self.translate(error, path: self.root) }
        }
        var st = stat()
        guard stat(self.root, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw BuildCacheError.cacheMissing(path: self.root)
        }
    }

    /// The directory's path.
    public var location: String { root }

    public func put(_ key: String, fromFile path: String) async throws {
        try CacheKey.validate(key)
        let final = root + "/" + key
        let temp = try writeTemporary(copying: path, beside: final)
        guard rename(temp, final) == 0 else {
            let code = errno
            unlink(temp)
            throw BuildCacheError.io(path: final, operation: "rename into place", errno: code)
        }
        FileIO.syncDirectory((final as NSString).deletingLastPathComponent)
    }

    public func putIfAbsent(_ key: String, fromFile path: String) async throws -> Bool {
        try CacheKey.validate(key)
        let final = root + "/" + key
        let temp = try writeTemporary(copying: path, beside: final)
        defer { unlink(temp) }
        // link(2) fails with EEXIST instead of replacing: create-only, atomically.
        if link(temp, final) == 0 {
            FileIO.syncDirectory((final as NSString).deletingLastPathComponent)
            return true
        }
        if errno == EEXIST { return false }
        throw BuildCacheError.io(path: final, operation: "create", errno: errno)
    }

    public func get(_ key: String, toFile path: String) async throws {
        try CacheKey.validate(key)
        let source = root + "/" + key
        let fd = Glibc.open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw BuildCacheError.objectNotFound(key: key, backend: location) }
            throw BuildCacheError.io(path: source, operation: "open", errno: errno)
        }
        defer { close(fd) }
        do {
            let writer = try AtomicFileWriter(destination: path, mode: 0o600)
            try copy(from: fd, path: source, to: writer)
            try writer.commit(durable: false)
        } catch let error as BuildCacheError {
            throw error
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    public func head(_ key: String) async throws -> CacheObject? {
        try CacheKey.validate(key)
        let path = root + "/" + key
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw BuildCacheError.io(path: path, operation: "stat", errno: errno)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return CacheObject(key: key, size: Int64(st.st_size), modified: Self.date(st.st_mtim))
    }

    public func list(prefix: String) async throws -> [CacheObject] {
        // The deepest directory the prefix names fully; everything under it is a candidate.
        let directory = prefix.lastIndex(of: "/").map { String(prefix[..<$0]) } ?? ""
        var out: [CacheObject] = []
        try walk(relative: directory) { object in
            if object.key.hasPrefix(prefix) { out.append(object) }
        }
        out.sort { $0.key < $1.key }
        return out
    }

    public func delete(_ key: String) async throws {
        try CacheKey.validate(key)
        let path = root + "/" + key
        guard unlink(path) == 0 || errno == ENOENT || errno == ENOTDIR else {
            throw BuildCacheError.io(path: path, operation: "delete", errno: errno)
        }
        // Empty directories left behind are removed, up to (not including) the root. A concurrent
        // put that loses its directory this way recreates it (see writeTemporary).
        var dir = (path as NSString).deletingLastPathComponent
        while dir.count > root.count && dir.hasPrefix(root + "/") {
            guard rmdir(dir) == 0 else { break }
            dir = (dir as NSString).deletingLastPathComponent
        }
    }

    // MARK: Files

    /// Copies `source` into a fsynced `.tmp-` file in `final`'s directory (created if needed).
    private func writeTemporary(copying source: String, beside final: String) throws -> String {
        let input = Glibc.open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BuildCacheError.io(path: source, operation: "open", errno: errno) }
        defer { close(input) }
        let dir = (final as NSString).deletingLastPathComponent
        let temp = dir + "/.tmp-\(FileIO.randomSuffix())-" + (final as NSString).lastPathComponent
        var fd: Int32 = -1
        for _ in 0..<10 {
            do { try FileIO.makeDirectories(dir) } catch { throw Self.translate(error, path: dir) }
            fd = Glibc.open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            // ENOENT: a concurrent delete removed the (empty) directory in between; make it again.
            if fd >= 0 || errno != ENOENT { break }
        }
        guard fd >= 0 else { throw BuildCacheError.io(path: final, operation: "write", errno: errno) }
        let sink = FileSink(fd: fd, path: final, owns: true)
        do {
            try copy(from: input, path: source, to: sink)
            try sink.flush()
            guard fsync(fd) == 0 else { throw BuildCacheError.io(path: temp, operation: "fsync", errno: errno) }
        } catch {
            unlink(temp)
            if let e = error as? BuildCacheError { throw e }
            throw Self.translate(error, path: final)
        }
        return temp
    }

    private func copy(from fd: Int32, path: String, to sink: ByteSink) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try FileIO.read(fd, into: buffer, path: path)
            if n == 0 { break }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        try sink.finish()
    }

    private func walk(relative: String, _ visit: (CacheObject) -> Void) throws {
        let path = relative.isEmpty ? root : root + "/" + relative
        guard let dir = opendir(path) else {
            if errno == ENOENT || errno == ENOTDIR { return }
            throw BuildCacheError.io(path: path, operation: "list", errno: errno)
        }
        var names: [String] = []
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
            if name == "." || name == ".." || name.hasPrefix(".tmp-") { continue }
            names.append(name)
        }
        closedir(dir)
        for name in names {
            let key = relative.isEmpty ? name : relative + "/" + name
            var st = stat()
            guard lstat(root + "/" + key, &st) == 0 else { continue } // deleted meanwhile
            switch st.st_mode & S_IFMT {
            case S_IFDIR: try walk(relative: key, visit)
            case S_IFREG: visit(CacheObject(key: key, size: Int64(st.st_size), modified: Self.date(st.st_mtim)))
            default: continue
            }
        }
    }

    static func date(_ t: timespec) -> Date {
        Date(timeIntervalSince1970: TimeInterval(t.tv_sec) + TimeInterval(t.tv_nsec) / 1e9)
    }

    static func translate(_ error: Error, path: String) -> Error {
        if case let SupportError.io(p, operation, code) = error { return BuildCacheError.io(path: p, operation: operation, errno: code) }
        return error
    }
}
