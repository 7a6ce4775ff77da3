/// One instruction inside a stage (or an ARG before the first FROM), with where it was written.
public struct Instruction: Sendable, Equatable {
    /// What the instruction says, with its values as written.
    public var kind: InstructionKind
    /// Where its keyword is.
    public var location: DockerfileLocation
    /// The last line it spans (continuations and here-documents included).
    public var endLine: Int
    /// The logical line as read: continuations joined, comments and here-document bodies left
    /// out (what BuildKit records in the image history).
    public var original: String

    /// Creates an instruction.
    public init(kind: InstructionKind, location: DockerfileLocation, endLine: Int? = nil, original: String = "") {
        self.kind = kind
        self.location = location
        self.endLine = endLine ?? location.line
        self.original = original
    }

    /// The instruction's keyword.
    public var keyword: InstructionKeyword { kind.keyword }
}

/// The Dockerfile instructions, by their keyword (written in any case in a Dockerfile).
public enum InstructionKeyword: String, Sendable, Hashable, CaseIterable {
    case add = "ADD", arg = "ARG", cmd = "CMD", copy = "COPY", entrypoint = "ENTRYPOINT", env = "ENV"
    case expose = "EXPOSE", from = "FROM", healthcheck = "HEALTHCHECK", label = "LABEL"
    case maintainer = "MAINTAINER", onbuild = "ONBUILD", run = "RUN", shell = "SHELL"
    case stopSignal = "STOPSIGNAL", user = "USER", volume = "VOLUME", workdir = "WORKDIR"

    /// The keyword for `word` in any case, or `nil` when it names no instruction.
    public init?(word: String) {
        self.init(rawValue: word.uppercased())
    }

    /// Whether Docker expands `$VAR` references in this instruction's arguments (RUN, CMD and
    /// ENTRYPOINT leave that to the shell; ONBUILD expands when its trigger runs).
    public var expandsVariables: Bool {
        switch self {
        case .add, .copy, .env, .expose, .from, .label, .stopSignal, .user, .volume, .workdir, .arg: return true
        case .cmd, .entrypoint, .healthcheck, .maintainer, .onbuild, .run, .shell: return false
        }
    }
}

/// What an instruction says. Strings are as written (quotes, escapes and `$` references kept)
/// except where a JSON array was decoded.
public indirect enum InstructionKind: Sendable, Equatable {
    /// `ARG name[=default] ...`.
    case arg([ArgDeclaration])
    /// `ENV key=value ...` or the legacy `ENV key value`.
    case env([KeyValue])
    /// `LABEL key=value ...` or the legacy `LABEL key value`.
    case label([KeyValue])
    /// `MAINTAINER text` (deprecated; Docker writes it to the image config's `author`).
    case maintainer(String)
    /// `WORKDIR path`.
    case workdir(String)
    /// `USER user[:group]`.
    case user(String)
    /// `COPY [flags] src... dest`.
    case copy(CopyInstruction)
    /// `ADD [flags] src... dest`.
    case add(AddInstruction)
    /// `RUN [flags] command`.
    case run(RunInstruction)
    /// `CMD command`.
    case cmd(CommandForm)
    /// `ENTRYPOINT command`.
    case entrypoint(CommandForm)
    /// `SHELL ["executable", "parameters"]` (JSON form only).
    case shell([String])
    /// `EXPOSE port[/protocol] ...`: the words as written (``ExposedPort`` reads them once expanded).
    case expose([String])
    /// `VOLUME path ...` or `VOLUME ["path", ...]`.
    case volume([String])
    /// `STOPSIGNAL signal`.
    case stopSignal(String)
    /// `HEALTHCHECK NONE` or `HEALTHCHECK [options] CMD command`.
    case healthcheck(Healthcheck)
    /// `ONBUILD trigger`: the trigger instruction, parsed and checked now, run by a later build
    /// that uses this image as its base (its `original` is what goes into the image config).
    case onbuild(Instruction)

    /// The keyword this kind is written with.
    public var keyword: InstructionKeyword {
        switch self {
        case .arg: return .arg
        case .env: return .env
        case .label: return .label
        case .maintainer: return .maintainer
        case .workdir: return .workdir
        case .user: return .user
        case .copy: return .copy
        case .add: return .add
        case .run: return .run
        case .cmd: return .cmd
        case .entrypoint: return .entrypoint
        case .shell: return .shell
        case .expose: return .expose
        case .volume: return .volume
        case .stopSignal: return .stopSignal
        case .healthcheck: return .healthcheck
        case .onbuild: return .onbuild
        }
    }
}

/// One `ARG` declaration: a name and an optional default.
public struct ArgDeclaration: Sendable, Hashable {
    /// The variable's name.
    public var name: String
    /// The default as written (`nil` for `ARG name`, `""` for `ARG name=`).
    public var defaultValue: String?

    /// Creates a declaration.
    public init(name: String, defaultValue: String? = nil) {
        self.name = name
        self.defaultValue = defaultValue
    }
}

/// One `key=value` of ENV or LABEL.
public struct KeyValue: Sendable, Hashable {
    /// The key as written.
    public var key: String
    /// The value as written.
    public var value: String
    /// Whether it came from the legacy `KEY key value` form (no `=`).
    public var legacyForm: Bool

    /// Creates a pair.
    public init(key: String, value: String, legacyForm: Bool = false) {
        self.key = key
        self.value = value
        self.legacyForm = legacyForm
    }
}

/// The two ways to write a command: shell form (a string run by the stage's shell) and exec
/// form (a JSON array run as is).
public enum CommandForm: Sendable, Hashable {
    /// Shell form: the text after the keyword and its flags, exactly as written.
    case shell(String)
    /// Exec form: the decoded JSON array.
    case exec([String])

    /// The process arguments Docker runs: exec form as is, shell form appended to `shell`
    /// (`["/bin/sh", "-c"]` unless a SHELL instruction changed it).
    public func arguments(shell: [String] = ["/bin/sh", "-c"]) -> [String] {
        switch self {
        case let .shell(text): return shell + [text]
        case let .exec(arguments): return arguments
        }
    }
}
