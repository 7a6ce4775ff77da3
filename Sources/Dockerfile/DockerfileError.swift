import Foundation
import Support

/// A problem with a Dockerfile, a build argument or a `.dockerignore`: what is wrong, where
/// (1-based line and column), and how to fix it.
///
/// Its description is one line: `LINE:COLUMN: what; fix`. ``described(file:)`` prefixes the
/// file's path.
public enum DockerfileError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The text holds no instruction at all.
    case emptyDockerfile
    /// Only ARG instructions, no FROM.
    case noStage(at: DockerfileLocation)
    /// An instruction other than ARG comes before the first FROM.
    case missingFrom(instruction: String, at: DockerfileLocation)
    /// A keyword that names no instruction.
    case unknownInstruction(name: String, suggestion: String?, at: DockerfileLocation)
    /// A `--flag` the instruction does not take.
    case unknownFlag(instruction: String, flag: String, accepted: [String], at: DockerfileLocation)
    /// A flag given twice that may be given once.
    case duplicateFlag(instruction: String, flag: String, at: DockerfileLocation)
    /// A flag without its `=value`.
    case flagNeedsValue(instruction: String, flag: String, at: DockerfileLocation)
    /// A flag whose value is not one it accepts.
    case invalidFlagValue(instruction: String, flag: String, value: String, expected: String, at: DockerfileLocation)
    /// A parser directive that is repeated or has a value it cannot take.
    case invalidDirective(name: String, reason: String, at: DockerfileLocation)
    /// A JSON array with something other than strings in it.
    case notStringArray(instruction: String, at: DockerfileLocation)
    /// An instruction that takes only the JSON form (SHELL) written otherwise.
    case jsonFormRequired(instruction: String, at: DockerfileLocation)
    /// The last line ends with a line continuation: the file looks cut short.
    case continuationAtEndOfFile(at: DockerfileLocation)
    /// A here-document whose delimiter line never comes.
    case unterminatedHeredoc(name: String, at: DockerfileLocation)
    /// A here-document where a path must be (COPY/ADD's destination).
    case heredocNotAllowed(instruction: String, role: String, at: DockerfileLocation)
    /// The wrong number of arguments; `expected` says how many (`"exactly one"`).
    case wrongArgumentCount(instruction: String, expected: String, at: DockerfileLocation)
    /// ARG, ENV or LABEL with an empty name.
    case missingName(instruction: String, at: DockerfileLocation)
    /// ENV or LABEL in `key=value` form with a word lacking `=`.
    case missingEquals(instruction: String, word: String, at: DockerfileLocation)
    /// `FROM ... AS name` with a name Docker does not allow.
    case invalidStageName(name: String, at: DockerfileLocation)
    /// An ONBUILD trigger Docker does not allow (ONBUILD, FROM, MAINTAINER).
    case invalidOnbuildTrigger(trigger: String, at: DockerfileLocation)
    /// A HEALTHCHECK duration flag that is not a Go duration (`30s`, `1m30s`) of at least 1ms.
    case invalidDuration(flag: String, value: String, at: DockerfileLocation)
    /// A HEALTHCHECK problem other than a duration (`reason` names it).
    case invalidHealthcheck(reason: String, at: DockerfileLocation)
    /// VOLUME with an empty path.
    case emptyVolume(at: DockerfileLocation)
    /// A `RUN --mount` value Docker refuses.
    case invalidMount(spec: String, reason: String, at: DockerfileLocation)
    /// A `$` expression that cannot be expanded (bad syntax, unterminated quote, `${v:?msg}`).
    case substitution(text: String, reason: String, at: DockerfileLocation)
    /// An EXPOSE word that is not a port, range or protocol Docker knows.
    case invalidPort(value: String, reason: String, at: DockerfileLocation)
    /// A variable in `COPY --from` or `RUN --mount=from=`, which Docker does not expand.
    case variableNotAllowed(flag: String, value: String, at: DockerfileLocation)
    /// `COPY --from` or `--mount from=` naming no stage and not an image reference.
    case unknownStage(name: String, suggestion: String?, at: DockerfileLocation)
    /// `COPY --from=N` with N past the last stage.
    case stageIndexOutOfRange(index: Int, stageCount: Int, at: DockerfileLocation)
    /// A stage copying or mounting from a stage defined after it (or itself).
    case stageDefinedLater(name: String, at: DockerfileLocation)
    /// Stages that depend on each other in a circle.
    case dependencyCycle(stages: [String], at: DockerfileLocation)
    /// `--target` naming no stage.
    case unknownTarget(name: String, suggestion: String?, available: [String])
    /// A FROM line whose image expression is empty or not a reference once expanded.
    case invalidBaseName(expression: String, value: String, at: DockerfileLocation)
    /// A FROM `--platform` that is empty once expanded.
    case emptyPlatform(expression: String, at: DockerfileLocation)
    /// A `--build-arg` that is not `NAME=value` or `NAME`.
    case invalidBuildArgument(String)
    /// A `.dockerignore` line Docker refuses (line 1-based; column 1).
    case invalidIgnorePattern(pattern: String, reason: String, line: Int)

    /// Where the problem is; `nil` for problems not in the Dockerfile's text.
    public var location: DockerfileLocation? {
        switch self {
        case .emptyDockerfile, .unknownTarget, .invalidBuildArgument: return nil
        case let .noStage(at), let .missingFrom(_, at), let .unknownInstruction(_, _, at), let .unknownFlag(_, _, _, at),
             let .duplicateFlag(_, _, at), let .flagNeedsValue(_, _, at), let .invalidFlagValue(_, _, _, _, at),
             let .invalidDirective(_, _, at), let .notStringArray(_, at), let .jsonFormRequired(_, at),
             let .continuationAtEndOfFile(at), let .unterminatedHeredoc(_, at), let .heredocNotAllowed(_, _, at),
             let .wrongArgumentCount(_, _, at), let .missingName(_, at), let .missingEquals(_, _, at),
             let .invalidStageName(_, at), let .invalidOnbuildTrigger(_, at), let .invalidDuration(_, _, at),
             let .invalidHealthcheck(_, at), let .emptyVolume(at), let .invalidMount(_, _, at),
             let .substitution(_, _, at), let .invalidPort(_, _, at), let .variableNotAllowed(_, _, at),
             let .unknownStage(_, _, at), let .stageIndexOutOfRange(_, _, at), let .stageDefinedLater(_, at),
             let .dependencyCycle(_, at), let .invalidBaseName(_, _, at), let .emptyPlatform(_, at):
            return at
        case let .invalidIgnorePattern(_, _, line):
            return DockerfileLocation(line: line, column: 1)
        }
    }

    /// What is wrong and what to do, without the location.
    public var message: String {
        switch self {
        case .emptyDockerfile:
            return "the Dockerfile has no instructions; start it with a FROM line"
        case .noStage:
            return "the Dockerfile has no FROM line; add one after the ARGs (they may be used in it)"
        case let .missingFrom(instruction, _):
            return "\(instruction) before the first FROM; only ARG may come before FROM, so add a FROM line above it"
        case let .unknownInstruction(name, suggestion, _):
            return "unknown instruction '\(name)'; " + (suggestion.map { "did you mean '\($0)'?" }
                ?? "use one of " + Suggestions.list(InstructionKeyword.allCases.map(\.rawValue), conjunction: "or"))
        case let .unknownFlag(instruction, flag, accepted, _):
            let hint = Suggestions.closest(to: flag, in: accepted).map { "did you mean '--\($0)'?" }
            let takes = accepted.isEmpty ? "\(instruction) takes no flags" : "\(instruction) takes " + Suggestions.list(accepted.map { "--" + $0 })
            return "unknown flag '--\(flag)' on \(instruction); " + (hint.map { $0 + " (" + takes + ")" } ?? takes)
        case let .duplicateFlag(instruction, flag, _):
            return "'--\(flag)' is given twice on \(instruction); keep one"
        case let .flagNeedsValue(instruction, flag, _):
            return "'--\(flag)' on \(instruction) needs a value; write --\(flag)=VALUE"
        case let .invalidFlagValue(instruction, flag, value, expected, _):
            return "'--\(flag)=\(value)' on \(instruction) is not valid; use \(expected)"
        case let .invalidDirective(name, reason, _):
            return "parser directive '\(name)': \(reason)"
        case let .notStringArray(instruction, _):
            return "the JSON array of \(instruction) must hold only strings; quote every element"
        case let .jsonFormRequired(instruction, _):
            return "\(instruction) takes only the JSON form; write it like \(instruction) [\"/bin/sh\", \"-c\"]"
        case .continuationAtEndOfFile:
            return "the last line ends with a line continuation and nothing follows; remove the escape character or finish the instruction"
        case let .unterminatedHeredoc(name, _):
            return "here-document '\(name)' is never closed; end it with a line holding only \(name)"
        case let .heredocNotAllowed(instruction, role, _):
            return "\(instruction) cannot take a here-document as \(role); write a path there"
        case let .wrongArgumentCount(instruction, expected, _):
            return "\(instruction) requires \(expected)"
        case let .missingName(instruction, _):
            return "\(instruction) has an empty name; write NAME=value"
        case let .missingEquals(instruction, word, _):
            return "\(instruction): no '=' in '\(word)'; write every pair as name=value (quote values with spaces)"
        case let .invalidStageName(name, _):
            return "invalid stage name '\(name)'; start with a letter and use only letters, digits, '-', '_' and '.'"
        case let .invalidOnbuildTrigger(trigger, _):
            return "\(trigger) is not allowed as an ONBUILD trigger; put it in the Dockerfile that uses this image instead"
        case let .invalidDuration(flag, value, _):
            return "'--\(flag)=\(value)' is not a duration of at least 1ms; write it like 30s, 1m30s or 500ms"
        case let .invalidHealthcheck(reason, _):
            return "HEALTHCHECK: \(reason)"
        case .emptyVolume:
            return "VOLUME has an empty path; name the directory to mark"
        case let .invalidMount(spec, reason, _):
            return "invalid RUN --mount=\(spec): \(reason)"
        case let .substitution(text, reason, _):
            return "cannot expand '\(text)': \(reason)"
        case let .invalidPort(value, reason, _):
            return "invalid EXPOSE port '\(value)': \(reason); write PORT, PORT/udp or START-END"
        case let .variableNotAllowed(flag, value, _):
            return "\(flag)=\(value): variables are not expanded there; name the stage with a FROM that uses a global ARG and refer to that stage"
        case let .unknownStage(name, suggestion, _):
            return "'\(name)' names no stage before this one and is not an image reference; "
                + (suggestion.map { "did you mean '\($0)'?" } ?? "name an earlier stage (FROM ... AS \(name)) or an image")
        case let .stageIndexOutOfRange(index, count, _):
            return "stage index \(index) is out of range: the Dockerfile has \(count) stage\(count == 1 ? "" : "s") (0 to \(count - 1))"
        case let .stageDefinedLater(name, _):
            return "stage '\(name)' is used before it is defined; move its FROM above this instruction"
        case let .dependencyCycle(stages, _):
            return "stages depend on each other in a circle: " + (stages + [stages.first ?? ""]).joined(separator: " -> ")
                + "; remove one of the COPY --from or --mount references"
        case let .unknownTarget(name, suggestion, available):
            return "target stage '\(name)' is not in the Dockerfile; "
                + (suggestion.map { "did you mean '\($0)'?" } ?? "name one of " + Suggestions.list(available, conjunction: "or"))
        case let .invalidBaseName(expression, value, _):
            let shown = expression == value ? "'\(expression)'" : "'\(expression)' (expanded to '\(value)')"
            return "FROM \(shown) is not an image reference or stage name; check the name and the build arguments it uses"
        case let .emptyPlatform(expression, _):
            return "FROM --platform=\(expression) expands to nothing; give the ARG it uses a value"
        case let .invalidBuildArgument(text):
            return "invalid build argument '\(text)'; write NAME=value (or NAME to take it from the environment)"
        case let .invalidIgnorePattern(pattern, reason, _):
            return "invalid .dockerignore pattern '\(pattern)': \(reason)"
        }
    }

    /// `LINE:COLUMN: MESSAGE`, or the message alone when there is no location.
    public var description: String {
        location.map { "\($0): \(message)" } ?? message
    }

    /// `FILE:LINE:COLUMN: MESSAGE`, naming the Dockerfile (or `.dockerignore`) as the user did.
    public func described(file: String) -> String {
        location.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)"
    }

    /// The same text as ``description``.
    public var errorDescription: String? { description }
}
