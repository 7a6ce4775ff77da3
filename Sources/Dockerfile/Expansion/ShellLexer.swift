/// Variable expansion and word splitting as BuildKit's shell lexer does them (`shell/lex.go`):
/// `$v`, `${v}`, `${v:-w}`, `${v-w}`, `${v:+w}`, `${v+w}`, `${v:?msg}`, `${v?msg}`, `${v#p}`,
/// `${v##p}`, `${v%p}`, `${v%%p}`, `${v/p/r}`, `${v//p/r}`; single quotes literal; double quotes
/// expanding; the escape character escaping the next character.
///
/// It is not a shell: no command substitution, no arithmetic, no globbing. Unset variables
/// expand to nothing unless ``skipUnsetVariables`` keeps them as written.
public struct ShellLexer: Sendable {
    /// What went wrong, in BuildKit's words.
    public struct Failure: Error, Sendable, Equatable {
        /// The reason, such as `syntax error: bad substitution`.
        public var reason: String
    }

    /// The result of one expansion.
    public struct Expansion: Sendable, Equatable {
        /// The text with quotes removed, escapes applied and variables expanded.
        public var text: String
        /// The same split into words at unquoted white space (after expansion, as a shell does).
        public var words: [String]
        /// The variables it looked up and found.
        public var matched: Set<String>
        /// The variables it looked up and did not find.
        public var unmatched: Set<String>
    }

    /// The escape character (`\`, or `` ` `` under `# escape=`` ` ``).
    public var escape: Unicode.Scalar
    /// Keep quote characters in the result (they still group words).
    public var rawQuotes = false
    /// Keep escape characters in the result.
    public var rawEscapes = false
    /// Treat quotes as ordinary characters (used for here-document bodies).
    public var skipProcessingQuotes = false
    /// Leave references to unset variables as written instead of expanding them to nothing.
    public var skipUnsetVariables = false

    /// Creates a lexer with `escape` as its escape character.
    public init(escape: Unicode.Scalar = "\\") {
        self.escape = escape
    }

    /// Expands `text`, looking variables up with `lookup` (`nil` for unset).
    public func expand(_ text: String, lookup: (String) -> String?) throws(Failure) -> Expansion {
        let outcome: Result<Expansion, Failure> = withoutActuallyEscaping(lookup) { lookup in
            var state = LexState(lexer: self, scalars: Array(text.unicodeScalars), lookup: lookup)
            do throws(Failure) {
                let (result, words) = try state.processStopOn(nil, rawEscapes: rawEscapes)
                return .success(Expansion(text: result, words: words, matched: state.matched, unmatched: state.unmatched))
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    /// Expands `text` with the variables in `environment`.
    public func expand(_ text: String, environment: [String: String]) throws(Failure) -> Expansion {
        try expand(text) { environment[$0] }
    }
}

/// Words being collected: characters split at white space, quoted text kept whole.
private struct WordCollector {
    var buffer = String.UnicodeScalarView()
    var words: [String] = []
    var inWord = false

    mutating func addCharacter(_ scalar: Unicode.Scalar) {
        if scalar.properties.isWhitespace {
            if inWord, !buffer.isEmpty {
                words.append(String(buffer))
                buffer = String.UnicodeScalarView()
                inWord = false
            }
        } else {
            addRawCharacter(scalar)
        }
    }

    mutating func addRawCharacter(_ scalar: Unicode.Scalar) {
        buffer.append(scalar)
        inWord = true
    }

    mutating func addString(_ text: String) {
        for scalar in text.unicodeScalars { addCharacter(scalar) }
    }

    mutating func addRawString(_ text: String) {
        buffer.append(contentsOf: text.unicodeScalars)
        inWord = true
    }

    mutating func finish() -> [String] {
        if !buffer.isEmpty {
            words.append(String(buffer))
            buffer = String.UnicodeScalarView()
            inWord = false
        }
        return words
    }
}

/// One pass over a text: a cursor, the lookup and what it found.
private struct LexState {
    let lexer: ShellLexer
    let scalars: [Unicode.Scalar]
    let lookup: (String) -> String?
    var position = 0
    var rawEscapes: Bool
    var matched: Set<String> = []
    var unmatched: Set<String> = []
    /// How many `${...}` are open: bounded so no input can exhaust the stack.
    var depth = 0
    static let maximumDepth = 256

    init(lexer: ShellLexer, scalars: [Unicode.Scalar], lookup: @escaping (String) -> String?) {
        self.lexer = lexer
        self.scalars = scalars
        self.lookup = lookup
        self.rawEscapes = lexer.rawEscapes
    }

    func peek() -> Unicode.Scalar? {
        position < scalars.count ? scalars[position] : nil
    }

    mutating func next() -> Unicode.Scalar? {
        guard position < scalars.count else { return nil }
        defer { position += 1 }
        return scalars[position]
    }

    mutating func variable(_ name: String) -> String? {
        if let value = lookup(name) {
            matched.insert(name)
            return value
        }
        unmatched.insert(name)
        return nil
    }

    /// Reads up to `stop` (consumed) or the end; a missing `stop` is an error.
    mutating func processStopOn(_ stop: Unicode.Scalar?, rawEscapes raw: Bool) throws(ShellLexer.Failure) -> (String, [String]) {
        guard depth < Self.maximumDepth else {
            throw .init(reason: "substitutions nested more than \(Self.maximumDepth) deep")
        }
        depth += 1
        let saved = rawEscapes
        rawEscapes = raw
        defer {
            rawEscapes = saved
            depth -= 1
        }
        var result = String.UnicodeScalarView()
        var words = WordCollector()
        while let scalar = peek() {
            if let stop, scalar == stop {
                position += 1
                return (String(result), words.finish())
            }
            switch scalar {
            case "$":
                let value = try processDollar()
                result.append(contentsOf: value.unicodeScalars)
                words.addString(value)
            case "<":
                let value = processPossibleHeredoc()
                result.append(contentsOf: value.unicodeScalars)
                words.addRawString(value)
            case "'" where !lexer.skipProcessingQuotes:
                let value = try processSingleQuote()
                result.append(contentsOf: value.unicodeScalars)
                words.addRawString(value)
            case "\"" where !lexer.skipProcessingQuotes:
                let value = try processDoubleQuote()
                result.append(contentsOf: value.unicodeScalars)
                words.addRawString(value)
            default:
                position += 1
                if scalar == lexer.escape {
                    if rawEscapes {
                        words.addRawCharacter(scalar)
                        result.append(scalar)
                    }
                    guard let escaped = next() else { break }
                    words.addRawCharacter(escaped)
                    result.append(escaped)
                } else {
                    words.addCharacter(scalar)
                    result.append(scalar)
                }
            }
        }
        if let stop {
            throw .init(reason: "unexpected end of statement while looking for matching \(stop)")
        }
        return (String(result), words.finish())
    }

    mutating func processSingleQuote() throws(ShellLexer.Failure) -> String {
        var result = String.UnicodeScalarView()
        position += 1
        if lexer.rawQuotes { result.append("'") }
        while true {
            guard let scalar = next() else {
                throw .init(reason: "unexpected end of statement while looking for matching single-quote")
            }
            if scalar == "'" {
                if lexer.rawQuotes { result.append(scalar) }
                return String(result)
            }
            result.append(scalar)
        }
    }

    mutating func processDoubleQuote() throws(ShellLexer.Failure) -> String {
        var result = String.UnicodeScalarView()
        position += 1
        if lexer.rawQuotes { result.append("\"") }
        while true {
            guard let scalar = peek() else {
                throw .init(reason: "unexpected end of statement while looking for matching double-quote")
            }
            if scalar == "\"" {
                position += 1
                if lexer.rawQuotes { result.append(scalar) }
                return String(result)
            }
            if scalar == "$" {
                result.append(contentsOf: try processDollar().unicodeScalars)
                continue
            }
            position += 1
            var character = scalar
            if scalar == lexer.escape {
                if rawEscapes { result.append(scalar) }
                guard let following = peek() else { continue }
                if following == "\"" || following == "$" || following == lexer.escape {
                    character = following
                    position += 1
                }
            }
            result.append(character)
        }
    }

    mutating func processDollar() throws(ShellLexer.Failure) -> String {
        position += 1
        guard peek() == "{" else {
            let name = processName()
            if name.isEmpty { return "$" }
            guard let value = variable(name) else { return lexer.skipUnsetVariables ? "$" + name : "" }
            return value
        }
        position += 1
        switch peek() {
        case nil: throw .init(reason: "syntax error: missing '}'")
        case "{", "}", ":": throw .init(reason: "syntax error: bad substitution")
        default: break
        }
        let name = processName()
        guard var modifier = next() else { throw .init(reason: "syntax error: missing '}'") }
        var modifierText = String(modifier)
        var nullIsUnset = false
        switch modifier {
        case "}":
            guard let value = variable(name) else { return lexer.skipUnsetVariables ? "${\(name)}" : "" }
            return value
        case "/":
            return try processReplacement(name: name)
        case ":", "+", "-", "?", "#", "%":
            if modifier == ":" {
                nullIsUnset = true
                guard let following = next() else { throw .init(reason: "syntax error: missing '}'") }
                modifier = following
                modifierText.unicodeScalars.append(following)
            }
        default:
            throw .init(reason: "unsupported modifier (\(modifierText)) in substitution")
        }
        let trims = modifier == "#" || modifier == "%"
        if nullIsUnset, trims { throw .init(reason: "unsupported modifier (\(modifierText)) in substitution") }
        let word: String
        do {
            word = try processStopOn("}", rawEscapes: trims).0
        } catch {
            throw peek() == nil ? .init(reason: "syntax error: missing '}'") : error
        }
        let value = variable(name)
        if lexer.skipUnsetVariables, value == nil { return "${\(name)\(modifierText)\(word)}" }
        let isEmpty = value == nil || (nullIsUnset && value == "")
        switch modifier {
        case "-":
            return isEmpty ? word : (value ?? "")
        case "+":
            return isEmpty ? "" : word
        case "?":
            if value == nil { throw .init(reason: "\(name): " + (word.isEmpty ? "is not allowed to be unset" : word)) }
            if isEmpty { throw .init(reason: "\(name): " + (word.isEmpty ? "is not allowed to be empty" : word)) }
            return value ?? ""
        case "#", "%":
            var pattern = word
            var greedy = false
            if pattern.unicodeScalars.first == modifier {
                greedy = true
                pattern.unicodeScalars.removeFirst()
            }
            let compiled = try ShellPattern(pattern)
            let subject = value ?? ""
            return modifier == "#" ? compiled.trimmingPrefix(of: subject, greedy: greedy)
                : compiled.trimmingSuffix(of: subject, greedy: greedy)
        default:
            throw .init(reason: "unsupported modifier (\(modifierText)) in substitution")
        }
    }

    mutating func processReplacement(name: String) throws(ShellLexer.Failure) -> String {
        let replaceAll = peek() == "/"
        if replaceAll { position += 1 }
        let pattern: String
        do {
            pattern = try processStopOn("/", rawEscapes: true).0
        } catch {
            throw peek() == nil ? .init(reason: "syntax error: missing '/' in ${}") : error
        }
        let replacement: String
        do {
            replacement = try processStopOn("}", rawEscapes: true).0
        } catch {
            throw peek() == nil ? .init(reason: "syntax error: missing '}'") : error
        }
        let value = variable(name)
        if lexer.skipUnsetVariables, value == nil { return "${\(name)/\(pattern)/\(replacement)}" }
        let compiled = try ShellPattern(pattern)
        return compiled.replacing(in: value ?? "", with: replacement, all: replaceAll)
    }

    mutating func processName() -> String {
        var name = String.UnicodeScalarView()
        while let scalar = peek() {
            if name.isEmpty, scalar.isGoDigit {
                while let digit = peek(), digit.isGoDigit {
                    name.append(digit)
                    position += 1
                }
                return String(name)
            }
            if name.isEmpty, "@*#?-$!0".unicodeScalars.contains(scalar) {
                position += 1
                return String(scalar)
            }
            guard scalar.isGoLetter || scalar.isGoDigit || scalar == "_" else { break }
            name.append(scalar)
            position += 1
        }
        return String(name)
    }

    mutating func processPossibleHeredoc() -> String {
        position += 1
        guard peek() == "<" else { return "<" }
        position += 1
        var result = "<<"
        while let scalar = peek(), scalar == " " || scalar == "\t" || scalar == "\r" {
            result.unicodeScalars.append(scalar)
            position += 1
        }
        return result
    }
}

extension Unicode.Scalar {
    /// Go's `unicode.IsDigit`: a decimal digit in any script.
    var isGoDigit: Bool { properties.generalCategory == .decimalNumber }

    /// Go's `unicode.IsLetter`: any letter category.
    var isGoLetter: Bool {
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }
}
