/// The glob patterns of `${v#p}`, `${v%p}` and `${v/p/r}`: `?` is one character, `*` any run of
/// characters, `\*`, `\?` and `\\` are literal. Like the regular expressions BuildKit turns them
/// into, neither wildcard matches a newline.
struct ShellPattern {
    enum Token: Equatable {
        case literal(Unicode.Scalar)
        case one
        case many
    }

    let tokens: [Token]

    init(_ pattern: String) throws(ShellLexer.Failure) {
        var tokens: [Token] = []
        let scalars = Array(pattern.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            switch scalar {
            case "*": tokens.append(.many)
            case "?": tokens.append(.one)
            case "\\":
                // `\}` and `\/` protect the ${} syntax; the backslash is not part of the pattern.
                if index < scalars.count, scalars[index] == "}" || scalars[index] == "/" { continue }
                guard index < scalars.count, "*?\\".unicodeScalars.contains(scalars[index]) else {
                    let shown = index < scalars.count ? String(scalars[index]) : ""
                    throw .init(reason: "invalid pattern (\(pattern)) in substitution: invalid escape '\\\(shown)'")
                }
                tokens.append(.literal(scalars[index]))
                index += 1
            default: tokens.append(.literal(scalar))
            }
        }
        self.tokens = tokens
    }

    private init(tokens: [Token]) {
        self.tokens = tokens
    }

    /// The ends of the matches starting at `start` in `subject`, ascending.
    func matchEnds(in subject: [Unicode.Scalar], from start: Int) -> [Int] {
        var reachable = [Bool](repeating: false, count: subject.count + 1)
        reachable[start] = true
        for token in tokens {
            var next = [Bool](repeating: false, count: subject.count + 1)
            var any = false
            switch token {
            case let .literal(scalar):
                for position in start..<subject.count where reachable[position] && subject[position] == scalar {
                    next[position + 1] = true
                    any = true
                }
            case .one:
                for position in start..<subject.count where reachable[position] && subject[position] != "\n" {
                    next[position + 1] = true
                    any = true
                }
            case .many:
                var open = false
                for position in start...subject.count {
                    if reachable[position] { open = true }
                    if open {
                        next[position] = true
                        any = true
                    }
                    if position < subject.count, subject[position] == "\n" { open = false }
                }
            }
            guard any else { return [] }
            reachable = next
        }
        return (start...subject.count).filter { reachable[$0] }
    }

    /// `${v#p}` (shortest) and `${v##p}` (longest): `subject` without the matching prefix.
    func trimmingPrefix(of subject: String, greedy: Bool) -> String {
        let scalars = Array(subject.unicodeScalars)
        let ends = matchEnds(in: scalars, from: 0)
        guard let end = greedy ? ends.last : ends.first else { return subject }
        return String(String.UnicodeScalarView(scalars[end...]))
    }

    /// `${v%p}` (shortest) and `${v%%p}` (longest): `subject` without the matching suffix, found
    /// by matching the reversed pattern against the reversed subject, as BuildKit does.
    func trimmingSuffix(of subject: String, greedy: Bool) -> String {
        let reversed = ShellPattern(tokens: tokens.reversed())
        let scalars = Array(subject.unicodeScalars.reversed())
        let ends = reversed.matchEnds(in: scalars, from: 0)
        guard let end = greedy ? ends.last : ends.first else { return subject }
        return String(String.UnicodeScalarView(scalars[end...].reversed()))
    }

    /// `${v/p/r}` (the first, longest match at the leftmost place) or `${v//p/r}` (every one).
    ///
    /// Replacing every match follows Go's `ReplaceAllString`: an empty match right after a
    /// match is skipped, and `$$`, `$0`, `${0}` in the replacement are the template forms it
    /// knows (`$$` is a dollar, `$0` the match, other references nothing).
    func replacing(in subject: String, with replacement: String, all: Bool) -> String {
        let scalars = Array(subject.unicodeScalars)
        if !all {
            for start in 0...scalars.count {
                if let end = matchEnds(in: scalars, from: start).last {
                    var result = String.UnicodeScalarView(scalars[..<start])
                    result.append(contentsOf: replacement.unicodeScalars)
                    result.append(contentsOf: scalars[end...])
                    return String(result)
                }
            }
            return subject
        }
        var result = String.UnicodeScalarView()
        var lastMatchEnd = 0
        var searchPosition = 0
        while searchPosition <= scalars.count {
            var found: (Int, Int)?
            for start in searchPosition...scalars.count {
                if let end = matchEnds(in: scalars, from: start).last {
                    found = (start, end)
                    break
                }
            }
            guard let (start, end) = found else { break }
            result.append(contentsOf: scalars[lastMatchEnd..<start])
            if end > lastMatchEnd || start == 0 {
                result.append(contentsOf: Self.template(replacement, match: scalars[start..<end]).unicodeScalars)
            }
            lastMatchEnd = end
            searchPosition = searchPosition + 1 > end ? searchPosition + 1 : end
        }
        if lastMatchEnd < scalars.count { result.append(contentsOf: scalars[lastMatchEnd...]) }
        return String(result)
    }

    /// Go's `Regexp.Expand` for a pattern without groups.
    static func template(_ template: String, match: ArraySlice<Unicode.Scalar>) -> String {
        let scalars = Array(template.unicodeScalars)
        var result = String.UnicodeScalarView()
        var index = 0
        func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "_" || (scalar.isASCII && (scalar.properties.isAlphabetic || scalar.properties.numericType != nil))
        }
        while index < scalars.count {
            let scalar = scalars[index]
            guard scalar == "$", index + 1 < scalars.count else {
                result.append(scalar)
                index += 1
                continue
            }
            if scalars[index + 1] == "$" {
                result.append("$")
                index += 2
                continue
            }
            var name: [Unicode.Scalar] = []
            var end = index + 1
            if scalars[end] == "{" {
                end += 1
                while end < scalars.count, isNameScalar(scalars[end]) { name.append(scalars[end]); end += 1 }
                guard !name.isEmpty, end < scalars.count, scalars[end] == "}" else {
                    result.append("$")
                    index += 1
                    continue
                }
                end += 1
            } else {
                while end < scalars.count, isNameScalar(scalars[end]) { name.append(scalars[end]); end += 1 }
                guard !name.isEmpty else {
                    result.append("$")
                    index += 1
                    continue
                }
            }
            if name == ["0"] { result.append(contentsOf: match) }
            index = end
        }
        return String(result)
    }
}
