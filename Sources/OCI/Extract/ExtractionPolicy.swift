#if canImport(Glibc)
import Glibc
#endif

/// Bounds on what one extraction may write, against decompression bombs.
public struct ExtractionLimits: Sendable, Hashable {
    /// Bytes of file content, all layers together.
    public var maxBytes: Int64
    /// Entries, all layers together.
    public var maxEntries: Int
    /// Also stop at the free space of the target's file system (measured when the extraction
    /// starts), so a bomb is refused with a clear error before it fills the disk.
    public var boundedByFreeSpace: Bool

    /// Limits: 64 GiB, ten million entries and the free space by default.
    public init(maxBytes: Int64 = 64 << 30, maxEntries: Int = 10_000_000, boundedByFreeSpace: Bool = true) {
        self.maxBytes = maxBytes
        self.maxEntries = maxEntries
        self.boundedByFreeSpace = boundedByFreeSpace
    }
}

/// What `SafeExtractor` does with the parts of a tar stream that differ between an image layer
/// and a package artifact. Whatever the policy, nothing is ever written outside the root, and
/// no metadata call follows a link.
public struct ExtractionPolicy: Sendable, Hashable {
    /// How a symlink met in an entry's parent path is treated.
    public enum ParentLinks: Sendable, Hashable {
        /// Resolved as if the root were `/` (openat2 `RESOLVE_IN_ROOT`): image layers write
        /// through in-image links such as `lib -> usr/lib`, as docker and containerd do.
        case resolveInRoot
        /// Refused: a package artifact has no reason to write through a link.
        case refuse
    }

    /// How `..` in an entry's path (or a hardlink's target) is treated.
    public enum DotDot: Sendable, Hashable {
        /// Resolved lexically; climbing above the root is refused.
        case resolveInside
        /// Any `..` component is refused.
        case refuse
    }

    /// What OCI whiteout names (`.wh.NAME`, `.wh..wh..opq`) mean.
    public enum Whiteouts: Sendable, Hashable {
        /// They delete NAME (or a directory's lower content) from lower layers.
        case apply
        /// They are ordinary file names.
        case literal
    }

    /// What device nodes (character and block) become.
    public enum Devices: Sendable, Hashable {
        /// Created when the process may (root); skipped otherwise, as the runtime supplies /dev.
        case create
        /// Skipped.
        case skip
        /// An error: the content may not hold devices.
        case refuse
    }

    public var parentLinks: ParentLinks
    public var dotDot: DotDot
    public var whiteouts: Whiteouts
    public var devices: Devices
    /// Apply the entries' owners (only when running as root).
    public var owners: Bool
    /// A non-directory entry may replace a directory already there (a later layer replacing an
    /// earlier one's); when false that is refused.
    public var replacesDirectories: Bool
    public var limits: ExtractionLimits

    public init(parentLinks: ParentLinks, dotDot: DotDot, whiteouts: Whiteouts, devices: Devices, owners: Bool,
                replacesDirectories: Bool, limits: ExtractionLimits = ExtractionLimits()) {
        self.parentLinks = parentLinks
        self.dotDot = dotDot
        self.whiteouts = whiteouts
        self.devices = devices
        self.owners = owners
        self.replacesDirectories = replacesDirectories
        self.limits = limits
    }

    /// Image layers applied in order to a root file system: whiteouts applied, links inside the
    /// image followed inside the root, owners kept. `devices`: `.create` for a container's root,
    /// `.skip` for a folder a user asked to unpack into.
    public static func imageLayers(devices: Devices = .create, limits: ExtractionLimits = ExtractionLimits()) -> ExtractionPolicy {
        ExtractionPolicy(parentLinks: .resolveInRoot, dotDot: .resolveInside, whiteouts: .apply, devices: devices,
                         owners: true, replacesDirectories: true, limits: limits)
    }

    /// A package artifact from a binary cache: no `..`, no writing through links, no devices,
    /// no owners, and no entry replacing a directory of the same artifact.
    public static func packageArtifact(limits: ExtractionLimits = ExtractionLimits()) -> ExtractionPolicy {
        ExtractionPolicy(parentLinks: .refuse, dotDot: .refuse, whiteouts: .literal, devices: .refuse,
                         owners: false, replacesDirectories: false, limits: limits)
    }
}
