#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Runtime
import Support

/// Git in one folder, run through `ChildProcess` (Foundation's Process passes a blocked signal
/// mask on to its children): the work tree's top, a ref's commit, and the tree at a ref.
struct GitTree {
    let directory: String
    let executable: String

    init(directory: String) throws {
        guard let git = ChildProcess.which("git") else { throw PlanningError.toolMissing(tool: "git", package: "git") }
        self.directory = directory
        executable = git
    }

    /// Runs git; a failure throws `failure`, or ``PlanningError/gitFailed(arguments:directory:output:)``.
    @discardableResult
    func run(_ arguments: [String], failure: PlanningError? = nil) throws -> String {
        let result = try ChildProcess.run(executable, ["-C", directory] + arguments)
        guard result.status == 0 else {
            throw failure ?? .gitFailed(arguments: arguments, directory: directory,
                                        output: result.output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return result.output
    }

    /// The top of the work tree, symlinks resolved.
    func topLevel() throws -> String {
        let top = try run(["rev-parse", "--show-toplevel"]).trimmingCharacters(in: .whitespacesAndNewlines)
        return URL(fileURLWithPath: top).resolvingSymlinksInPath().path
    }

    /// Unpacks the tree at `ref` into the empty folder `destination`.
    ///
    /// Source hashes cover file modes, and git keeps only the executable bit, so the files get
    /// the modes a checkout here would (this process's umask), not git archive's 002.
    func unpack(_ ref: String, into destination: String, scratch: String) throws {
        let top = try topLevel()
        try run(["rev-parse", "--verify", "--quiet", ref + "^{commit}"], failure: .noSuchCommit(ref: ref, repository: top))
        let mask = umask(0)
        umask(mask)
        let archive = scratch + "/tree.tar"
        try run(["-c", "tar.umask=0" + String(mask, radix: 8), "archive", "--format=tar", "-o", archive, ref])
        guard let tar = ChildProcess.which("tar") else { throw PlanningError.toolMissing(tool: "tar", package: "tar") }
        let untar = try ChildProcess.run(tar, ["-xf", archive, "-C", destination])
        guard untar.status == 0 else { throw PlanningError.unpackFailed(ref: ref, output: untar.output) }
    }
}
