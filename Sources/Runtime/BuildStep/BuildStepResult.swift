import Support
import Foundation
import OCI

/// What a build step changed: the overlay's upper directory, nothing mounted on it any more.
///
/// The runner has already removed from it what the runtime made for its mount points (and the
/// mount targets themselves), so it is the step's change set: usable as the next step's top
/// lowerdir and turned into the step's layer by ``layer``. The caller owns ``directory`` and
/// removes it (``remove()``) when done with both.
public struct BuildStepResult: Sendable {
    /// The change set: an overlayfs upper directory (whiteouts as 0/0 character devices, opaque
    /// directories marked with `trusted.overlay.opaque`).
    public var upperDirectory: String
    /// The step's scratch directory, which holds `upperDirectory`.
    public var directory: String
    /// Mount targets of the step (image paths), left out of the layer.
    public var excludedPaths: [String]
    /// Mount points' parents that the lower root lacked, left out of the layer when empty.
    public var excludedIfEmpty: [String]
    /// Seconds from the start of `run` to its return.
    public var seconds: Double
    /// Seconds the runtime ran (create, the command, tear-down).
    public var runtimeSeconds: Double

    /// The step's layer, ready to build (`try result.layer.build(options:into:)`, or
    /// `writeTar(epoch:to:)` for the tar alone); streams from ``upperDirectory``, which must
    /// still exist.
    public var layer: UpperDirLayer {
        UpperDirLayer(upperDirectory: upperDirectory, excluding: excludedPaths, excludingIfEmpty: excludedIfEmpty)
    }

    /// Deletes the step's scratch directory (its change set included).
    public func remove() throws {
        try FileIO.removeTree(directory)
    }
}
