import Foundation

/// Why a package could not be hashed, built, cached or assembled into an image.
public enum PackageBuildError: Error, Sendable, CustomStringConvertible, LocalizedError {
    /// The source could not be read, copied or fetched.
    case source(package: String, reason: String)
    /// The build ran and failed; the log holds its output.
    case buildFailed(package: String, status: Int32, log: String, tail: String)
    /// A package this one needs failed or was not built.
    case dependencyFailed(package: String, dependency: String)
    /// A tool the recipe needs is not installed.
    case toolMissing(package: String, tool: String, hint: String)
    /// The builder image could not be resolved.
    case builder(reason: String)
    /// A package's artifact is neither built here nor in any cache.
    case notBuilt(package: String, hash: String)
    /// The lock file is unreadable or stale.
    case lockFile(path: String, reason: String)
    /// Anything else that stops a build, said plainly.
    case other(String)

    public var description: String {
        switch self {
        case let .source(package, reason):
            return "package '\(package)': source: \(reason)"
        case let .buildFailed(package, status, log, tail):
            let shown = tail.isEmpty ? "" : "\n--- last lines of \(log) ---\n\(tail)"
            return "package '\(package)' failed to build (exit status \(status)); the full log is \(log)\(shown)"
        case let .dependencyFailed(package, dependency):
            return "package '\(package)' was not built because '\(dependency)', which it needs, failed"
        case let .toolMissing(package, tool, hint):
            return "package '\(package)' needs \(tool), which is not installed here; \(hint)"
        case let .builder(reason):
            return "builder image: \(reason)"
        case let .notBuilt(package, hash):
            return "package '\(package)' (\(hash.prefix(12))) is not built and no cache holds it; run `stackship build` first"
        case let .lockFile(path, reason):
            return "lock file \(path): \(reason)"
        case let .other(text):
            return text
        }
    }

    public var errorDescription: String? { description }
}
