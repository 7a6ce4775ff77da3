import Foundation
import Support
import OCI

/// Lexical path handling and file checks for paths on the build host.
enum StackPaths {
    /// What a checked path is.
    enum Kind: Equatable { case file, directory }

    /// The outcome of ``inspect(_:)``.
    enum Inspection: Equatable {
        case ok(Kind)
        case missing
        case brokenSymlink(target: String)
        case symlinkLoop
        case unreadable(isDirectory: Bool)
        case unsearchable
        case notFileOrDirectory
        case error(Int32)
    }

    /// `path` made absolute against `base`, then normalised.
    static func absolute(_ path: String, relativeTo base: String) -> String {
        normalise(path.hasPrefix("/") ? path : base + "/" + path)
    }

    /// The directory containing the absolute `path`.
    static func parent(of path: String) -> String {
        var components = normalise(path).split(separator: "/")
        guard !components.isEmpty else { return "/" }
        components.removeLast()
        return "/" + components.joined(separator: "/")
    }

    /// Resolves `.`, `..` and repeated slashes lexically; `..` at the root stays at the root.
    static func normalise(_ path: String) -> String {
        let clean = FileIO.standardize("/" + path)
        return path.hasPrefix("/") ? clean : String(clean.dropFirst())
    }

    /// Whether `..` components climb above the root of the absolute `path`.
    static func escapesRoot(_ path: String) -> Bool {
        var depth = 0
        for component in path.split(separator: "/") where component != "." {
            depth += component == ".." ? -1 : 1
            if depth < 0 { return true }
        }
        return false
    }

    private static let typeMask: mode_t = 0o170000
    private static let directoryType: mode_t = 0o040000
    private static let regularType: mode_t = 0o100000
    private static let symlinkType: mode_t = 0o120000

    /// Checks that `path` exists (following symlinks) and is a readable file or directory.
    ///
    /// Readability is checked with `access(R_OK)` (plus `X_OK` for directories). Root passes every
    /// `access` check, so as root a path whose permission bits grant read to nobody (such as mode
    /// 000) is reported unreadable too: a build that depends on root overriding permissions is
    /// almost always a mistake, and fails for anyone else.
    static func inspect(_ path: String) -> Inspection {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR:
                var linkInfo = stat()
                if lstat(path, &linkInfo) == 0, linkInfo.st_mode & typeMask == symlinkType {
                    let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
                    return .brokenSymlink(target: target)
                }
                return .missing
            case ELOOP: return .symlinkLoop
            case EACCES: return .unsearchable
            default: return .error(code)
            }
        }
        let type = info.st_mode & typeMask
        let kind: Kind
        switch type {
        case directoryType: kind = .directory
        case regularType: kind = .file
        default: return .notFileOrDirectory
        }
        let wanted = kind == .directory ? R_OK | X_OK : R_OK
        if access(path, wanted) != 0 { return .unreadable(isDirectory: kind == .directory) }
        if geteuid() == 0, info.st_mode & 0o444 == 0 { return .unreadable(isDirectory: kind == .directory) }
        return .ok(kind)
    }

    /// The 1-based line and column of the first byte of `data` that is not valid UTF-8.
    static func position(ofFirstInvalidUTF8In data: Data) -> (line: Int, column: Int) {
        var iterator = data.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var line = 1
        var column = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case let .valid(encoded):
                if Unicode.UTF8.decode(encoded) == "\n" { line += 1; column = 1 } else { column += 1 }
            case .emptyInput, .error:
                return (line, column)
            }
        }
    }
}

extension StackPaths {
    /// The absolute `path` with every symlink and `..` resolved, as far as it exists: the
    /// longest existing prefix goes through realpath(3), the rest is appended as written (a
    /// git source may not exist yet). Lexical only when nothing resolves.
    static func resolved(_ path: String) -> String {
        let absolute = normalise(path)
        var head = absolute
        var tail: [Substring] = []
        while true {
            if let real = SourceTree.realPath(head) {
                return tail.isEmpty ? real : normalise(real + "/" + tail.reversed().joined(separator: "/"))
            }
            guard head != "/" else { return absolute }
            let components = head.split(separator: "/")
            guard let last = components.last else { return absolute }
            tail.append(last)
            head = "/" + components.dropLast().joined(separator: "/")
        }
    }
}
