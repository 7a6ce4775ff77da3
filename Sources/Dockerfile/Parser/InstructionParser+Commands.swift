/// RUN, SHELL, HEALTHCHECK and ONBUILD.
extension InstructionParser {
    mutating func parseRun(_ context: Context) throws(DockerfileError) -> RunInstruction {
        var flags = InstructionFlags(instruction: "RUN", [("mount", .list), ("network", .string), ("security", .string)])
        try flags.parse(context.flags)
        guard let command = try commandForm(context) else {
            throw .wrongArgumentCount(instruction: "RUN", expected: "a command (shell form or a JSON array)", at: context.location)
        }
        var run = RunInstruction(command: command, heredocs: context.heredocs)
        let mountLocation = flags.location("mount", default: context.location)
        for spec in flags.list("mount") {
            run.mounts.append(try Self.parseMountAtParseTime(spec, at: mountLocation))
        }
        if let value = flags.string("network") {
            guard let network = RunNetwork(rawValue: value) else {
                throw .invalidFlagValue(instruction: "RUN", flag: "network", value: value, expected: "default, none or host",
                                        at: flags.location("network", default: context.location))
            }
            run.network = network
        }
        if let value = flags.string("security") {
            guard let security = RunSecurity(rawValue: value) else {
                throw .invalidFlagValue(instruction: "RUN", flag: "security", value: value, expected: "sandbox or insecure",
                                        at: flags.location("security", default: context.location))
            }
            run.security = security
        }
        return run
    }

    /// A mount as far as it can be read before expansion: `from=` may hold no variable (BuildKit
    /// refuses one there); a spec without `$` is read and checked in full; one with `$` keeps
    /// only its spec here and is read when its stage is resolved.
    static func parseMountAtParseTime(_ spec: String, at location: DockerfileLocation) throws(DockerfileError) -> RunMount {
        for field in MountParser.csvFields(spec) ?? [] {
            guard let equals = field.firstIndex(of: "="), field[..<equals].lowercased() == "from" else { continue }
            let value = field[field.index(after: equals)...]
            if let dollar = value.firstIndex(of: "$"), value.index(after: dollar) != value.endIndex {
                throw .variableNotAllowed(flag: "--mount from", value: String(value), at: location)
            }
        }
        guard spec.contains("$") else {
            return try MountParser.parse(spec, at: location) { (value: String) throws(DockerfileError) -> String in value }
        }
        return RunMount(spec: spec)
    }

    mutating func parseShell(_ context: Context) throws(DockerfileError) -> InstructionKind {
        try noFlags(context)
        guard let form = try commandForm(context) else {
            throw .wrongArgumentCount(instruction: "SHELL", expected: "at least one argument", at: context.location)
        }
        guard case let .exec(arguments) = form else { throw .jsonFormRequired(instruction: "SHELL", at: context.argumentLocation) }
        guard !arguments.isEmpty else { throw .wrongArgumentCount(instruction: "SHELL", expected: "at least one argument", at: context.location) }
        return .shell(arguments)
    }

    mutating func parseHealthcheck(_ context: Context) throws(DockerfileError) -> Healthcheck {
        let line = context.line
        var typeEnd = context.arguments.lowerBound
        while typeEnd < context.arguments.upperBound, !Whitespace.isGoSpace(line.scalars[typeEnd]) { typeEnd += 1 }
        guard typeEnd > context.arguments.lowerBound else {
            throw .wrongArgumentCount(instruction: "HEALTHCHECK", expected: "NONE, or CMD and a command", at: context.location)
        }
        let type = line.text(context.arguments.lowerBound..<typeEnd).uppercased()
        var rest = context
        rest.arguments = line.trimmed(typeEnd..<context.arguments.upperBound)
        if type == "NONE" {
            guard rest.arguments.isEmpty else { throw .invalidHealthcheck(reason: "NONE takes no arguments; remove what follows it", at: context.location) }
            ignoredFlags(context)
            return Healthcheck(test: .none)
        }
        var flags = InstructionFlags(instruction: "HEALTHCHECK", [("interval", .string), ("timeout", .string), ("start-period", .string),
                                                                  ("start-interval", .string), ("retries", .string)])
        try flags.parse(context.flags)
        guard type == "CMD" else {
            throw .invalidHealthcheck(reason: "unknown type '\(line.text(context.arguments.lowerBound..<typeEnd))'; write CMD before the command, or NONE",
                                      at: context.argumentLocation)
        }
        guard let command = try commandForm(rest), command != .exec([]), command != .shell("") else {
            throw .invalidHealthcheck(reason: "no command after CMD; give the command to run", at: context.location)
        }
        var check = Healthcheck(test: .command(command))
        func duration(_ name: String) throws(DockerfileError) -> Duration? {
            guard let text = flags.string(name), !text.isEmpty else { return nil }
            let location = flags.location(name, default: context.location)
            guard let nanoseconds = GoDuration.nanoseconds(text) else { throw .invalidDuration(flag: name, value: text, at: location) }
            if nanoseconds == 0 { return nil }
            guard nanoseconds >= 1_000_000 else { throw .invalidDuration(flag: name, value: text, at: location) }
            return .nanoseconds(nanoseconds)
        }
        check.interval = try duration("interval")
        check.timeout = try duration("timeout")
        check.startPeriod = try duration("start-period")
        check.startInterval = try duration("start-interval")
        if let text = flags.string("retries"), !text.isEmpty {
            let location = flags.location("retries", default: context.location)
            guard let retries = Int32(text) else {
                throw .invalidFlagValue(instruction: "HEALTHCHECK", flag: "retries", value: text, expected: "a whole number", at: location)
            }
            guard retries >= 0 else {
                throw .invalidFlagValue(instruction: "HEALTHCHECK", flag: "retries", value: text, expected: "a number of at least 0", at: location)
            }
            check.retries = Int(retries)
        }
        return check
    }

    mutating func parseOnbuild(_ context: Context) throws(DockerfileError) -> InstructionKind {
        guard !context.arguments.isEmpty else {
            throw .wrongArgumentCount(instruction: "ONBUILD", expected: "an instruction to run later", at: context.location)
        }
        try noFlags(context)
        let inner = context.line.slice(context.arguments)
        let (keyword, flags, arguments) = ArgumentSplitter.splitCommand(inner, escape: escape)
        guard let kind = InstructionKeyword(word: keyword.text) else {
            throw .unknownInstruction(name: keyword.text, suggestion: Self.suggestion(for: keyword.text), at: keyword.location)
        }
        if kind == .onbuild || kind == .from || kind == .maintainer {
            throw .invalidOnbuildTrigger(trigger: kind.rawValue, at: keyword.location)
        }
        let innerContext = Context(line: inner, keyword: keyword, flags: flags, arguments: arguments, heredocs: context.heredocs)
        let triggerKind = try parseInstruction(kind, innerContext)
        var original = inner.text(inner.all)
        for heredoc in context.heredocs { original += "\n" + heredoc.rawContent + heredoc.name }
        return .onbuild(Instruction(kind: triggerKind, location: keyword.location, endLine: context.line.endLine, original: original))
    }
}
