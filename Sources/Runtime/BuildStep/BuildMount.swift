import Foundation

/// The bytes of a build secret (`RUN --mount=type=secret`). They stay in memory until the step
/// puts them on a tmpfs for the container; a description never shows them.
public struct BuildSecret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret's content.
    public let bytes: [UInt8]

    /// A secret holding `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    /// A secret holding `data`'s bytes.
    public init(_ data: Data) { self.bytes = [UInt8](data) }

    /// `<secret, N bytes>`: never the value.
    public var description: String { "<secret, \(bytes.count) bytes>" }
    /// As `description`, so that `dump` and debuggers show no value either.
    public var debugDescription: String { description }

    /// The texts to hide when they show in output: the whole value, trimmed, and each of its
    /// non-empty lines (a command may print a multi-line secret line by line).
    var redactions: [String] {
        let text = String(decoding: bytes, as: UTF8.self)
        var out: Set<String> = [text, text.trimmingCharacters(in: .whitespacesAndNewlines)]
        for line in text.split(whereSeparator: \.isNewline) {
            out.insert(line.trimmingCharacters(in: .whitespaces))
        }
        out.remove("")
        // Longest first, so a line of the secret never leaves the rest of a longer match behind.
        return out.sorted { $0.utf8.count > $1.utf8.count }
    }
}

/// A mount a build step's command gets (`RUN --mount=...`, BuildKit's four kinds). Nothing
/// under a mount's target goes into the step's layer.
public struct BuildMount: Sendable, Hashable {
    /// What is mounted.
    public enum Kind: Sendable, Hashable {
        /// A host file or directory. Read-only unless `readWrite`; a read-write bind gets a
        /// throwaway copy-on-write layer (as BuildKit's), so the source is never changed. With
        /// `root`, `source` is a path inside that directory (another stage's root, the build
        /// context), its symlinks resolved as if `root` were `/`.
        case bind(source: String, root: String?, readWrite: Bool)
        /// A writable directory that persists between steps and builds under the runner's cache
        /// directory, keyed by `id`. Created with `uid`, `gid` and `mode` the first time.
        case cache(id: String, uid: UInt32, gid: UInt32, mode: UInt32)
        /// An empty tmpfs, at most `sizeBytes` big (nil: the kernel's default, half the memory).
        case tmpfs(sizeBytes: Int64?)
        /// A file holding `value`, on a tmpfs (never on disk), readable by `uid` with `mode`.
        case secret(id: String, value: BuildSecret, uid: UInt32, gid: UInt32, mode: UInt32)
    }

    /// Absolute path inside the container.
    public var target: String
    /// What is mounted there.
    public var kind: Kind

    /// A mount of `kind` at `target`; the static functions give each kind's defaults.
    public init(target: String, kind: Kind) {
        self.target = target
        self.kind = kind
    }

    /// A bind mount of `source` (resolved inside `root` when given), read-only unless `readWrite`.
    public static func bind(source: String, target: String, root: String? = nil, readWrite: Bool = false) -> BuildMount {
        BuildMount(target: target, kind: .bind(source: source, root: root, readWrite: readWrite))
    }

    /// A cache directory kept between steps (BuildKit's default owner 0:0 and mode 0755); the
    /// id defaults to the target, as BuildKit's does.
    public static func cache(id: String? = nil, target: String, uid: UInt32 = 0, gid: UInt32 = 0, mode: UInt32 = 0o755) -> BuildMount {
        BuildMount(target: target, kind: .cache(id: id ?? target, uid: uid, gid: gid, mode: mode))
    }

    /// An empty tmpfs.
    public static func tmpfs(target: String, sizeBytes: Int64? = nil) -> BuildMount {
        BuildMount(target: target, kind: .tmpfs(sizeBytes: sizeBytes))
    }

    /// A secret file at `target`, by default `/run/secrets/ID`, owned by `uid:gid` with mode
    /// 0400 (BuildKit's defaults).
    public static func secret(id: String, value: BuildSecret, target: String? = nil, uid: UInt32 = 0, gid: UInt32 = 0,
                              mode: UInt32 = 0o400) -> BuildMount {
        BuildMount(target: target ?? "/run/secrets/" + id, kind: .secret(id: id, value: value, uid: uid, gid: gid, mode: mode))
    }
}
