import Foundation
import OCI
import Yams

/// Paths inside the image, and host paths that must exist and be readable.
extension StackFileParser {

    /// Normalises an absolute path inside the image, rejecting relative paths and `..`.
    func absolutePath(_ raw: String, what: String, at here: SourceLocation) throws -> String {
        guard !raw.isEmpty else {
            throw StackFileError(location: here, message: "\(what) is empty", hint: "give an absolute path inside the image, such as /app")
        }
        guard !raw.contains("\0") else {
            throw StackFileError(location: here, message: "\(what) '\(raw)' contains a NUL character", hint: "remove it")
        }
        guard raw.hasPrefix("/") else {
            let fixed = StackPaths.normalise("/" + raw)
            throw StackFileError(location: here, message: "\(what) '\(raw)' is not an absolute path",
                                 hint: "paths inside the image start with '/', such as '\(fixed)'")
        }
        let components = raw.split(separator: "/").filter { $0 != "." }
        if components.contains("..") {
            let resolved = StackPaths.normalise(raw)
            let escapes = StackPaths.escapesRoot(raw)
            throw StackFileError(location: here, message: "\(what) '\(raw)' contains '..'",
                                 hint: escapes ? "remove the '..' components" : "write the path without '..', such as '\(resolved)'")
        }
        return "/" + components.joined(separator: "/")
    }

    /// Checks that a source on the build host exists and can be read.
    func checkPath(raw: String, absolute: String, what: String, at here: SourceLocation) throws -> StackPaths.Kind {
        switch StackPaths.inspect(absolute) {
        case let .ok(kind):
            return kind
        case .missing:
            throw StackFileError(location: here, message: "\(what) '\(raw)' does not exist (looked for \(absolute))",
                                 hint: "fix the path, or build it first (relative paths resolve against \(directory))")
        case let .brokenSymlink(target):
            throw StackFileError(location: here,
                                 message: "\(what) '\(raw)' is a broken symlink (\(absolute) points to '\(target)', which does not exist)",
                                 hint: "fix the link, or build its target first")
        case .symlinkLoop:
            throw StackFileError(location: here, message: "\(what) '\(raw)' is a symlink loop (\(absolute))",
                                 hint: "fix or remove the link")
        case .unreadable(let isDirectory):
            throw StackFileError(location: here, message: "cannot read \(what) '\(raw)' (permission denied)",
                                 hint: "make it readable, such as with `chmod \(isDirectory ? "a+rX" : "a+r") \(absolute)`")
        case .unsearchable:
            throw StackFileError(location: here,
                                 message: "cannot reach \(what) '\(raw)' (permission denied on a directory leading to \(absolute))",
                                 hint: "make the directories on the way searchable (chmod a+x)")
        case .notFileOrDirectory:
            throw StackFileError(location: here, message: "\(what) '\(raw)' is not a regular file or directory (\(absolute))",
                                 hint: "point it at a file or a directory")
        case let .error(code):
            throw StackFileError(location: here, message: "cannot access \(what) '\(raw)' (\(String(cString: strerror(code))))",
                                 hint: "check the path \(absolute)")
        }
    }

}
