import Foundation

/// What went wrong while turning a stack file into a plan input: a tool is missing, or the git
/// ref to compare package hashes with cannot be read.
public enum PlanningError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// A program the comparison needs is not on PATH.
    case toolMissing(tool: String, package: String)
    /// The stack file is not inside the git work tree found from its folder.
    case notInWorkTree(file: String, workTree: String)
    /// The ref names no commit in the repository.
    case noSuchCommit(ref: String, repository: String)
    /// A git command failed.
    case gitFailed(arguments: [String], directory: String, output: String)
    /// The tree at the ref could not be unpacked.
    case unpackFailed(ref: String, output: String)

    /// What happened and what to do.
    public var description: String {
        switch self {
        case let .toolMissing(tool, package):
            return "comparing package hashes with a git ref needs `\(tool)` on PATH; install it (apt-get install \(package))"
        case let .notInWorkTree(file, workTree):
            return "comparing with a git ref needs the stack file inside a git work tree; \(file) is not under \(workTree)"
        case let .noSuchCommit(ref, repository):
            return "no such commit '\(ref)' in \(repository); fetch it (git fetch origin \(ref)) or give another ref"
        case let .gitFailed(arguments, directory, output):
            return "git \(arguments.joined(separator: " ")) failed in \(directory): \(output); check the repository"
        case let .unpackFailed(ref, output):
            return "could not unpack the tree at '\(ref)': \(output); check free space in the temporary folder"
        }
    }

    /// The same text as ``description``.
    public var errorDescription: String? { description }
}
