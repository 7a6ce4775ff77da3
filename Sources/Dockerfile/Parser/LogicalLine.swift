/// One instruction's text: physical lines joined at their continuations, each character with
/// the line and column it came from, so errors can point into it.
struct LogicalLine {
    var scalars: [Unicode.Scalar] = []
    var positions: [DockerfileLocation] = []
    /// The first physical line.
    var startLine: Int
    /// The last physical line read for it (here-document bodies extend the instruction further).
    var endLine: Int

    init(startLine: Int) {
        self.startLine = startLine
        self.endLine = startLine
    }

    /// A line made from `text` on one physical line, columns starting at `column` (for tests and
    /// for re-reading an ONBUILD trigger).
    init(text: String, line: Int, column: Int = 1) {
        self.init(startLine: line)
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            scalars.append(scalar)
            positions.append(DockerfileLocation(line: line, column: column + offset))
        }
    }

    var all: Range<Int> { 0..<scalars.count }

    /// The part of this line in `range`, keeping each character's position.
    func slice(_ range: Range<Int>) -> LogicalLine {
        var line = LogicalLine(startLine: range.isEmpty ? startLine : positions[range.lowerBound].line)
        line.scalars = Array(scalars[range])
        line.positions = Array(positions[range])
        line.endLine = endLine
        return line
    }

    func text(_ range: Range<Int>) -> String {
        String(String.UnicodeScalarView(scalars[range]))
    }

    /// Where the character at `index` came from; past the end, just after the last character.
    func location(at index: Int) -> DockerfileLocation {
        if index < positions.count, index >= 0 { return positions[index] }
        guard let last = positions.last else { return DockerfileLocation(line: startLine, column: 1) }
        return DockerfileLocation(line: last.line, column: last.column + 1)
    }

    /// `range` without the characters `isSpace` accepts at both ends.
    func trimmed(_ range: Range<Int>, _ isSpace: (Unicode.Scalar) -> Bool = Whitespace.isGoSpace) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, isSpace(scalars[lower]) { lower += 1 }
        while upper > lower, isSpace(scalars[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    /// `range` split at runs of `[\t\v\f\r ]` (BuildKit's `reWhitespace`), at most `limit` parts;
    /// the last part keeps the rest. An empty range gives one empty part, as Go's Split does.
    func split(_ range: Range<Int>, limit: Int = .max) -> [Range<Int>] {
        var parts: [Range<Int>] = []
        var partStart = range.lowerBound
        var index = range.lowerBound
        while index < range.upperBound, parts.count < limit - 1 {
            if Whitespace.isSeparator(scalars[index]) {
                var end = index
                while end < range.upperBound, Whitespace.isSeparator(scalars[end]) { end += 1 }
                parts.append(partStart..<index)
                partStart = end
                index = end
            } else {
                index += 1
            }
        }
        parts.append(partStart..<range.upperBound)
        return parts
    }
}

/// The white space classes the Dockerfile grammar uses.
enum Whitespace {
    /// Go's `unicode.IsSpace` (the Unicode White_Space property).
    static func isGoSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    /// BuildKit's `reWhitespace`: `[\t\v\f\r ]`.
    static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\u{0B}" || scalar == "\u{0C}" || scalar == "\r"
    }

    /// Go regexp's `\s`: `[\t\n\f\r ]`.
    static func isRegexpSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\u{0C}" || scalar == "\r"
    }
}
