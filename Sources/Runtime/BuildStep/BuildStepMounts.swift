import Support
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CRuntime
import OCI

/// What one build step mounts on the host (its overlay root, the tmpfs its secrets live on,
/// copy-on-write layers for read-write binds, its network namespace), recorded as it is made
/// so that `tearDown` undoes exactly that, on every path out of the step.
final class BuildStepMounts: @unchecked Sendable {
    /// Host mount points, in the order they were made.
    private var mounted: [String] = []
    private var namespace: String?

    /// Overlay's own limit on its options (one page), which many long lowerdirs can pass.
    static let optionsLimit = 4095

    /// Mounts an overlay of `lowers` (top first) at `target`, changes going to `upper`. Redirects
    /// and metacopy are turned off so that the upper directory holds every change whole (a
    /// renamed directory copied, not a pointer into a lower one), and `volatile` skips the
    /// syncs a scratch layer has no use for (dpkg's fsyncs cost seconds).
    func mountOverlay(lowers: [String], upper: String, work: String, at target: String) throws {
        for path in lowers + [upper, work] where path.contains(",") || path.contains(":") {
            throw RuntimeError.badOption(option: "overlay layer \(path)", reason: "overlay mounts cannot use a path with ',' or ':'; use a store and scratch directory whose paths have neither")
        }
        let base = "lowerdir=\(lowers.joined(separator: ":")),upperdir=\(upper),workdir=\(work)"
        guard base.utf8.count + 48 <= Self.optionsLimit else {
            throw RuntimeError.badOption(option: "\(lowers.count) overlay layers", reason: "their paths take \(base.utf8.count) bytes, past overlay's limit of \(Self.optionsLimit); use a shorter scratch directory or fewer layers (squash earlier steps)")
        }
        // The merged root takes its owner and mode from the upper directory's: the top layer's.
        var st = stat()
        if let top = lowers.first, stat(top, &st) == 0 {
            _ = chown(upper, st.st_uid, st.st_gid)
            _ = chmod(upper, st.st_mode & 0o7777)
        }
        var rc = stackship_mount("overlay", target, "overlay", 0, base + ",redirect_dir=off,metacopy=off,index=off,volatile")
        if rc == -EINVAL {
            // A kernel before 5.10 (no volatile) or without those options: its defaults are off.
            rc = stackship_mount("overlay", target, "overlay", 0, base)
        }
        guard rc == 0 else {
            throw RuntimeError.mountFailed(target: target, errno: -rc,
                                           hint: "a build step's root is an overlay mount, which needs root and a scratch directory on a file system overlayfs supports as its upper layer (ext4, xfs, tmpfs)")
        }
        mounted.append(target)
    }

    /// Mounts a read-only overlay of `lowers` (top first, at least two) at `target`: no upper
    /// directory, so nothing can change it.
    func mountReadOnlyOverlay(lowers: [String], at target: String) throws {
        for path in lowers where path.contains(",") || path.contains(":") {
            throw RuntimeError.badOption(option: "overlay layer \(path)", reason: "overlay mounts cannot use a path with ',' or ':'; use a store whose path has neither")
        }
        let options = "lowerdir=\(lowers.joined(separator: ":"))"
        guard options.utf8.count + 16 <= Self.optionsLimit else {
            throw RuntimeError.badOption(option: "\(lowers.count) overlay layers", reason: "their paths take \(options.utf8.count) bytes, past overlay's limit of \(Self.optionsLimit)")
        }
        let rc = stackship_mount("overlay", target, "overlay", UInt(MS_RDONLY), options)
        guard rc == 0 else {
            throw RuntimeError.mountFailed(target: target, errno: -rc,
                                           hint: "reading a stage's root mounts an overlay of its layers, which needs root and a store on a file system overlayfs supports (ext4, xfs, tmpfs)")
        }
        mounted.append(target)
    }

    /// Mounts a private tmpfs at `target` (0700, at most `bytes`): nothing written there
    /// reaches a disk, and the mount does not propagate to other mount namespaces.
    func mountTmpfs(at target: String, bytes: Int64) throws {
        let kib = max(64, (bytes + 1023) / 1024 + 64)
        let rc = stackship_mount("tmpfs", target, "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), "mode=0700,size=\(kib)k")
        guard rc == 0 else {
            throw RuntimeError.mountFailed(target: target, errno: -rc, hint: "a build secret is kept on a tmpfs, which needs root")
        }
        mounted.append(target)
        let privateRC = stackship_mount(nil, target, nil, UInt(MS_PRIVATE), nil)
        guard privateRC == 0 else { throw RuntimeError.mountFailed(target: target, errno: -privateRC, hint: "making a tmpfs private needs root") }
    }

    /// Makes a network namespace with only loopback, pinned at `path`.
    func makeNetworkNamespace(at path: String) throws -> NetworkNamespace.Creation {
        let creation = try NetworkNamespace.Creation(at: path)
        namespace = path
        return creation
    }

    /// Undoes everything, newest first: the runtime's container when it left one (its state
    /// under the runtime's root), the mounts, the namespace. Idempotent; never throws (a
    /// mount still busy is detached lazily, and goes when its last user does).
    func tearDown(runtime: OCIRuntime?, containerID: String?) {
        if let runtime, let containerID, FileIO.exists(runtime.stateRoot + "/" + containerID) {
            _ = try? runtime.run(["delete", "--force", containerID])
        }
        for target in mounted.reversed() {
            if umount2(target, 0) != 0 && errno != EINVAL && errno != ENOENT {
                _ = stackship_unmount(target)
            }
        }
        mounted.removeAll()
        if let namespace { NetworkNamespace.remove(at: namespace) }
        namespace = nil
    }
}
