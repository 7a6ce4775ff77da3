import Foundation

/// The network a build step's command gets.
public enum BuildNetwork: String, Sendable, Hashable {
    /// A network namespace of its own with only loopback (`RUN --network=none`).
    case none
    /// The host's network (`RUN --network=host`): what docker's default bridge gives a build,
    /// a route out, for which Stackship has no bridge of its own.
    case host
}

/// One RUN instruction to execute: a command in a container whose root is an overlay of
/// `lowerDirectories`, whose changes become the step's layer (``BuildStepRunner``).
public struct BuildStep: Sendable {
    /// The root's layers as overlayfs lowerdirs, top first: unpacked roots (the base image's,
    /// earlier steps' upper directories). Paths may not contain `,` or `:` (overlay's syntax).
    public var lowerDirectories: [String]
    /// The command: `[shell..., "-c", text]` for the shell form, else the exec form's words.
    public var arguments: [String]
    /// `NAME=value` entries (the image's Env, then ARGs); PATH gets docker's default when none
    /// sets it. A later NAME replaces an earlier one.
    public var environment: [String]
    /// The working directory, created (0755, root-owned) when the root lacks it, as docker does.
    public var workdir: String
    /// `uid[:gid]` or `name[:group]`, resolved in the root's /etc/passwd and /etc/group; nil is root.
    public var user: String?
    /// `.host` by default, the network docker's RUN has (Stackship has no bridge for builds).
    public var network: BuildNetwork
    /// `RUN --mount`s; their targets are left out of the layer.
    public var mounts: [BuildMount]
    /// The container's host name (also in its /etc/hosts and /etc/hostname).
    public var hostname: String
    /// Seconds the command may run before it is killed (``RuntimeError/buildStepTimedOut(command:seconds:output:)``); nil: no limit.
    public var timeout: Double?
    /// Receives the command's output (stdout and stderr together) line by line as it comes,
    /// secret values replaced by `***`. Called from a thread of the runner's, never concurrently.
    public var output: (@Sendable (String) -> Void)?

    /// A step with docker's defaults: root, `/`, the host's network, no mounts, no time limit.
    public init(lowerDirectories: [String], arguments: [String], environment: [String] = [], workdir: String = "/",
                user: String? = nil, network: BuildNetwork = .host, mounts: [BuildMount] = [], hostname: String = "stackship-build",
                timeout: Double? = nil, output: (@Sendable (String) -> Void)? = nil) {
        self.lowerDirectories = lowerDirectories
        self.arguments = arguments
        self.environment = environment
        self.workdir = workdir
        self.user = user
        self.network = network
        self.mounts = mounts
        self.hostname = hostname
        self.timeout = timeout
        self.output = output
    }

    /// The command as an error shows it: the shell form's text, else the words.
    var shownCommand: String {
        let text: String
        if arguments.count >= 3, arguments[arguments.count - 2] == "-c" { text = arguments[arguments.count - 1] } else {
            text = arguments.joined(separator: " ")
        }
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return line.count > 200 ? String(line.prefix(200)) + "..." : line
    }
}
