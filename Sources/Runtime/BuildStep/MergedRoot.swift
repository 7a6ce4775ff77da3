#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support

/// A read-only view of a stage's root made of overlay layers (its lowerdirs, top first), for
/// what a build reads from a root without running anything in it: the directory a COPY lands
/// in, `/etc/passwd` for `--chown=name`, the files of `COPY --from=stage`, a `--mount from=`.
///
/// One layer is used as it is; several are mounted as an overlay with no upper directory (the
/// kernel makes that read-only) at a fresh directory under `scratchDirectory`, unmounted by
/// ``close()``.
public final class MergedRoot: @unchecked Sendable {
    /// The merged root's path while open.
    public let path: String
    private let mounts = BuildStepMounts()
    private let mountPoint: String?

    /// Opens a view of `lowers` (top first; at least one).
    public init(lowers: [String], scratchDirectory: String) throws {
        guard let top = lowers.first else {
            throw RuntimeError.badOption(option: "merged root", reason: "it has no layer; give at least the base image's unpacked root")
        }
        if lowers.count == 1 {
            path = top
            mountPoint = nil
            return
        }
        try FileIO.makeDirectories(scratchDirectory, mode: 0o700)
        let candidate = try FileIO.makeUniqueDirectory(in: scratchDirectory, prefix: "view-")
        do {
            try mounts.mountReadOnlyOverlay(lowers: lowers, at: candidate)
        } catch {
            rmdir(candidate)
            throw error
        }
        path = candidate
        mountPoint = candidate
    }

    /// Unmounts the view (when it was a mount) and removes its mount point. Idempotent.
    public func close() {
        mounts.tearDown(runtime: nil, containerID: nil)
        if let mountPoint { rmdir(mountPoint) }
    }

    deinit { close() }
}

extension MergedRoot {
    /// Whether `path` (absolute, in the image) names anything in the view (the last component
    /// not followed).
    public func exists(_ path: String) -> Bool { BuildStepRoot.exists(path, in: self.path) }

    /// The owner and mode of the directory `path` in the view (links followed inside it); nil
    /// when it is not a directory.
    public func directory(_ path: String) -> (mode: UInt32, uid: UInt32, gid: UInt32)? {
        BuildStepRoot.directoryMetadata(path, in: self.path).map { ($0.mode, $0.uid, $0.gid) }
    }

    /// The host path of what `path` names in the view, every symlink and `..` resolved as if
    /// the view were `/` (so a link in an image never leads to the host's files).
    public func hostPath(of path: String) throws -> String { try Self.hostPath(of: path, inRoot: self.path) }

    /// The host path of what `path` names inside `root` (a build context, an unpacked image),
    /// resolved as if `root` were `/`.
    public static func hostPath(of path: String, inRoot root: String) throws -> String {
        try BuildStepRoot.resolve(path, in: root)
    }

    /// `user[:group]` (names or ids) resolved in the view's /etc/passwd and /etc/group, as
    /// COPY --chown and USER resolve them.
    public func owner(_ spec: String) throws -> (uid: UInt32, gid: UInt32) {
        let user = try UserResolver.resolve(spec, root: path)
        return (user.uid, user.gid)
    }
}
