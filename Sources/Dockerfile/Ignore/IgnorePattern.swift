/// One `.dockerignore` pattern, matched as moby/patternmatcher matches it: `*` and `?` stop at
/// `/`, `**` spans any number of directories (zero included), `[...]` is a character class,
/// `\` escapes the next character; a leading `!` makes it an exception.
public struct IgnorePattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern after cleaning, without its `!`.
    public let pattern: String
    /// Whether it was written with `!`: matching paths are included again.
    public let isException: Bool

    enum Kind: Hashable {
        case exact
        case prefix
        case suffix
        case glob
    }

    enum Piece: Hashable {
        case literal(Unicode.Scalar)
        /// `?`: one character other than `/`.
        case one
        /// `*`: any run of characters other than `/`.
        case star
        /// `**` before more pattern: nothing, or anything ending in `/`.
        case directories
        /// `**` at the end: anything.
        case rest
        /// `[...]`: ranges, possibly negated.
        case characterClass(ranges: [ClosedRange<UInt32>], negated: Bool)
    }

    let kind: Kind
    let pieces: [Piece]

    /// Compiles `text` (already cleaned; a leading `!` marks an exception).
    /// Throws for `!` alone and for patterns Go's `filepath.Match` calls malformed.
    public init(_ text: String, line: Int = 1) throws(DockerfileError) {
        var body = text
        isException = body.hasPrefix("!")
        if isException {
            body.removeFirst()
            guard !body.isEmpty else { throw .invalidIgnorePattern(pattern: text, reason: "'!' needs a pattern after it", line: line) }
        }
        pattern = body
        (kind, pieces) = try Self.compile(body, original: text, line: line)
    }

    /// `!pattern` or `pattern`.
    public var description: String { (isException ? "!" : "") + pattern }

    private static func compile(_ pattern: String, original: String, line: Int) throws(DockerfileError) -> (Kind, [Piece]) {
        func malformed(_ reason: String) -> DockerfileError { .invalidIgnorePattern(pattern: original, reason: reason, line: line) }
        let scalars = Array(pattern.unicodeScalars)
        var pieces: [Piece] = []
        var kind = Kind.exact
        var index = 0
        var iteration = 0
        while index < scalars.count {
            defer { iteration += 1 }
            let scalar = scalars[index]
            index += 1
            switch scalar {
            case "*":
                guard index < scalars.count, scalars[index] == "*" else {
                    pieces.append(.star)
                    kind = .glob
                    continue
                }
                index += 1
                if index < scalars.count, scalars[index] == "/" { index += 1 }
                if index == scalars.count {
                    if kind == .exact {
                        kind = .prefix
                    } else {
                        kind = .glob
                    }
                    pieces.append(.rest)
                } else {
                    pieces.append(.directories)
                    kind = .glob
                }
                if iteration == 0 { kind = .suffix }
            case "?":
                pieces.append(.one)
                kind = .glob
            case "\\":
                guard index < scalars.count else { throw malformed("it ends with a lone '\\'; escape it as '\\\\'") }
                pieces.append(.literal(scalars[index]))
                index += 1
                kind = .glob
            case "[":
                let (piece, next) = try characterClass(scalars, from: index, malformed: malformed)
                pieces.append(piece)
                index = next
                kind = .glob
            case "]":
                pieces.append(.literal(scalar))
                kind = .glob
            default:
                pieces.append(.literal(scalar))
            }
        }
        return (kind, pieces)
    }

    /// A class after its `[`: `^` negates; ranges `a-z`; `\` escapes; must be non-empty.
    private static func characterClass(_ scalars: [Unicode.Scalar], from start: Int,
                                       malformed: (String) -> DockerfileError) throws(DockerfileError) -> (Piece, Int) {
        var index = start
        var negated = false
        if index < scalars.count, scalars[index] == "^" {
            negated = true
            index += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        func character() throws(DockerfileError) -> UInt32 {
            guard index < scalars.count else { throw malformed("'[' is never closed; add ']' or escape it as '\\['") }
            var scalar = scalars[index]
            if scalar == "-" || scalar == "]" { throw malformed("'\(scalar)' must be escaped inside [...]") }
            if scalar == "\\" {
                index += 1
                guard index < scalars.count else { throw malformed("'[' is never closed; add ']' or escape it as '\\['") }
                scalar = scalars[index]
            }
            index += 1
            return scalar.value
        }
        while true {
            guard index < scalars.count else { throw malformed("'[' is never closed; add ']' or escape it as '\\['") }
            if scalars[index] == "]", !ranges.isEmpty {
                index += 1
                return (.characterClass(ranges: ranges, negated: negated), index)
            }
            let low = try character()
            var high = low
            if index < scalars.count, scalars[index] == "-" {
                index += 1
                high = try character()
                guard low <= high else { throw malformed("the range in [...] runs backwards") }
            }
            ranges.append(low...high)
        }
    }

    /// Whether the pattern matches `path` itself (slash-separated, relative, cleaned).
    public func matches(_ path: String) -> Bool {
        switch kind {
        case .exact:
            return path == pattern
        case .prefix:
            return path.hasPrefix(String(pattern.dropLast(2)))
        case .suffix:
            let suffix = String(pattern.dropFirst(2))
            if path.hasSuffix(suffix) { return true }
            return suffix.hasPrefix("/") && path == String(suffix.dropFirst())
        case .glob:
            return globMatches(Array(path.unicodeScalars))
        }
    }

    private func globMatches(_ path: [Unicode.Scalar]) -> Bool {
        var reachable = [Bool](repeating: false, count: path.count + 1)
        reachable[0] = true
        for piece in pieces {
            var next = [Bool](repeating: false, count: path.count + 1)
            switch piece {
            case let .literal(scalar):
                for position in 0..<path.count where reachable[position] && path[position] == scalar { next[position + 1] = true }
            case .one:
                for position in 0..<path.count where reachable[position] && path[position] != "/" { next[position + 1] = true }
            case let .characterClass(ranges, negated):
                for position in 0..<path.count where reachable[position] {
                    let inside = ranges.contains { $0.contains(path[position].value) }
                    if inside != negated { next[position + 1] = true }
                }
            case .star:
                var open = false
                for position in 0...path.count {
                    if reachable[position] { open = true }
                    if open { next[position] = true }
                    if position < path.count, path[position] == "/" { open = false }
                }
            case .directories, .rest:
                // `.` in Go's regexp stops at a newline.
                var open = false
                for position in 0...path.count {
                    if reachable[position] {
                        open = true
                        next[position] = true
                    }
                    if position < path.count {
                        if piece == .directories, open, path[position] == "/" { next[position + 1] = true }
                        if path[position] == "\n" { open = false }
                        if piece == .rest, open { next[position + 1] = true }
                    }
                }
            }
            reachable = next
        }
        return reachable[path.count]
    }

    /// The pattern without a trailing `/**` or `/*`, and whether what remains is a plain path
    /// (no wildcard, class or escape): then only paths under it can match this exception.
    var plainPrefix: (path: String, isPlain: Bool) {
        var text = pattern
        if text.hasSuffix("/**") {
            text.removeLast(3)
        } else if text.hasSuffix("/*") {
            text.removeLast(2)
        }
        return (text, !text.unicodeScalars.contains { "*[]?^\\".unicodeScalars.contains($0) })
    }
}
