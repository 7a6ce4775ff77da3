#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support

/// A file or directory on the host to be placed at `destination` inside a layer.
public struct LayerSource: Sendable, Hashable {
    /// Absolute host path. A symlink here is followed (as docker's COPY does).
    public var source: String
    /// Absolute path inside the image.
    public var destination: String
    /// Permission bits for a single-file source; nil keeps the file's own.
    public var mode: UInt32?
    /// Follow symlinks inside a directory source (loops are detected and refused).
    public var followSymlinks: Bool
    /// Glob patterns (fnmatch) matched against paths relative to `source`, and against base names.
    public var exclude: [String]
    /// A folder the walk must stay inside (a stack file's build context), or nil for none.
    /// When set, `source` itself and every symlink followed under it (`followSymlinks`) must
    /// resolve, symlinks and `..` included, inside it; otherwise the walk throws
    /// ``OCIError/sourceOutside(path:resolved:root:)`` before visiting anything past it.
    public var confinement: String?

    public init(source: String, destination: String, mode: UInt32? = nil, followSymlinks: Bool = false, exclude: [String] = [],
                confinement: String? = nil) {
        self.source = source
        self.destination = destination
        self.mode = mode
        self.followSymlinks = followSymlinks
        self.exclude = exclude
        self.confinement = confinement
    }
}

/// An entry planned for a layer, with the host file that supplies a regular file's content.
public struct PlannedEntry: Sendable {
    public var entry: TarEntry
    public var contentPath: String?
}

/// Walks layer sources into tar entries in archive order (no file content is read here).
///
/// Archive order is depth first with siblings sorted by name, which is the order
/// `tarPathPrecedes` gives; a single source is walked in that order directly, so memory
/// depends on the tree's depth and widest directory, never on its number of files.
public enum SourceTree {
    /// Visits the entries of one layer from `sources` in archive order. Parent directories of
    /// each destination come first (mode 0755). With several sources, later ones replace
    /// earlier ones at the same path, which needs the whole plan in memory.
    public static func walk(_ sources: [LayerSource], _ visit: (PlannedEntry) throws -> Void) throws {
        guard sources.count == 1, let source = sources.first else {
            for entry in try plan(sources) { try visit(entry) }
            return
        }
        for parent in parents(of: relative(source.destination)) {
            try visit(PlannedEntry(entry: TarEntry(path: parent, kind: .directory, mode: 0o755), contentPath: nil))
        }
        var links = HardlinkTracker()
        var walker = Walker(source: source)
        try walker.run { entry in try visit(links.resolve(entry)) }
    }

    /// Counts what `walk` would visit: entries and content bytes (for progress totals).
    public static func measure(_ sources: [LayerSource]) throws -> (entries: Int, bytes: Int64) {
        var entries = 0
        var bytes: Int64 = 0
        try walk(sources) { planned in
            entries += 1
            if planned.contentPath != nil { bytes += planned.entry.size }
        }
        return (entries, bytes)
    }

    /// Plans all the entries of one layer in memory, sorted in archive order; later sources
    /// replace earlier ones at the same path.
    public static func plan(_ sources: [LayerSource]) throws -> [PlannedEntry] {
        var byPath: [String: PlannedEntry] = [:]
        for source in sources {
            var walker = Walker(source: source)
            try walker.run { byPath[$0.entry.path] = $0 }
            for parent in parents(of: relative(source.destination)) where byPath[parent] == nil {
                byPath[parent] = PlannedEntry(entry: TarEntry(path: parent, kind: .directory, mode: 0o755), contentPath: nil)
            }
        }
        var entries = Array(byPath.values)
        entries.sort { tarPathPrecedes($0.entry.path, $1.entry.path) }
        var links = HardlinkTracker()
        return entries.map { links.resolve($0) }
    }

    /// The absolute path `path` names once every symlink and `..` in it is resolved
    /// (realpath(3)); nil when it cannot be resolved (missing, a loop, a component unreadable).
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether the absolute, normalised `path` is `root` or lies under it (by whole components,
    /// so `/a/bc` is not inside `/a/b`).
    public static func isInside(_ path: String, root: String) -> Bool {
        let base = root.hasSuffix("/") ? String(root.dropLast()) : root
        return base.isEmpty || path == base || path.hasPrefix(base + "/")
    }

    static func relative(_ destination: String) -> String {
        var s = Substring(destination)
        while s.hasPrefix("/") { s = s.dropFirst() }
        while s.hasSuffix("/") { s = s.dropLast() }
        return String(s)
    }

    static func parents(of path: String) -> [String] {
        var out: [String] = []
        var components = path.split(separator: "/").map(String.init)
        components.removeLast(min(1, components.count))
        var current = ""
        for c in components {
            current = current.isEmpty ? c : current + "/" + c
            out.append(current)
        }
        return out
    }

    /// The first path (in archive order) of each multiply-linked inode stays a file; the others
    /// become hardlinks to it, so the layer's bytes depend only on the order, never on the walk.
    /// Only inodes with several links are remembered.
    struct HardlinkTracker {
        private var firstPath: [String: String] = [:]

        mutating func resolve(_ planned: PlannedEntry) -> PlannedEntry {
            var p = planned
            guard let key = p.entry.extraPAXRecords.removeValue(forKey: Walker.inodeKey) else { return p }
            if let first = firstPath[key] {
                p.entry.kind = .hardlink
                p.entry.linkTarget = first
                p.entry.size = 0
                p.contentPath = nil
            } else {
                firstPath[key] = p.entry.path
            }
            return p
        }
    }

    private struct Walker {
        static let inodeKey = "stackship.inode"
        let source: LayerSource
        /// ``LayerSource/confinement`` resolved.
        let root: String?
        var ancestors: Set<[UInt64]> = []

        init(source: LayerSource) {
            self.source = source
            root = source.confinement.map { SourceTree.realPath($0) ?? FileIO.standardize($0) }
        }

        /// Throws when `path` resolves outside the confinement root. A path that does not
        /// resolve (missing, a loop) is left to the stat that follows, which says why.
        private func checkConfined(_ path: String) throws {
            guard let root, let resolved = SourceTree.realPath(path) else { return }
            guard SourceTree.isInside(resolved, root: root) else {
                throw OCIError.sourceOutside(path: path, resolved: resolved, root: root)
            }
        }

        mutating func run(_ emit: (PlannedEntry) throws -> Void) throws {
            try checkConfined(source.source)
            var st = stat()
            guard stat(source.source, &st) == 0 else {
                let code = errno
                switch code {
                case ELOOP: throw OCIError.sourceTree(path: source.source, reason: "is a symlink loop; make the link point at a real file or directory")
                case ENOENT: throw OCIError.sourceTree(path: source.source, reason: "does not exist (or is a dangling symlink); fix the path or create it first")
                default: throw OCIError.io(path: source.source, operation: "stat", errno: code)
                }
            }
            let dest = relative(source.destination)
            if (st.st_mode & S_IFMT) == S_IFDIR {
                if !dest.isEmpty {
                    try emit(PlannedEntry(entry: TarEntry(path: dest, kind: .directory, mode: UInt32(st.st_mode) & 0o7777, mtime: Int64(st.st_mtim.tv_sec)), contentPath: nil))
                }
                ancestors.insert([UInt64(st.st_dev), UInt64(st.st_ino)])
                try walk(directory: source.source, relativeTo: "", destination: dest, emit)
            } else {
                guard !dest.isEmpty else { throw OCIError.sourceTree(path: source.source, reason: "is a file but its destination is '/'; give a file path as destination") }
                var planned = try entry(path: source.source, st: st, archivePath: dest, followed: true)
                if let mode = source.mode { planned.entry.mode = mode & 0o7777 }
                try emit(planned)
            }
        }

        private mutating func walk(directory: String, relativeTo rel: String, destination: String, _ emit: (PlannedEntry) throws -> Void) throws {
            guard let dir = opendir(directory) else {
                throw OCIError.io(path: directory, operation: "read directory", errno: errno)
            }
            var names: [String] = []
            // Names that may be symlinks (readdir's d_type says so, or does not know).
            var maybeLinks: Set<String> = []
            while let ent = readdir(dir) {
                let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                    String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                }
                if name == "." || name == ".." { continue }
                names.append(name)
                if ent.pointee.d_type == UInt8(DT_LNK) || ent.pointee.d_type == UInt8(DT_UNKNOWN) { maybeLinks.insert(name) }
            }
            closedir(dir)
            names.sort { tarPathPrecedes($0, $1) }
            for name in names {
                let childRel = rel.isEmpty ? name : rel + "/" + name
                if excluded(childRel, name: name) { continue }
                let hostPath = directory + "/" + name
                let archivePath = destination.isEmpty ? childRel : destination + "/" + childRel
                var st = stat()
                if source.followSymlinks {
                    // A followed link must not lead out of the confinement root; what is not
                    // followed is stored as a link and reads nothing.
                    if root != nil, maybeLinks.contains(name) { try checkConfined(hostPath) }
                    guard stat(hostPath, &st) == 0 else {
                        let code = errno
                        if code == ELOOP { throw OCIError.sourceTree(path: hostPath, reason: "is a symlink loop; fix the link or set follow_symlinks: false") }
                        if code == ENOENT { throw OCIError.sourceTree(path: hostPath, reason: "is a dangling symlink; fix the link or set follow_symlinks: false") }
                        throw OCIError.io(path: hostPath, operation: "stat", errno: code)
                    }
                } else {
                    guard lstat(hostPath, &st) == 0 else { throw OCIError.io(path: hostPath, operation: "stat", errno: errno) }
                }
                let type = st.st_mode & S_IFMT
                if type == S_IFSOCK { continue } // sockets cannot be archived; tar skips them too
                try emit(try entry(path: hostPath, st: st, archivePath: archivePath, followed: source.followSymlinks))
                if type == S_IFDIR {
                    let key = [UInt64(st.st_dev), UInt64(st.st_ino)]
                    if ancestors.contains(key) {
                        throw OCIError.sourceTree(path: hostPath, reason: "is a symlink loop: it leads back to a directory that contains it; fix the link or set follow_symlinks: false")
                    }
                    ancestors.insert(key)
                    try walk(directory: hostPath, relativeTo: childRel, destination: destination, emit)
                    ancestors.remove(key)
                }
            }
        }

        private func excluded(_ rel: String, name: String) -> Bool {
            source.exclude.contains { pattern in
                fnmatch(pattern, rel, FNM_PATHNAME) == 0 || (!pattern.contains("/") && fnmatch(pattern, name, 0) == 0)
            }
        }

        private func entry(path: String, st: stat, archivePath: String, followed: Bool) throws -> PlannedEntry {
            let mode = UInt32(st.st_mode) & 0o7777
            let mtime = Int64(st.st_mtim.tv_sec)
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                var e = TarEntry(path: archivePath, kind: .regular, mode: mode, size: Int64(st.st_size), mtime: mtime)
                if st.st_nlink > 1 && !followed { e.extraPAXRecords[Self.inodeKey] = "\(st.st_dev):\(st.st_ino)" }
                return PlannedEntry(entry: e, contentPath: path)
            case S_IFDIR:
                return PlannedEntry(entry: TarEntry(path: archivePath, kind: .directory, mode: mode, mtime: mtime), contentPath: nil)
            case S_IFLNK:
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(path, &buffer, buffer.count - 1)
                guard n >= 0 else { throw OCIError.io(path: path, operation: "read link", errno: errno) }
                let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return PlannedEntry(entry: TarEntry(path: archivePath, kind: .symlink, mode: 0o777, linkTarget: target, mtime: mtime), contentPath: nil)
            case S_IFIFO:
                return PlannedEntry(entry: TarEntry(path: archivePath, kind: .fifo, mode: mode, mtime: mtime), contentPath: nil)
            case S_IFCHR, S_IFBLK:
                var e = TarEntry(path: archivePath, kind: (st.st_mode & S_IFMT) == S_IFCHR ? .characterDevice : .blockDevice, mode: mode, mtime: mtime)
                e.deviceMajor = UInt32((st.st_rdev >> 8) & 0xfff) | UInt32((st.st_rdev >> 32) & ~0xfff)
                e.deviceMinor = UInt32(st.st_rdev & 0xff) | UInt32((st.st_rdev >> 12) & ~0xff)
                return PlannedEntry(entry: e, contentPath: nil)
            default:
                throw OCIError.sourceTree(path: path, reason: "is of a type that cannot go in a layer")
            }
        }
    }
}
