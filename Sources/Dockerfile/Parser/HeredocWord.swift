/// Recognises here-document markers (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`) as BuildKit does:
/// a word of the instruction line matching `^(\d*)<<(-?)\s*([^<]*)$` whose rest is one word.
enum HeredocWord {
    struct Marker: Equatable {
        /// The delimiter with quotes removed.
        var name: String
        /// False when any part of the delimiter was quoted.
        var expands: Bool
        /// `<<-`.
        var stripsTabs: Bool
        /// The digits before `<<`, or 0.
        var fileDescriptor: Int
    }

    /// The marker `word` is, or `nil`.
    static func parse(_ word: String) -> Marker? {
        let scalars = Array(word.unicodeScalars)
        var index = 0
        while index < scalars.count, ("0"..."9").contains(scalars[index]) { index += 1 }
        let digits = String(String.UnicodeScalarView(scalars[0..<index]))
        guard index + 1 < scalars.count, scalars[index] == "<", scalars[index + 1] == "<" else { return nil }
        index += 2
        let stripsTabs = index < scalars.count && scalars[index] == "-"
        if stripsTabs { index += 1 }
        while index < scalars.count, Whitespace.isRegexpSpace(scalars[index]) { index += 1 }
        let rest = scalars[index...]
        guard !rest.isEmpty, !rest.contains("<") else { return nil }
        let restText = String(String.UnicodeScalarView(rest))
        var lexer = ShellLexer(escape: "\\")
        lexer.skipUnsetVariables = true
        guard let plain = try? lexer.expand(restText, lookup: { _ in nil }).words, plain.count == 1 else { return nil }
        lexer.rawQuotes = true
        guard let raw = try? lexer.expand(restText, lookup: { _ in nil }).words, raw.count == 1 else { return nil }
        func quotes(_ text: String) -> Int { text.unicodeScalars.filter { $0 == "'" || $0 == "\"" }.count }
        return Marker(name: plain[0], expands: quotes(plain[0]) == quotes(raw[0]), stripsTabs: stripsTabs,
                      fileDescriptor: Int(digits) ?? 0)
    }

    /// The markers on an instruction line, in order (words split as BuildKit's lexer does, with
    /// quotes and escapes kept; a line it cannot split has none).
    static func markers(in line: String) -> [Marker] {
        var lexer = ShellLexer(escape: "\\")
        lexer.rawQuotes = true
        lexer.rawEscapes = true
        lexer.skipUnsetVariables = true
        guard let words = try? lexer.expand(line, lookup: { _ in nil }).words else { return [] }
        return words.compactMap(parse)
    }
}
