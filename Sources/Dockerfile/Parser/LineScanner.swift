/// Turns Dockerfile text into logical lines the way BuildKit's parser reads it: parser
/// directives at the top, comment lines dropped (also inside a continuation), blank lines
/// skipped, lines joined at the escape character, and here-document bodies read raw on request.
struct LineScanner {
    private let scalars: [Unicode.Scalar]
    private var offset = 0
    /// The number of the last physical line read.
    private(set) var lineNumber = 0
    private(set) var directives = ParserDirectives()
    private(set) var warnings: [DockerfileWarning] = []
    private var directiveParser = DirectiveParser()
    private let acceptsContinuationAtEnd: Bool

    init(text: String, acceptingContinuationAtEndOfFile: Bool = false) {
        scalars = Array(text.unicodeScalars)
        acceptsContinuationAtEnd = acceptingContinuationAtEndOfFile
    }

    /// The next physical line: its content (without the line ending), the range including the
    /// ending, and the offset of column 1.
    private mutating func nextPhysicalLine() -> (content: Range<Int>, whole: Range<Int>, columnOne: Int)? {
        guard offset < scalars.count else { return nil }
        var start = offset
        if lineNumber == 0, scalars[start] == "\u{FEFF}" { start += 1 }
        var end = start
        while end < scalars.count, scalars[end] != "\n" { end += 1 }
        let wholeEnd = end < scalars.count ? end + 1 : end
        offset = wholeEnd
        lineNumber += 1
        var contentEnd = wholeEnd
        while contentEnd > start, scalars[contentEnd - 1] == "\n" || scalars[contentEnd - 1] == "\r" { contentEnd -= 1 }
        return (start..<contentEnd, start..<wholeEnd, start)
    }

    private func isComment(_ range: Range<Int>) -> Bool {
        var index = range.lowerBound
        while index < range.upperBound, Whitespace.isGoSpace(scalars[index]) { index += 1 }
        return index < range.upperBound && scalars[index] == "#"
    }

    /// BuildKit's `processLine`: feed the directive parser, then drop a comment line's text.
    private mutating func process(_ range: Range<Int>, stripLeft: Bool, columnOne: Int) throws(DockerfileError) -> Range<Int> {
        var lower = range.lowerBound
        if stripLeft {
            while lower < range.upperBound, Whitespace.isGoSpace(scalars[lower]) { lower += 1 }
        }
        let location = DockerfileLocation(line: lineNumber, column: lower - columnOne + 1)
        if let (name, value) = try directiveParser.parse(scalars[lower..<range.upperBound], at: location) {
            switch name {
            case "escape":
                guard value == "`" || value == "\\" else {
                    throw .invalidDirective(name: name, reason: "invalid escape character '\(value)'; use ` or \\", at: location)
                }
                directives.escape = value.unicodeScalars.first ?? "\\"
            case "syntax": directives.syntax = value
            default: directives.check = value
            }
        }
        return isComment(lower..<range.upperBound) ? lower..<lower : lower..<range.upperBound
    }

    /// Whether `range` ends with a line continuation, and the text before it.
    private func continuation(_ range: Range<Int>) -> (content: Range<Int>, continues: Bool, escapeAt: Int) {
        var last = range.upperBound
        while last > range.lowerBound, scalars[last - 1] == " " || scalars[last - 1] == "\t" { last -= 1 }
        guard last > range.lowerBound, scalars[last - 1] == directives.escape else { return (range, false, 0) }
        let escapeIndex = last - 1
        if escapeIndex > range.lowerBound, scalars[escapeIndex - 1] == directives.escape { return (range, false, 0) }
        return (range.lowerBound..<escapeIndex, true, escapeIndex)
    }

    private func append(_ range: Range<Int>, columnOne: Int, to line: inout LogicalLine) {
        for index in range {
            line.scalars.append(scalars[index])
            line.positions.append(DockerfileLocation(line: lineNumber, column: index - columnOne + 1))
        }
    }

    /// The next instruction's logical line, or `nil` at the end of the text.
    mutating func nextLogicalLine() throws(DockerfileError) -> LogicalLine? {
        while let physical = nextPhysicalLine() {
            let processed = try process(physical.content, stripLeft: true, columnOne: physical.columnOne)
            var (content, continues, escapeIndex) = continuation(processed)
            if !continues, content.isEmpty { continue }
            var line = LogicalLine(startLine: lineNumber)
            append(content, columnOne: physical.columnOne, to: &line)
            var escapeLocation = DockerfileLocation(line: lineNumber, column: escapeIndex - physical.columnOne + 1)
            var emptyContinuation: Int?
            while continues {
                guard let next = nextPhysicalLine() else {
                    guard acceptsContinuationAtEnd else { throw .continuationAtEndOfFile(at: escapeLocation) }
                    warnings.append(DockerfileWarning(kind: .continuationAtEndOfFile, location: escapeLocation,
                                                      message: "the last line ends with a line continuation; remove the escape character"))
                    break
                }
                let nextProcessed = try process(next.content, stripLeft: false, columnOne: next.columnOne)
                if isComment(next.content) { continue }
                if nextProcessed.allSatisfy({ Whitespace.isGoSpace(scalars[$0]) }) {
                    emptyContinuation = emptyContinuation ?? lineNumber
                    continue
                }
                (content, continues, escapeIndex) = continuation(nextProcessed)
                append(content, columnOne: next.columnOne, to: &line)
                escapeLocation = DockerfileLocation(line: lineNumber, column: escapeIndex - next.columnOne + 1)
            }
            line.endLine = lineNumber
            if let emptyLine = emptyContinuation {
                warnings.append(DockerfileWarning(
                    kind: .emptyContinuationLine, location: DockerfileLocation(line: emptyLine, column: 1),
                    message: "empty continuation line; remove it (Docker will make this an error)"))
            }
            return line
        }
        return nil
    }

    /// Reads a here-document body: raw lines up to one equal to `name` (after removing leading
    /// tabs when `stripsTabs`). Returns the body with its line endings, or `nil` at the end of
    /// the text.
    mutating func readHeredoc(name: String, stripsTabs: Bool) -> String? {
        let terminator = Array(name.unicodeScalars)
        var body = String.UnicodeScalarView()
        while let physical = nextPhysicalLine() {
            var lower = physical.content.lowerBound
            if stripsTabs {
                while lower < physical.content.upperBound, scalars[lower] == "\t" { lower += 1 }
            }
            if scalars[lower..<physical.content.upperBound].elementsEqual(terminator) { return String(body) }
            body.append(contentsOf: scalars[physical.whole])
        }
        return nil
    }
}
