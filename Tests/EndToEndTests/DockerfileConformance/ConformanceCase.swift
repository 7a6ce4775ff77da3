import Foundation
import Testing

/// One Dockerfile feature: the Dockerfile, its build context and options, and what docker's
/// documentation (and BuildKit, its reference builder) says the image must then hold. Each case is
/// built by stackship and by buildah; both results are held to the expectations and to each other.
struct ConformanceCase: Sendable, CustomTestStringConvertible {
    /// A short name, unique in the suite; it names the case in test reports.
    var name: String
    /// The Dockerfile text. `${REGISTRY}` is the build arg naming the loopback registry that
    /// serves `busybox:1`; a literal `@REGISTRY@` is replaced by that host before the file is
    /// written (for `COPY --from=IMAGE`, where neither tool takes a stage-scoped arg).
    var dockerfile: String
    /// Files, directories, links and archives of the build context (the Dockerfile is added).
    var context: [ContextItem] = []
    /// Build args besides `REGISTRY` (which is passed whenever the Dockerfile names it).
    var buildArgs: [String: String] = [:]
    /// `--target`.
    var target: String?
    /// Secrets by id; each is written to a file outside the context and passed as
    /// `--secret id=ID,src=FILE`.
    var secrets: [String: String] = [:]
    /// What the image starts from, for the fields of the expected config a case does not set.
    var startsFrom: ExpectedBase = .busybox
    /// The config fields this case changes from `startsFrom`; every other field must be as there.
    var config: [ConfigValue] = []
    /// Paths that must be in the image, with their type, mode, owner and content or link target.
    var files: [PathExpectation] = []
    /// Paths that must not be in the image.
    var absent: [String] = []
    /// Strings no regular file in the image may contain (a secret's value).
    var forbiddenContent: [String] = []
    /// Where buildah (Debian's 1.28) is known to differ from docker's documented behaviour; the
    /// expectations above state docker's, and the buildah half skips only what is named here.
    var buildah: [BuildahDifference] = []

    var testDescription: String { name }
}

/// The config a case's expectations start from.
enum ExpectedBase: Sendable {
    /// The fixture's `busybox:1`.
    case busybox
    /// `FROM scratch`: BuildKit's empty image (PATH set, working directory `/`).
    case scratch
}

/// One entry of a build context.
enum ContextItem: Sendable {
    case file(String, String, mode: UInt32 = 0o644)
    case directory(String, mode: UInt32 = 0o755)
    case symlink(String, to: String)
    /// A tar archive at the path holding `entries`, gzip-compressed when `gzip`.
    case tar(String, gzip: Bool, entries: [ArchiveItem])
}

/// One entry of an archive made for a context.
struct ArchiveItem: Sendable {
    enum Kind: Sendable {
        case file(String)
        case directory
        case symlink(String)
    }

    var path: String
    var kind: Kind
    var mode: UInt32

    static func file(_ path: String, _ content: String, mode: UInt32 = 0o644) -> ArchiveItem { ArchiveItem(path: path, kind: .file(content), mode: mode) }
    static func directory(_ path: String, mode: UInt32 = 0o755) -> ArchiveItem { ArchiveItem(path: path, kind: .directory, mode: mode) }
    static func symlink(_ path: String, to target: String) -> ArchiveItem { ArchiveItem(path: path, kind: .symlink(target), mode: 0o777) }
}

/// A config field the comparison knows, by the name the image config uses.
enum ConfigField: String, Sendable, CaseIterable {
    case architecture, os, User, Env, Entrypoint, Cmd, WorkingDir, ExposedPorts, Volumes, Labels, StopSignal, Healthcheck, Shell, OnBuild
}

/// A value a case expects in the config.
enum ConfigValue: Sendable {
    case user(String?)
    /// The whole list, base entries included.
    case env([String])
    case entrypoint([String]?)
    case cmd([String]?)
    case workingDir(String?)
    /// `"80/tcp"` style keys.
    case exposedPorts([String])
    case volumes([String])
    case labels([String: String])
    case stopSignal(String?)
    case healthcheck(Healthcheck?)
    case shell([String]?)
    case onBuild([String]?)
    case architecture(String)
}

/// Docker's HEALTHCHECK as the config records it; durations in nanoseconds, nil when unset or zero.
struct Healthcheck: Sendable, Hashable, CustomStringConvertible {
    var test: [String]
    var interval: Int64?
    var timeout: Int64?
    var startPeriod: Int64?
    var retries: Int?

    var description: String {
        var parts = ["test: \(test)"]
        if let interval { parts.append("interval: \(interval)") }
        if let timeout { parts.append("timeout: \(timeout)") }
        if let startPeriod { parts.append("start period: \(startPeriod)") }
        if let retries { parts.append("retries: \(retries)") }
        return "{" + parts.joined(separator: ", ") + "}"
    }
}

/// What one path in the image must be.
struct PathExpectation: Sendable {
    enum Kind: Sendable {
        /// A regular file; its content is checked when given.
        case file(String?)
        case directory
        case symlink(String)
    }

    var path: String
    var kind: Kind
    var mode: UInt32
    var uid: Int
    var gid: Int

    static func file(_ path: String, _ content: String?, mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0) -> PathExpectation {
        PathExpectation(path: path, kind: .file(content), mode: mode, uid: uid, gid: gid)
    }

    static func directory(_ path: String, mode: UInt32 = 0o755, uid: Int = 0, gid: Int = 0) -> PathExpectation {
        PathExpectation(path: path, kind: .directory, mode: mode, uid: uid, gid: gid)
    }

    static func symlink(_ path: String, to target: String) -> PathExpectation {
        PathExpectation(path: path, kind: .symlink(target), mode: 0o777, uid: 0, gid: 0)
    }
}

/// A named way in which buildah's result differs from docker's documented one.
enum BuildahDifference: Sendable {
    /// buildah refuses the Dockerfile (an instruction or flag it does not know); the buildah half
    /// then checks that it still fails, so a newer buildah that builds it is noticed.
    case cannotBuild(because: String)
    /// buildah writes this config field otherwise.
    case config(ConfigField, because: String)
    /// buildah leaves this path (or leaves it out, or makes it otherwise); it and what is under
    /// it are skipped.
    case path(String, because: String)

    var cannotBuild: Bool {
        if case .cannotBuild = self { return true }
        return false
    }
}

extension ConformanceCase {
    /// The config fields the buildah half skips.
    var buildahSkippedFields: Set<ConfigField> {
        Set(buildah.compactMap { if case .config(let field, _) = $0 { return field } else { return nil } })
    }

    /// The paths (with what is under them) the buildah half skips.
    var buildahSkippedPaths: [String] {
        buildah.compactMap { if case .path(let path, _) = $0 { return path } else { return nil } }
    }

    /// The config the image must have: `startsFrom`'s, with this case's values applied.
    func expectedConfig(base: NormalizedConfig) -> NormalizedConfig {
        var c = base
        for value in config {
            switch value {
            case .user(let v): c.user = v
            case .env(let v): c.env = v
            case .entrypoint(let v): c.entrypoint = v
            case .cmd(let v): c.cmd = v
            case .workingDir(let v): c.workingDir = v
            case .exposedPorts(let v): c.exposedPorts = v.sorted()
            case .volumes(let v): c.volumes = v.sorted()
            case .labels(let v): c.labels = v
            case .stopSignal(let v): c.stopSignal = v
            case .healthcheck(let v): c.healthcheck = v
            case .shell(let v): c.shell = v
            case .onBuild(let v): c.onBuild = v
            case .architecture(let v): c.architecture = v
            }
        }
        return c.normalized()
    }

    /// The Dockerfile as written into the context, `@REGISTRY@` replaced by `registry`.
    func dockerfileText(registry: String) -> String {
        dockerfile.replacingOccurrences(of: "@REGISTRY@", with: registry)
    }

    /// The build args both tools get.
    func allBuildArgs(registry: String) -> [(String, String)] {
        var args = buildArgs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        if dockerfile.contains("REGISTRY}") || dockerfile.contains("$REGISTRY") { args.insert(("REGISTRY", registry), at: 0) }
        return args
    }
}
