/// A word of an instruction line and where it starts.
struct Token: Equatable {
    var text: String
    var location: DockerfileLocation
}

/// The splitting BuildKit does before it knows an instruction's grammar: keyword, `--flags`
/// and the rest (`splitCommand`, `extractBuilderFlags`), and the quote-aware word splitting of
/// ENV, LABEL and ARG (`parseWords`).
enum ArgumentSplitter {
    /// The keyword, the flags (quotes removed, escapes applied) and the range of the arguments.
    static func splitCommand(_ line: LogicalLine, escape: Unicode.Scalar) -> (keyword: Token, flags: [Token], arguments: Range<Int>) {
        let trimmed = line.trimmed(line.all)
        let parts = line.split(trimmed, limit: 2)
        let keyword = Token(text: line.text(parts[0]), location: line.location(at: parts[0].lowerBound))
        guard parts.count == 2 else { return (keyword, [], trimmed.upperBound..<trimmed.upperBound) }
        let (rest, flags) = extractFlags(line, parts[1], escape: escape)
        return (keyword, flags, line.trimmed(rest))
    }

    /// Leading words that start with `--`, up to the first that does not (or a bare `--`).
    static func extractFlags(_ line: LogicalLine, _ range: Range<Int>, escape: Unicode.Scalar) -> (rest: Range<Int>, flags: [Token]) {
        var flags: [Token] = []
        var index = range.lowerBound
        let end = range.upperBound
        let scalars = line.scalars
        while true {
            while index < end, Whitespace.isGoSpace(scalars[index]) { index += 1 }
            guard index < end else { return (end..<end, flags) }
            guard scalars[index] == "-", index + 1 < end, scalars[index + 1] == "-" else { return (index..<end, flags) }
            let start = index
            var word = String.UnicodeScalarView()
            var quote: Unicode.Scalar?
            var blankOK = false
            while index < end {
                let scalar = scalars[index]
                if let open = quote {
                    if scalar == open {
                        quote = nil
                    } else if scalar == escape {
                        if index + 1 < end {
                            index += 1
                            word.append(scalars[index])
                        } else {
                            quote = nil
                        }
                    } else {
                        word.append(scalar)
                    }
                    index += 1
                    continue
                }
                if Whitespace.isGoSpace(scalar) { break }
                if scalar == "'" || scalar == "\"" {
                    quote = scalar
                    blankOK = true
                } else if scalar == escape {
                    if index + 1 < end {
                        index += 1
                        word.append(scalars[index])
                    }
                } else {
                    word.append(scalar)
                }
                index += 1
            }
            let text = String(word)
            if text == "--" { return (index..<end, flags) }
            if blankOK || !text.isEmpty { flags.append(Token(text: text, location: line.location(at: start))) }
        }
    }

    /// BuildKit's `parseWords`: words split at unquoted white space, quotes and escapes kept.
    static func words(_ line: LogicalLine, _ range: Range<Int>, escape: Unicode.Scalar) -> [Token] {
        var words: [Token] = []
        var word = String.UnicodeScalarView()
        var wordStart = range.lowerBound
        var inWord = false
        var quote: Unicode.Scalar?
        var blankOK = false
        var index = range.lowerBound
        let end = range.upperBound
        func finish() {
            if blankOK || !word.isEmpty { words.append(Token(text: String(word), location: line.location(at: wordStart))) }
            word = String.UnicodeScalarView()
            blankOK = false
            inWord = false
        }
        // An escape is kept with the scalar after it; one that ends the line is dropped.
        func takeEscape() {
            guard index + 1 < end else { index += 1; return }
            word.append(line.scalars[index])
            word.append(line.scalars[index + 1])
            index += 2
        }
        while index < end {
            let scalar = line.scalars[index]
            if !inWord {
                if Whitespace.isGoSpace(scalar) {
                    index += 1
                    continue
                }
                inWord = true
                wordStart = index
            }
            if let open = quote {
                if scalar == open { quote = nil }
                if scalar == escape, open != "'" {
                    if index + 1 == end { quote = nil }
                    takeEscape()
                    continue
                }
                word.append(scalar)
                index += 1
                continue
            }
            if Whitespace.isGoSpace(scalar) {
                finish()
                index += 1
                continue
            }
            if scalar == "'" || scalar == "\"" {
                quote = scalar
                blankOK = true
            }
            if scalar == escape {
                takeEscape()
                continue
            }
            word.append(scalar)
            index += 1
        }
        if inWord { finish() }
        return words
    }

    /// BuildKit's `parseStringsWhitespaceDelimited`: words at `[\t\v\f\r ]` runs, nothing else
    /// special; no words for an empty range.
    static func fields(_ line: LogicalLine, _ range: Range<Int>) -> [Token] {
        guard !range.isEmpty else { return [] }
        return line.split(range).map { Token(text: line.text($0), location: line.location(at: $0.lowerBound)) }
    }
}
