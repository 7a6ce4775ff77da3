import Support
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CSupport

/// An overlayfs upper directory (the changes a container made to the lower layers under it)
/// turned into an OCI layer, as docker's overlay2 driver does for a build step:
///
/// - a whiteout (a character device 0/0, or a file with the `overlay.whiteout` xattr) becomes
///   an empty `.wh.NAME` file;
/// - an opaque directory (xattr `trusted.overlay.opaque` or `user.overlay.opaque` = `y`) is
///   followed at once by a `DIR/.wh..wh..opq` entry, so its lower content is hidden;
/// - owners stay numeric (a step may create files for `_apt`, `www-data`, ...), names are left
///   empty; modes, symlinks and devices are kept; a file linked twice in the directory becomes a
///   hardlink entry to the first path in archive order;
/// - xattrs are dropped except `security.capability` (file capabilities, as docker keeps them);
/// - entries are in `tarPathPrecedes` order and mtimes clamped to the epoch, so the same changes
///   always give the same bytes. Directories overlay copied up unchanged are kept (they are the
///   parents of what changed, as docker includes them).
///
/// The walk streams: memory depends on the widest directory, never on the number of files.
public struct UpperDirLayer: Sendable, Hashable {
    /// The upper directory, read while nothing is mounted on it.
    public var upperDirectory: String
    /// Paths in the image (`/etc/hosts`) left out of the layer with everything below them: mount
    /// targets of the step, whose content is not the container's.
    public var excluded: [String]
    /// Paths left out when they are directories with nothing left in them once `excluded` is
    /// applied: the parents a runtime made for its mount points, which the lower root lacked.
    public var excludedIfEmpty: [String]

    /// `excluded` and `excludedIfEmpty` are absolute image paths; `.` and `..` are resolved lexically.
    public init(upperDirectory: String, excluding excluded: [String] = [], excludingIfEmpty excludedIfEmpty: [String] = []) {
        self.upperDirectory = upperDirectory
        self.excluded = excluded
        self.excludedIfEmpty = excludedIfEmpty
    }

    /// The PAX record that carries file capabilities (docker's and GNU tar's name for it).
    public static let capabilityRecord = "SCHILY.xattr.security.capability"

    /// Writes the layer's tar stream into `sink` (finishing it); returns the diffID, the size of
    /// the tar and the number of entries. mtimes are clamped to `epoch` (SOURCE_DATE_EPOCH or 0).
    /// Throws ``SupportError/io(path:operation:errno:)`` when the directory cannot be read.
    public func writeTar(epoch: Int64, to sink: ByteSink) throws -> (diffID: Digest, size: Int64, entries: Int) {
        let digesting = DigestingSink(next: sink)
        let writer = Writer(tar: TarWriter(sink: digesting), epoch: epoch, excluded: Set(excluded.map(Self.relative)),
                            excludedIfEmpty: Set(excludedIfEmpty.map(Self.relative)))
        try writer.walk(directory: upperDirectory, relative: "")
        try writer.tar.finish()
        return (digesting.digest, digesting.count, writer.count)
    }

    /// Builds the layer into `store` in one streaming pass (tar → diffID → compressor → blob);
    /// nothing appears in the store unless the whole layer was written.
    public func build(options: LayerOptions, into store: ContentStore) throws -> BuiltLayer {
        let blob = try store.ingest()
        do {
            let compressor = try Compressor.sink(options.compression, level: options.level, threads: options.threads, next: blob)
            let (diffID, size, count) = try writeTar(epoch: options.epoch, to: compressor)
            let (digest, blobSize) = try blob.commit()
            return BuiltLayer(descriptor: Descriptor(mediaType: MediaType.ociLayer(options.compression), digest: digest, size: blobSize),
                              diffID: diffID, uncompressedSize: size, entryCount: count)
        } catch {
            blob.abort()
            throw error
        }
    }

    /// Builds the layer into the file at `path` (written atomically).
    public func build(options: LayerOptions, toFile path: String) throws -> BuiltLayer {
        let file = try AtomicFileWriter(destination: path)
        let digesting = DigestingSink(next: file)
        let compressor = try Compressor.sink(options.compression, level: options.level, threads: options.threads, next: digesting)
        let (diffID, size, count) = try writeTar(epoch: options.epoch, to: compressor)
        try file.commit()
        return BuiltLayer(descriptor: Descriptor(mediaType: MediaType.ociLayer(options.compression), digest: digesting.digest, size: digesting.count),
                          diffID: diffID, uncompressedSize: size, entryCount: count)
    }

    static func relative(_ path: String) -> String {
        var s = Substring(FileIO.standardize("/" + path))
        while s.hasPrefix("/") { s = s.dropFirst() }
        return String(s)
    }

    /// An extended attribute of `path` (not following a link), or nil when it has none.
    static func attribute(_ name: String, of path: String) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let n = lgetxattr(path, name, &buffer, buffer.count)
            if n >= 0 { return Array(buffer[0..<n]) }
            guard errno == ERANGE, buffer.count < 65536 else { return nil }
            buffer = [UInt8](repeating: 0, count: buffer.count * 4)
        }
    }

    static func isOpaque(_ path: String) -> Bool {
        attribute("trusted.overlay.opaque", of: path) == Array("y".utf8) || attribute("user.overlay.opaque", of: path) == Array("y".utf8)
    }

    /// A whiteout as overlayfs writes it: a 0/0 character device, or (since Linux 6.7) an empty
    /// file marked with an `overlay.whiteout` xattr.
    static func isWhiteout(_ path: String, _ st: stat) -> Bool {
        switch st.st_mode & S_IFMT {
        case S_IFCHR: return st.st_rdev == 0
        case S_IFREG:
            return st.st_size == 0 && (attribute("trusted.overlay.whiteout", of: path) != nil || attribute("user.overlay.whiteout", of: path) != nil)
        default: return false
        }
    }

    private final class Writer {
        let tar: TarWriter
        let epoch: Int64
        let excluded: Set<String>
        let excludedIfEmpty: Set<String>
        var count = 0
        /// First archive path of each multiply-linked file, by device and inode.
        var firstLink: [[UInt64]: String] = [:]
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)

        init(tar: TarWriter, epoch: Int64, excluded: Set<String>, excludedIfEmpty: Set<String>) {
            self.tar = tar
            self.epoch = epoch
            self.excluded = excluded
            self.excludedIfEmpty = excludedIfEmpty
        }

        deinit { buffer.deallocate() }

        /// The names in `directory` in archive order, sockets and excluded paths left out.
        func children(of directory: String, relative: String) throws -> [(name: String, st: stat)] {
            guard let names = FileIO.names(inDirectory: directory) else {
                throw SupportError.io(path: directory, operation: "read directory", errno: errno)
            }
            var out: [(String, stat)] = []
            for name in names.sorted(by: tarPathPrecedes) {
                let rel = relative.isEmpty ? name : relative + "/" + name
                if excluded.contains(rel) { continue }
                var st = stat()
                guard lstat(directory + "/" + name, &st) == 0 else { throw SupportError.io(path: directory + "/" + name, operation: "stat", errno: errno) }
                if (st.st_mode & S_IFMT) == S_IFSOCK { continue } // a tar cannot hold a socket
                if (st.st_mode & S_IFMT) == S_IFDIR, excludedIfEmpty.contains(rel), try isEmpty(directory + "/" + name, relative: rel) { continue }
                out.append((name, st))
            }
            return out
        }

        /// Whether nothing of a directory would reach the layer (a mount point's parent).
        func isEmpty(_ directory: String, relative: String) throws -> Bool {
            try children(of: directory, relative: relative).isEmpty
        }

        func walk(directory: String, relative: String) throws {
            for (name, st) in try children(of: directory, relative: relative) {
                let path = directory + "/" + name
                let rel = relative.isEmpty ? name : relative + "/" + name
                try emit(path: path, relative: rel, parent: relative, name: name, st: st)
                if (st.st_mode & S_IFMT) == S_IFDIR {
                    if UpperDirLayer.isOpaque(path) {
                        var marker = entry(rel + "/.wh..wh..opq", .regular, mode: UInt32(st.st_mode) & 0o777, st)
                        marker.size = 0
                        try write(marker)
                    }
                    try walk(directory: path, relative: rel)
                }
            }
        }

        func entry(_ path: String, _ kind: TarEntry.Kind, mode: UInt32, _ st: stat) -> TarEntry {
            var e = TarEntry(path: path, kind: kind, mode: mode, mtime: min(max(Int64(st.st_mtim.tv_sec), 0), epoch))
            e.uid = Int(st.st_uid)
            e.gid = Int(st.st_gid)
            return e
        }

        func write(_ e: TarEntry) throws {
            try tar.writeHeader(e)
            count += 1
        }

        func emit(path: String, relative rel: String, parent: String, name: String, st: stat) throws {
            let mode = UInt32(st.st_mode) & 0o7777
            if UpperDirLayer.isWhiteout(path, st) {
                return try write(entry((parent.isEmpty ? "" : parent + "/") + ".wh." + name, .regular, mode: 0o600, st))
            }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                try write(entry(rel, .directory, mode: mode, st))
            case S_IFLNK:
                var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(path, &target, target.count - 1)
                guard n >= 0 else { throw SupportError.io(path: path, operation: "read link", errno: errno) }
                var e = entry(rel, .symlink, mode: 0o777, st)
                e.linkTarget = String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                try write(e)
            case S_IFIFO:
                try write(entry(rel, .fifo, mode: mode, st))
            case S_IFCHR, S_IFBLK:
                var e = entry(rel, (st.st_mode & S_IFMT) == S_IFCHR ? .characterDevice : .blockDevice, mode: mode, st)
                e.deviceMajor = UInt32((st.st_rdev >> 8) & 0xfff) | UInt32((st.st_rdev >> 32) & ~0xfff)
                e.deviceMinor = UInt32(st.st_rdev & 0xff) | UInt32((st.st_rdev >> 12) & ~0xff)
                try write(e)
            case S_IFREG:
                try regular(path: path, relative: rel, st: st, mode: mode)
            default:
                throw OCIError.sourceTree(path: path, reason: "is of a type that cannot go in a layer")
            }
        }

        func regular(path: String, relative rel: String, st: stat, mode: UInt32) throws {
            var e = entry(rel, .regular, mode: mode, st)
            if st.st_nlink > 1 {
                let key = [UInt64(st.st_dev), UInt64(st.st_ino)]
                if let first = firstLink[key] {
                    e.kind = .hardlink
                    e.linkTarget = first
                    return try write(e)
                }
                firstLink[key] = rel
            }
            let capability = UpperDirLayer.attribute("security.capability", of: path)
            let fd = try FileIO.open(path, O_RDONLY | O_NOFOLLOW)
            defer { close(fd) }
            // The size of the open file: what is read is what the header says.
            var now = stat()
            guard fstat(fd, &now) == 0 else { throw SupportError.io(path: path, operation: "stat", errno: errno) }
            e.size = Int64(now.st_size)
            if let capability {
                try writeHeader(e, capability: capability)
            } else {
                try tar.writeHeader(e)
            }
            count += 1
            var remaining = e.size
            while remaining > 0 {
                let want = Int(min(Int64(buffer.count), remaining))
                let n = try FileIO.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), path: path)
                if n == 0 {
                    throw OCIError.sourceTree(path: path, reason: "shrank while it was being read (it was \(e.size) bytes); nothing may write to an upper directory while its layer is made")
                }
                try tar.writeContent(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                remaining -= Int64(n)
            }
            try tar.finishContent(size: e.size)
        }

        /// A header with the binary capability xattr: TarWriter takes PAX values as text, so the
        /// header is written with an ASCII placeholder of the same length into memory, the
        /// placeholder replaced by the bytes (a PAX record is length-prefixed, and its body is
        /// not checksummed), and the result passed on as raw bytes.
        func writeHeader(_ entry: TarEntry, capability: [UInt8]) throws {
            var e = entry
            e.extraPAXRecords[UpperDirLayer.capabilityRecord] = String(repeating: "x", count: capability.count)
            let memory = DataSink()
            try TarWriter(sink: memory).writeHeader(e)
            var bytes = [UInt8](memory.data)
            let key = Array((UpperDirLayer.capabilityRecord + "=").utf8)
            // Past the PAX header's own 512-byte block, which holds the entry's name.
            guard bytes.count > 512, let at = Self.find(key, in: bytes, from: 512), at + key.count + capability.count <= bytes.count else {
                throw OCIError.tar("cannot place the capability of \(entry.path) in its PAX header")
            }
            bytes.replaceSubrange((at + key.count)..<(at + key.count + capability.count), with: capability)
            try bytes.withUnsafeBytes { try tar.writeContent($0) }
        }

        static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
            guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
            for i in start...(haystack.count - needle.count) where haystack[i] == needle[0] {
                if Array(haystack[i..<(i + needle.count)]) == needle { return i }
            }
            return nil
        }
    }
}
