import Support

/// Turns one logical line into a typed instruction (or a stage's FROM), as BuildKit's parser
/// (`parser/line_parsers.go`) and instruction reader (`instructions/parse.go`) do together.
struct InstructionParser {
    /// What one line was.
    enum Parsed {
        case from(BuildStage)
        case instruction(Instruction)
    }

    /// The pieces of a line every instruction reader gets.
    struct Context {
        var line: LogicalLine
        var keyword: Token
        var flags: [Token]
        var arguments: Range<Int>
        var heredocs: [Heredoc]

        var argumentText: String { line.text(arguments) }
        var argumentLocation: DockerfileLocation { line.location(at: arguments.lowerBound) }
        var location: DockerfileLocation { keyword.location }
        var name: String { keyword.text.uppercased() }
    }

    let escape: Unicode.Scalar
    private(set) var warnings: [DockerfileWarning] = []

    init(escape: Unicode.Scalar) {
        self.escape = escape
    }

    /// Reads `line`; `readHeredoc` supplies the body of each here-document the line opens, in order.
    mutating func parse(_ line: LogicalLine,
                        readHeredoc: (HeredocWord.Marker) throws(DockerfileError) -> String) throws(DockerfileError) -> Parsed {
        let (keyword, flags, arguments) = ArgumentSplitter.splitCommand(line, escape: escape)
        guard let kind = InstructionKeyword(word: keyword.text) else {
            throw .unknownInstruction(name: keyword.text, suggestion: Self.suggestion(for: keyword.text), at: keyword.location)
        }
        var heredocs: [Heredoc] = []
        if acceptsHeredocs(kind, line: line, arguments: arguments) {
            for marker in HeredocWord.markers(in: line.text(line.all)) {
                let body = try readHeredoc(marker)
                heredocs.append(Heredoc(name: marker.name, rawContent: body, expands: marker.expands,
                                        stripsLeadingTabs: marker.stripsTabs, fileDescriptor: marker.fileDescriptor))
            }
        }
        let context = Context(line: line, keyword: keyword, flags: flags, arguments: arguments, heredocs: heredocs)
        if kind == .from { return .from(try parseFrom(context)) }
        let instructionKind = try parseInstruction(kind, context)
        var original = line.text(line.trimmed(line.all))
        if case .onbuild = instructionKind {
            for heredoc in heredocs { original += "\n" + heredoc.rawContent + heredoc.name }
        }
        return .instruction(Instruction(kind: instructionKind, location: keyword.location, endLine: line.endLine, original: original))
    }

    static func suggestion(for word: String) -> String? {
        Suggestions.closest(to: word.uppercased(), in: InstructionKeyword.allCases.map(\.rawValue))
    }

    /// BuildKit's `canContainHeredoc`: RUN, COPY and ADD (also as an ONBUILD trigger), not in
    /// JSON form, on a line containing `<<`.
    private func acceptsHeredocs(_ kind: InstructionKeyword, line: LogicalLine, arguments: Range<Int>) -> Bool {
        guard line.text(line.all).contains("<<") else { return false }
        var kind = kind
        var line = line
        var arguments = arguments
        if kind == .onbuild {
            let inner = line.slice(arguments)
            let split = ArgumentSplitter.splitCommand(inner, escape: escape)
            guard let innerKind = InstructionKeyword(word: split.keyword.text) else { return false }
            kind = innerKind
            line = inner
            arguments = split.arguments
        }
        guard kind == .run || kind == .copy || kind == .add else { return false }
        if case .strings = JSONArray.read(line.text(arguments)) { return false }
        return true
    }

    mutating func parseInstruction(_ kind: InstructionKeyword, _ context: Context) throws(DockerfileError) -> InstructionKind {
        switch kind {
        case .from:
            throw .invalidOnbuildTrigger(trigger: "FROM", at: context.location)
        case .arg: return try parseArg(context)
        case .env: return .env(try parseKeyValues(context))
        case .label: return .label(try parseKeyValues(context))
        case .maintainer:
            try noFlags(context)
            warnings.append(DockerfileWarning(kind: .maintainerDeprecated, location: context.location,
                                              message: "MAINTAINER is deprecated; write LABEL maintainer=\"...\" instead"))
            return .maintainer(try single(context))
        case .workdir:
            try noFlags(context)
            return .workdir(try single(context))
        case .user:
            try noFlags(context)
            return .user(try single(context))
        case .stopSignal:
            ignoredFlags(context)
            return .stopSignal(try single(context))
        case .expose:
            let ports = ArgumentSplitter.fields(context.line, context.arguments)
            guard !ports.isEmpty else { throw .wrongArgumentCount(instruction: "EXPOSE", expected: "at least one port", at: context.location) }
            try noFlags(context)
            return .expose(ports.map(\.text))
        case .volume:
            let (paths, _) = try listOrJSON(context)
            guard !paths.isEmpty else { throw .wrongArgumentCount(instruction: "VOLUME", expected: "at least one path", at: context.location) }
            try noFlags(context)
            var volumes: [String] = []
            for path in paths {
                let trimmed = path.text.trimmingGoSpace()
                guard !trimmed.isEmpty else { throw .emptyVolume(at: path.location) }
                volumes.append(trimmed)
            }
            return .volume(volumes)
        case .copy: return .copy(try parseCopy(context))
        case .add: return .add(try parseAdd(context))
        case .run: return .run(try parseRun(context))
        case .cmd, .entrypoint:
            try noFlags(context)
            guard let form = try commandForm(context) else {
                throw .wrongArgumentCount(instruction: context.name, expected: "a command (shell form or a JSON array)", at: context.location)
            }
            return kind == .cmd ? .cmd(form) : .entrypoint(form)
        case .shell: return try parseShell(context)
        case .healthcheck: return .healthcheck(try parseHealthcheck(context))
        case .onbuild: return try parseOnbuild(context)
        }
    }

    // MARK: - FROM, ARG, ENV, LABEL

    private func parseFrom(_ context: Context) throws(DockerfileError) -> BuildStage {
        let words = ArgumentSplitter.fields(context.line, context.arguments)
        var name: String?
        if words.count == 3, words[1].text.lowercased() == "as" {
            let lowered = words[2].text.lowercased()
            guard Self.isValidStageName(lowered) else { throw .invalidStageName(name: words[2].text, at: words[2].location) }
            name = lowered
        } else if words.count != 1 {
            throw .wrongArgumentCount(instruction: "FROM", expected: "an image, optionally followed by AS and a stage name", at: context.location)
        }
        var flags = InstructionFlags(instruction: "FROM", [("platform", .string)])
        try flags.parse(context.flags)
        return BuildStage(baseName: words[0].text, name: name, platform: flags.nonEmpty("platform"), location: context.location)
    }

    /// Docker's stage names: `^[a-z][a-z0-9-_.]*$` (after lowercasing).
    static func isValidStageName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }
    }

    private mutating func parseArg(_ context: Context) throws(DockerfileError) -> InstructionKind {
        let words = ArgumentSplitter.words(context.line, context.arguments, escape: escape)
        guard !words.isEmpty else { throw .wrongArgumentCount(instruction: "ARG", expected: "at least one name", at: context.location) }
        ignoredFlags(context)
        var declarations: [ArgDeclaration] = []
        for word in words {
            if let equals = word.text.firstIndex(of: "=") {
                let name = String(word.text[..<equals])
                guard !name.isEmpty else { throw .missingName(instruction: "ARG", at: word.location) }
                declarations.append(ArgDeclaration(name: name, defaultValue: String(word.text[word.text.index(after: equals)...])))
            } else {
                declarations.append(ArgDeclaration(name: word.text))
            }
        }
        return .arg(declarations)
    }

    /// ENV and LABEL: `k=v ...`, or the legacy `k v` whose value is the rest of the line.
    private mutating func parseKeyValues(_ context: Context) throws(DockerfileError) -> [KeyValue] {
        let name = context.name
        let words = ArgumentSplitter.words(context.line, context.arguments, escape: escape)
        guard let first = words.first else { throw .wrongArgumentCount(instruction: name, expected: "at least one name=value", at: context.location) }
        try noFlags(context)
        guard first.text.contains("=") else {
            let parts = context.line.split(context.arguments, limit: 2)
            guard parts.count == 2 else { throw .wrongArgumentCount(instruction: name, expected: "a name and a value", at: context.location) }
            warnings.append(DockerfileWarning(
                kind: .legacyKeyValueFormat, location: context.location,
                message: "'\(name) key value' is the legacy form; write \(name) \(context.line.text(parts[0]))=value"))
            return [KeyValue(key: context.line.text(parts[0]), value: context.line.text(parts[1]), legacyForm: true)]
        }
        var pairs: [KeyValue] = []
        for word in words {
            guard let equals = word.text.firstIndex(of: "=") else { throw .missingEquals(instruction: name, word: word.text, at: word.location) }
            let key = String(word.text[..<equals])
            guard !key.isEmpty else { throw .missingName(instruction: name, at: word.location) }
            pairs.append(KeyValue(key: key, value: String(word.text[word.text.index(after: equals)...])))
        }
        return pairs
    }

    // MARK: - Shared pieces

    /// The whole argument text of an instruction that takes one (WORKDIR, USER, ...).
    func single(_ context: Context) throws(DockerfileError) -> String {
        guard !context.arguments.isEmpty else {
            throw .wrongArgumentCount(instruction: context.name, expected: "exactly one argument", at: context.location)
        }
        return context.argumentText
    }

    func noFlags(_ context: Context) throws(DockerfileError) {
        var flags = InstructionFlags(instruction: context.name, [])
        try flags.parse(context.flags)
    }

    mutating func ignoredFlags(_ context: Context) {
        guard let first = context.flags.first else { return }
        warnings.append(DockerfileWarning(kind: .ignoredFlags, location: first.location,
                                          message: "\(context.name) takes no flags and Docker ignores '\(first.text)'; remove it"))
    }

    /// BuildKit's `parseMaybeJSON`: exec form for a JSON array of strings, else shell form;
    /// `nil` without arguments.
    mutating func commandForm(_ context: Context) throws(DockerfileError) -> CommandForm? {
        guard !context.arguments.isEmpty else { return nil }
        let text = context.argumentText
        switch JSONArray.read(text) {
        case let .strings(strings): return .exec(strings)
        case .notStrings: throw .notStringArray(instruction: context.name, at: context.argumentLocation)
        case .notJSON:
            if text.unicodeScalars.first == "[" {
                warnings.append(DockerfileWarning(
                    kind: .malformedJSON, location: context.argumentLocation,
                    message: "\(context.name) looks like a JSON array but is not valid JSON, so it runs in shell form; use double quotes"))
            }
            return .shell(text)
        }
    }

    /// BuildKit's `parseMaybeJSONToList`: a JSON array of strings, else the words.
    mutating func listOrJSON(_ context: Context) throws(DockerfileError) -> ([Token], isJSON: Bool) {
        let text = context.argumentText
        switch JSONArray.read(text) {
        case let .strings(strings): return (strings.map { Token(text: $0, location: context.argumentLocation) }, true)
        case .notStrings: throw .notStringArray(instruction: context.name, at: context.argumentLocation)
        case .notJSON: return (ArgumentSplitter.fields(context.line, context.arguments), false)
        }
    }
}

extension String {
    /// The text without Go's `unicode.IsSpace` characters at either end (`strings.TrimSpace`).
    func trimmingGoSpace() -> String {
        let scalars = Array(unicodeScalars)
        var lower = 0
        var upper = scalars.count
        while lower < upper, Whitespace.isGoSpace(scalars[lower]) { lower += 1 }
        while upper > lower, Whitespace.isGoSpace(scalars[upper - 1]) { upper -= 1 }
        return String(String.UnicodeScalarView(scalars[lower..<upper]))
    }
}
