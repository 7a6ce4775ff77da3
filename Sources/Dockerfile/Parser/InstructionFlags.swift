/// The `--flags` one instruction takes, read as BuildKit's `BFlags` reads them: `--name=value`,
/// bare `--name` for booleans, names case-sensitive, each at most once except list flags.
struct InstructionFlags {
    enum Kind {
        case bool
        case string
        case list
    }

    let instruction: String
    let definitions: [(name: String, kind: Kind)]
    private(set) var values: [String: [String]] = [:]
    private(set) var locations: [String: DockerfileLocation] = [:]

    init(instruction: String, _ definitions: [(String, Kind)]) {
        self.instruction = instruction
        self.definitions = definitions.map { (name: $0.0, kind: $0.1) }
    }

    /// Reads `tokens` (each starting with `--`), checking names and values.
    mutating func parse(_ tokens: [Token]) throws(DockerfileError) {
        for token in tokens {
            let text = token.text
            guard text.hasPrefix("--") else {
                throw .unknownFlag(instruction: instruction, flag: text, accepted: definitions.map(\.name), at: token.location)
            }
            let body = text.dropFirst(2)
            let name: String
            let value: String?
            if let equals = body.firstIndex(of: "=") {
                name = String(body[..<equals])
                value = String(body[body.index(after: equals)...])
            } else {
                name = String(body)
                value = nil
            }
            guard let definition = definitions.first(where: { $0.name == name }) else {
                throw .unknownFlag(instruction: instruction, flag: name, accepted: definitions.map(\.name), at: token.location)
            }
            if values[name] != nil, definition.kind != .list {
                throw .duplicateFlag(instruction: instruction, flag: name, at: token.location)
            }
            locations[name] = token.location
            switch definition.kind {
            case .bool:
                switch value?.lowercased() {
                case nil, "true": values[name] = ["true"]
                case "false": values[name] = ["false"]
                case "":
                    throw .flagNeedsValue(instruction: instruction, flag: name, at: token.location)
                default:
                    throw .invalidFlagValue(instruction: instruction, flag: name, value: value ?? "",
                                            expected: "true or false", at: token.location)
                }
            case .string, .list:
                guard let value else { throw .flagNeedsValue(instruction: instruction, flag: name, at: token.location) }
                values[name, default: []].append(value)
            }
        }
    }

    /// A string flag's value, `nil` when not given.
    func string(_ name: String) -> String? { values[name]?.last }

    /// A string flag's value, `nil` when not given or empty (BuildKit treats `--chown=` as unset).
    func nonEmpty(_ name: String) -> String? { string(name).flatMap { $0.isEmpty ? nil : $0 } }

    /// A boolean flag's value, `nil` when not given.
    func bool(_ name: String) -> Bool? { values[name].map { $0.last == "true" } }

    /// A list flag's values in order.
    func list(_ name: String) -> [String] { values[name] ?? [] }

    /// Where a flag was given, for errors about its value.
    func location(_ name: String, default fallback: DockerfileLocation) -> DockerfileLocation {
        locations[name] ?? fallback
    }
}
