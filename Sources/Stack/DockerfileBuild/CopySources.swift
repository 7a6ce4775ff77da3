#if canImport(Glibc)
import Glibc
#endif
import Dockerfile
import Foundation
import OCI
import Runtime
import Support

/// Where COPY and ADD take files from: the build context (filtered by `.dockerignore`), or the
/// root of another stage or image (`--from`). Paths are resolved as if the root were `/`, so a
/// symlink can never lead a COPY out of the context or an image.
struct SourceRoot {
    /// The host directory.
    var path: String
    /// The context's ignore rules (nil for a stage or image).
    var ignore: DockerIgnore?
    /// Whether copied entries keep their owners (a stage or image) or become root's (the context).
    var keepsOwners: Bool
    /// How messages name it: "the build context", "stage build", "image debian:bookworm".
    var label: String
    /// Host paths (real) inside the root that are not part of it: the store and its
    /// `.stackship` folder when they lie in the context, as they do by default.
    var hidden: Set<String> = []

    func isHidden(_ hostPath: String) -> Bool {
        !hidden.isEmpty && hidden.contains(hostPath)
    }
}

/// One source of a COPY or ADD, found: the path as the root names it and the host path.
struct SelectedSource {
    /// The cleaned path inside the root (`/src/main.go`).
    var pathInRoot: String
    /// The host path (symlinks resolved inside the root).
    var hostPath: String
    /// Whether it is a directory (its contents are copied).
    var isDirectory: Bool
    /// Its name, used when it lands in a destination directory.
    var name: String { pathInRoot == "/" ? "" : String(pathInRoot.split(separator: "/").last ?? "") }
}

/// A file the walk of a selected source found, relative to the source.
struct SourceEntry {
    var relative: String
    var hostPath: String
    var info: stat
}

enum CopySources {
    /// Whether a COPY source uses wildcards (Go's filepath.Match syntax).
    static func hasWildcards(_ path: String) -> Bool {
        path.contains { "*?[".contains($0) }
    }

    /// Lexically cleans `path` against `/` (a source cannot climb above its root): nil when
    /// `..` would leave it.
    static func clean(_ path: String) -> String? {
        var parts: [Substring] = []
        for component in path.split(separator: "/") {
            switch component {
            case ".": continue
            case "..":
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            default: parts.append(component)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The sources `written` names in `root`: one path, or with wildcards every match (sorted).
    /// Ignored paths are invisible, as docker's context is. Throws a
    /// ``DockerfileBuildError/copySource`` naming the path and the fix when nothing is found.
    static func select(_ written: String, in root: SourceRoot, instruction: String,
                       at location: DockerfileLocation, file: String) throws -> [SelectedSource] {
        guard let cleaned = clean(written) else {
            throw DockerfileBuildError.copySource(file: file, location: location, instruction: instruction, source: written,
                                                  reason: "it is outside \(root.label); COPY and ADD can only take files inside it (move the file into the context, or widen the context)")
        }
        var candidates: [String] = []
        if hasWildcards(cleaned) {
            candidates = matches(cleaned, in: root)
            if candidates.isEmpty {
                throw DockerfileBuildError.copySource(file: file, location: location, instruction: instruction, source: written,
                                                      reason: "no file in \(root.label) matches it" + ignoreHint(root))
            }
        } else {
            if let ignore = root.ignore, cleaned != "/", ignore.isExcluded(String(cleaned.dropFirst())) {
                throw DockerfileBuildError.copySource(file: file, location: location, instruction: instruction, source: written,
                                                      reason: "it is excluded by .dockerignore; remove the pattern that matches it, or add an exception (!\(cleaned.dropFirst()))")
            }
            candidates = [cleaned]
        }
        var out: [SelectedSource] = []
        for path in candidates {
            let host: String
            do {
                host = try MergedRoot.hostPath(of: path, inRoot: root.path)
            } catch {
                throw DockerfileBuildError.copySource(file: file, location: location, instruction: instruction, source: written,
                                                      reason: "it is not in \(root.label)" + suggestion(for: path, in: root) + ignoreHint(root))
            }
            if root.isHidden(host) || root.hidden.contains(where: { host.hasPrefix($0 + "/") }) {
                throw DockerfileBuildError.copySource(file: file, location: location, instruction: instruction, source: written,
                                                      reason: "it is stackship's own store, which is never part of the build context; use --store to keep the store elsewhere")
            }
            var st = stat()
            guard stat(host, &st) == 0 else {
                throw DockerfileBuildError.copySource(file: file, location: location, instruction: instruction, source: written,
                                                      reason: "it is a dangling symlink in \(root.label); point it at a file or remove it")
            }
            out.append(SelectedSource(pathInRoot: path, hostPath: host, isDirectory: (st.st_mode & S_IFMT) == S_IFDIR))
        }
        return out
    }

    private static func ignoreHint(_ root: SourceRoot) -> String {
        guard let ignore = root.ignore, !ignore.patterns.isEmpty else { return "" }
        return " (or .dockerignore excludes it)"
    }

    private static func suggestion(for path: String, in root: SourceRoot) -> String {
        let (directory, name) = FileIO.split(path)
        guard let host = try? MergedRoot.hostPath(of: directory.isEmpty ? "/" : directory, inRoot: root.path),
              let names = FileIO.names(inDirectory: host),
              let close = Suggestions.closest(to: name, in: names) else { return "" }
        return "; did you mean '\(close)'?"
    }

    /// Every path in `root` matching the wildcard `pattern` component by component (sorted).
    private static func matches(_ pattern: String, in root: SourceRoot) -> [String] {
        var current = ["/"]
        for component in pattern.split(separator: "/").map(String.init) {
            var next: [String] = []
            for directory in current {
                let base = directory == "/" ? "" : directory
                if !hasWildcards(component) {
                    next.append(base + "/" + component)
                    continue
                }
                guard let host = try? MergedRoot.hostPath(of: directory, inRoot: root.path),
                      let names = FileIO.names(inDirectory: host) else { continue }
                for name in names.sorted() where fnmatch(component, name, FNM_PERIOD) == 0 && !root.isHidden(host + "/" + name) {
                    let candidate = base + "/" + name
                    if let ignore = root.ignore, ignore.isExcluded(String(candidate.dropFirst())) { continue }
                    next.append(candidate)
                }
            }
            current = next
        }
        return current.filter { (try? MergedRoot.hostPath(of: $0, inRoot: root.path)) != nil }
    }

    /// Walks a selected directory depth first (names sorted, symlinks not followed), skipping
    /// what `.dockerignore` excludes and what `excludes` (`COPY --exclude`) match.
    static func walk(_ source: SelectedSource, in root: SourceRoot, excludes: DockerIgnore?,
                     _ visit: (SourceEntry) throws -> Void) throws {
        func go(_ host: String, _ relative: String) throws {
            guard let names = FileIO.names(inDirectory: host) else {
                throw OCIError.io(path: host, operation: "read directory", errno: errno)
            }
            for name in names.sorted() where !root.isHidden(host + "/" + name) {
                let rel = relative.isEmpty ? name : relative + "/" + name
                let inRoot = (source.pathInRoot == "/" ? "" : source.pathInRoot) + "/" + rel
                if let ignore = root.ignore, ignore.isExcluded(String(inRoot.dropFirst())) {
                    var st = stat()
                    // A directory with exceptions under it is still walked (docker's rule).
                    guard ignore.hasExceptions, lstat(host + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR,
                          !ignore.canSkipDirectory(String(inRoot.dropFirst())) else { continue }
                    try go(host + "/" + name, rel)
                    continue
                }
                if let excludes, excludes.isExcluded(rel) { continue }
                var st = stat()
                guard lstat(host + "/" + name, &st) == 0 else { throw OCIError.io(path: host + "/" + name, operation: "stat", errno: errno) }
                if (st.st_mode & S_IFMT) == S_IFSOCK { continue }
                try visit(SourceEntry(relative: rel, hostPath: host + "/" + name, info: st))
                if (st.st_mode & S_IFMT) == S_IFDIR { try go(host + "/" + name, rel) }
            }
        }
        try go(source.hostPath, "")
    }

    /// A digest of what the sources hold (names, types, modes, sizes, link targets, content;
    /// owners too when the root keeps them), for the step's cache key. mtimes are left out:
    /// layers clamp them anyway.
    static func digest(of sources: [SelectedSource], in root: SourceRoot, excludes: DockerIgnore?) throws -> Digest {
        var digester = Digester()
        func add(_ text: String) { digester.update(Data(text.utf8)) }
        func describe(_ relative: String, _ host: String, _ st: stat) throws {
            let kind = st.st_mode & S_IFMT
            var line = "\(relative)\u{0}\(kind)\u{0}\(st.st_mode & 0o7777)"
            if root.keepsOwners { line += "\u{0}\(st.st_uid):\(st.st_gid)" }
            switch kind {
            case S_IFREG:
                let hashing = HashingSource(try Support.FileSource(path: host))
                try hashing.drain()
                line += "\u{0}\(st.st_size)\u{0}\(hashing.digest)"
            case S_IFLNK:
                line += "\u{0}" + (readLink(host) ?? "")
            default: break
            }
            add(line + "\n")
        }
        for source in sources {
            add("source \(source.pathInRoot)\n")
            var st = stat()
            guard stat(source.hostPath, &st) == 0 else { throw OCIError.io(path: source.hostPath, operation: "stat", errno: errno) }
            try describe("", source.hostPath, st)
            if source.isDirectory {
                try walk(source, in: root, excludes: excludes) { try describe($0.relative, $0.hostPath, $0.info) }
            }
        }
        return digester.finalize()
    }

    /// A copy of `source` at `target` without what `.dockerignore` excludes, for a RUN bind
    /// mount of the context. Files are hard links where the file system allows (a bind is
    /// read-only, and a writable one gets a copy-on-write layer, so the originals never change),
    /// else copies. Returns `target`.
    static func snapshot(_ source: SelectedSource, in root: SourceRoot, into target: String) throws -> String {
        guard source.isDirectory else {
            try FileIO.makeDirectories(FileIO.split(target).directory, mode: 0o700)
            try link(source.hostPath, target)
            return target
        }
        try FileIO.makeDirectories(target, mode: 0o755)
        try walk(source, in: root, excludes: nil) { entry in
            let path = target + "/" + entry.relative
            // An exception under an excluded folder (`!dir/keep`) comes without its folder.
            try FileIO.makeDirectories(FileIO.split(path).directory, mode: 0o755)
            switch entry.info.st_mode & S_IFMT {
            case S_IFDIR:
                guard mkdir(path, mode_t(entry.info.st_mode & 0o7777)) == 0 || errno == EEXIST else {
                    throw OCIError.io(path: path, operation: "create directory", errno: errno)
                }
            case S_IFLNK:
                guard symlink(readLink(entry.hostPath) ?? "", path) == 0 else { throw OCIError.io(path: path, operation: "create symlink", errno: errno) }
            case S_IFREG:
                try link(entry.hostPath, path)
            default:
                break
            }
        }
        return target

        func link(_ from: String, _ to: String) throws {
            if Glibc.link(from, to) == 0 { return }
            guard errno == EXDEV || errno == EPERM else { throw OCIError.io(path: to, operation: "link", errno: errno) }
            do {
                try FileManager.default.copyItem(atPath: from, toPath: to)
            } catch {
                throw OCIError.io(path: to, operation: "copy", errno: EIO)
            }
        }
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
