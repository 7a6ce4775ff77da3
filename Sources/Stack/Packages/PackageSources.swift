import Foundation
import OCI
import Runtime
import Support

/// Where package sources come from, and what their content hash is.
///
/// A path source is hashed as the deterministic tar stream of its tree (names, modes, symlink
/// targets and contents; owners and mtimes normalised), so touching a file without changing it
/// does not rebuild anything. A git source is fetched into a mirror under the work folder and
/// hashed by the commit its ref resolves to.
public struct PackageSources: Sendable {
    /// The folder git mirrors live in (`.stackship/sources`).
    public let mirrors: String

    /// Creates a source resolver keeping git mirrors in `mirrors`.
    public init(mirrors: String) { self.mirrors = mirrors }

    /// The content digest of `source` (a path's tree, or a git ref's commit as `git:COMMIT`).
    ///
    /// - Throws: ``PackageBuildError/source(package:reason:)`` when it cannot be read or fetched.
    public func digest(of source: PackageSource, package: String) throws -> String {
        switch source {
        case let .path(path):
            do {
                let sink = DigestingSink(next: nil)
                _ = try LayerBuilder.writeTar([LayerSource(source: path, destination: "/src")], epoch: 0, to: sink)
                return sink.digest.description
            } catch {
                throw PackageBuildError.source(package: package, reason: "cannot read \(path): \(error)")
            }
        case let .git(url, ref):
            return "git:" + (try commit(url: url, ref: ref, package: package))
        }
    }

    /// Puts the source's files into `directory` (which must exist and be empty).
    public func materialise(_ source: PackageSource, package: String, into directory: String) throws {
        switch source {
        case let .path(path):
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let from = isDirectory.boolValue ? path + "/." : path
            let result = try ChildRun.run(["cp", "-a", from, directory + "/"])
            guard result.status == 0 else {
                throw PackageBuildError.source(package: package, reason: "copying \(path) failed: \(result.output)")
            }
        case let .git(url, ref):
            let commit = try commit(url: url, ref: ref, package: package)
            let mirror = mirrorPath(url)
            let result = try ChildRun.run(["sh", "-c", "git -C \"$1\" archive --format=tar \"$2\" | tar -x -C \"$3\"", "sh", mirror, commit, directory])
            guard result.status == 0 else {
                throw PackageBuildError.source(package: package, reason: "checking out \(commit) of \(url) failed: \(result.output)")
            }
        }
    }

    /// The commit `ref` names in `url`, fetching the repository into its mirror first.
    func commit(url: String, ref: String, package: String) throws -> String {
        let mirror = mirrorPath(url)
        try FileManager.default.createDirectory(atPath: mirrors, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: mirror + "/HEAD") {
            let temp = mirror + ".tmp-\(getpid())"
            try? FileManager.default.removeItem(atPath: temp)
            let clone = try ChildRun.run(["git", "clone", "--quiet", "--mirror", "--", url, temp])
            guard clone.status == 0 else {
                try? FileManager.default.removeItem(atPath: temp)
                throw PackageBuildError.source(package: package, reason: "git clone \(url) failed: \(clone.output.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            if rename(temp, mirror) != 0 { try? FileManager.default.removeItem(atPath: temp) }
        } else if !(ref.count == 40 && ref.allSatisfy(\.isHexDigit)) {
            let fetch = try ChildRun.run(["git", "-C", mirror, "fetch", "--quiet", "--prune", "origin", "+refs/*:refs/*"])
            guard fetch.status == 0 else {
                throw PackageBuildError.source(package: package, reason: "git fetch \(url) failed: \(fetch.output.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        }
        let parse = try ChildRun.run(["git", "-C", mirror, "rev-parse", "--verify", "--quiet", "\(ref)^{commit}"])
        let commit = parse.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard parse.status == 0, commit.count == 40 else {
            throw PackageBuildError.source(package: package, reason: "ref '\(ref)' is not in \(url); name a branch, tag or commit that exists there")
        }
        return commit
    }

    func mirrorPath(_ url: String) -> String {
        mirrors + "/" + String(Digest.compute(Data(url.utf8)).encoded.prefix(16)) + ".git"
    }
}

/// Runs a helper command (git, cp, tar, a build script) found on PATH, through the runtime's
/// spawn so it starts with no blocked signals; output is captured, or appended to `logFile`.
enum ChildRun {
    static func run(_ arguments: [String], directory: String? = nil, environment: [String: String]? = nil,
                    logFile: String? = nil) throws -> (status: Int32, output: String) {
        try ChildProcess.run("/usr/bin/env", arguments, environment: environment, directory: directory, appendingTo: logFile)
    }
}
