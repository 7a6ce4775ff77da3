/// A parsed Dockerfile: its parser directives, the ARGs before the first FROM, and its stages.
///
/// Values are as written: variable references (`$VAR`), quotes and escapes are kept, because
/// what they mean depends on build arguments and base images. ``BuildPlan`` resolves them.
public struct Dockerfile: Sendable, Equatable {
    /// The parser directives at the top of the file.
    public var directives: ParserDirectives
    /// The ARG instructions before the first FROM: usable in FROM lines, and in a stage that
    /// declares the same name again without a value.
    public var globalArgs: [Instruction]
    /// The build stages in file order; there is at least one.
    public var stages: [BuildStage]
    /// What Docker would warn about, in file order.
    public var warnings: [DockerfileWarning]

    /// Creates a Dockerfile value (``parse(_:)`` is the usual way to get one).
    public init(directives: ParserDirectives = ParserDirectives(), globalArgs: [Instruction] = [],
                stages: [BuildStage], warnings: [DockerfileWarning] = []) {
        self.directives = directives
        self.globalArgs = globalArgs
        self.stages = stages
        self.warnings = warnings
    }

    /// Parses Dockerfile text as BuildKit's frontend does.
    ///
    /// Throws ``DockerfileError`` for the first problem, with its line and column. Pure: it reads
    /// only `text`, never the file system or the network.
    ///
    /// A file whose last line ends with a line continuation looks cut short, so by default that
    /// is an error; BuildKit reads it as if the continuation were absent, which
    /// `acceptingContinuationAtEndOfFile` does too (with a warning).
    public static func parse(_ text: String, acceptingContinuationAtEndOfFile: Bool = false) throws(DockerfileError) -> Dockerfile {
        var parser = DockerfileParser(text: text, acceptingContinuationAtEndOfFile: acceptingContinuationAtEndOfFile)
        return try parser.parse()
    }

    /// What stage `index` starts from as written, without build arguments: an earlier stage it
    /// names, `scratch`, or an image. `nil` when its FROM uses variables (``BuildPlan`` expands
    /// those) or `index` is out of range. An image is not checked here; ``BuildPlan`` checks it.
    public func base(ofStage index: Int) -> StageBase? {
        guard stages.indices.contains(index) else { return nil }
        let name = stages[index].baseName
        guard !name.contains("$") else { return nil }
        if let parent = stages[..<index].lastIndex(where: { $0.name == name }) { return .stage(parent) }
        return name == "scratch" ? .scratch : .image(name)
    }

    /// The index of the stage named `name` (stage names compare case-insensitively, as Docker's
    /// `--target` and `COPY --from` do); the last one when two share the name.
    public func stageIndex(named name: String) -> Int? {
        let lowered = name.lowercased()
        return stages.lastIndex { $0.name == lowered }
    }
}

/// The directives at the top of a Dockerfile (`# syntax=`, `# escape=`, `# check=`).
public struct ParserDirectives: Sendable, Equatable {
    /// The `syntax` directive's value (the frontend image BuildKit would use), if any.
    public var syntax: String?
    /// The escape character: `\` unless `# escape=`` ` `` chose the backtick.
    public var escape: Unicode.Scalar
    /// The `check` directive's value as written (build-check settings; not acted on here).
    public var check: String?

    /// Creates directives; the defaults are Docker's.
    public init(syntax: String? = nil, escape: Unicode.Scalar = "\\", check: String? = nil) {
        self.syntax = syntax
        self.escape = escape
        self.check = check
    }
}

/// One build stage: a FROM line and the instructions up to the next FROM.
public struct BuildStage: Sendable, Equatable {
    /// The FROM line's image expression as written (`golang:${GO_VERSION}`, `build`, `scratch`).
    public var baseName: String
    /// The stage's name from `AS name`, lowercased as Docker stores it; `nil` when unnamed.
    public var name: String?
    /// The `--platform` flag's value as written, if any.
    public var platform: String?
    /// Where the FROM keyword is.
    public var location: DockerfileLocation
    /// The instructions after FROM, in order.
    public var instructions: [Instruction]

    /// Creates a stage.
    public init(baseName: String, name: String? = nil, platform: String? = nil,
                location: DockerfileLocation, instructions: [Instruction] = []) {
        self.baseName = baseName
        self.name = name
        self.platform = platform
        self.location = location
        self.instructions = instructions
    }
}

/// What a stage starts from, once its FROM expression is expanded.
public enum StageBase: Sendable, Hashable, CustomStringConvertible {
    /// The empty image.
    case scratch
    /// An earlier stage of the same Dockerfile, by index.
    case stage(Int)
    /// An image reference to pull (as written after expansion, not normalised).
    case image(String)

    /// `scratch`, `stage N` or the reference.
    public var description: String {
        switch self {
        case .scratch: return "scratch"
        case let .stage(index): return "stage \(index)"
        case let .image(reference): return reference
        }
    }
}
