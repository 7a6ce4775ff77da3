/// `RUN [--mount=...] [--network=...] [--security=...] command`.
public struct RunInstruction: Sendable, Hashable {
    /// The command: shell form exactly as written (here-document markers included), or exec form.
    public var command: CommandForm
    /// The here-documents the shell-form line opened, in order.
    public var heredocs: [Heredoc]
    /// `--mount=...`, in order.
    public var mounts: [RunMount]
    /// `--network=...` (default: `default`).
    public var network: RunNetwork
    /// `--security=...` (default: `sandbox`).
    public var security: RunSecurity

    /// Creates a RUN.
    public init(command: CommandForm, heredocs: [Heredoc] = [], mounts: [RunMount] = [],
                network: RunNetwork = .default, security: RunSecurity = .sandbox) {
        self.command = command
        self.heredocs = heredocs
        self.mounts = mounts
        self.network = network
        self.security = security
    }

    /// The process to start, as BuildKit builds it from the command and its here-documents.
    ///
    /// A line that is only `<<EOF` runs the body: through `shell` (a script whose body starts
    /// with `#!` is written to `/dev/pipes/NAME`, mode 0755, and that file is run instead, except
    /// on Windows). Any other line with here-documents is handed to the shell with the bodies
    /// and delimiters appended, so the shell itself feeds them. Bodies are never expanded here:
    /// the shell does that.
    public func invocation(shell: [String] = ["/bin/sh", "-c"], windows: Bool = false) -> RunInvocation {
        guard case let .shell(text) = command, let first = heredocs.first else {
            return RunInvocation(arguments: command.arguments(shell: shell))
        }
        if HeredocWord.parse(text) != nil {
            let body = first.content
            if !windows, body.hasPrefix("#!") {
                let file = RunInvocation.InlineFile(path: "/dev/pipes/" + first.name, content: body, mode: 0o755)
                return RunInvocation(arguments: shell + [file.path], files: [file])
            }
            return RunInvocation(arguments: shell + [body])
        }
        var script = text
        for heredoc in heredocs {
            script += "\n" + heredoc.rawContent + heredoc.name
        }
        return RunInvocation(arguments: shell + [script])
    }
}

/// What to run for a RUN instruction: the arguments, and files to mount read-only first.
public struct RunInvocation: Sendable, Hashable {
    /// A file made from a here-document for the command to run.
    public struct InlineFile: Sendable, Hashable {
        /// Where it appears in the container (`/dev/pipes/NAME`).
        public var path: String
        /// Its bytes, as UTF-8.
        public var content: String
        /// Its permission bits.
        public var mode: UInt32

        /// Creates a file.
        public init(path: String, content: String, mode: UInt32) {
            self.path = path
            self.content = content
            self.mode = mode
        }
    }

    /// The process arguments.
    public var arguments: [String]
    /// Files the arguments refer to.
    public var files: [InlineFile]

    /// Creates an invocation.
    public init(arguments: [String], files: [InlineFile] = []) {
        self.arguments = arguments
        self.files = files
    }
}

/// `RUN --network=...`.
public enum RunNetwork: String, Sendable, Hashable, CaseIterable {
    /// The builder's default network.
    case `default`
    /// No network: only a loopback interface.
    case none
    /// The host's network (needs the `network.host` entitlement in BuildKit).
    case host
}

/// `RUN --security=...`.
public enum RunSecurity: String, Sendable, Hashable, CaseIterable {
    /// The default container sandbox.
    case sandbox
    /// Full privileges (needs the `security.insecure` entitlement in BuildKit).
    case insecure
}

/// One `RUN --mount=...`, its CSV keys read into typed values.
public struct RunMount: Sendable, Hashable {
    /// `type=`: what is mounted.
    public enum MountType: String, Sendable, Hashable, CaseIterable {
        /// A directory of the build context, a stage or an image (the default).
        case bind
        /// A cache directory kept between builds.
        case cache
        /// An empty in-memory file system.
        case tmpfs
        /// A secret the build was given, as a file or an environment variable.
        case secret
        /// The SSH agent socket the build was given.
        case ssh
    }

    /// `sharing=` for cache mounts.
    public enum Sharing: String, Sendable, Hashable, CaseIterable {
        /// Concurrent writers share the cache (the default).
        case shared
        /// A writer gets a fresh cache when another holds it.
        case `private`
        /// Writers wait for each other.
        case locked
    }

    /// The `--mount` value exactly as written.
    public var spec: String
    /// `type=` (default `bind`).
    public var type: MountType
    /// `from=`: a stage name or image for bind and cache mounts.
    public var from: String?
    /// `source=` / `src=`.
    public var source: String?
    /// `target=` / `dst=` / `destination=`.
    public var target: String?
    /// `ro` / `readonly` / `rw` / `readwrite`, else the type's default (bind, secret and ssh
    /// mounts are read-only; cache and tmpfs are writable).
    public var readOnly: Bool
    /// `size=` of a tmpfs mount, in bytes.
    public var sizeLimit: Int64?
    /// `id=`: the cache's or secret's identifier.
    public var id: String?
    /// `sharing=` of a cache mount.
    public var sharing: Sharing?
    /// `required` for secret and ssh mounts.
    public var required: Bool
    /// `env=`: the variable a secret is exposed as.
    public var env: String?
    /// `mode=` (octal) for cache, secret and ssh mounts.
    public var mode: UInt32?
    /// `uid=` for cache, secret and ssh mounts.
    public var uid: UInt32?
    /// `gid=` for cache, secret and ssh mounts.
    public var gid: UInt32?

    /// Creates a mount; ``readOnly`` defaults to the type's default.
    public init(spec: String = "", type: MountType = .bind, from: String? = nil, source: String? = nil,
                target: String? = nil, readOnly: Bool? = nil, sizeLimit: Int64? = nil, id: String? = nil,
                sharing: Sharing? = nil, required: Bool = false, env: String? = nil, mode: UInt32? = nil,
                uid: UInt32? = nil, gid: UInt32? = nil) {
        self.spec = spec
        self.type = type
        self.from = from
        self.source = source
        self.target = target
        self.readOnly = readOnly ?? !(type == .cache || type == .tmpfs)
        self.sizeLimit = sizeLimit
        self.id = id
        self.sharing = sharing
        self.required = required
        self.env = env
        self.mode = mode
        self.uid = uid
        self.gid = gid
    }
}
