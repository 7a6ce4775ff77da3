/// Reads parser directives (`# syntax=...`, `# escape=...`, `# check=...`) from the top of a
/// Dockerfile, as BuildKit does: only until the first line that is not one (a blank line, a
/// comment, an unknown directive or an instruction); keys in any case; each at most once.
struct DirectiveParser {
    private(set) var done = false
    private var seen: Set<String> = []

    static let known: Set<String> = ["syntax", "escape", "check"]

    /// The directive on `line` (already without its newline), or `nil`, after which no line is one.
    mutating func parse(_ line: ArraySlice<Unicode.Scalar>, at location: DockerfileLocation) throws(DockerfileError) -> (name: String, value: String)? {
        guard !done else { return nil }
        guard line.first == "#" else {
            done = true
            return nil
        }
        var index = line.index(after: line.startIndex)
        while index < line.endIndex, Whitespace.isGoSpace(line[index]) { index += 1 }
        let nameStart = index
        guard index < line.endIndex, line[index].isASCII, line[index].properties.isAlphabetic else {
            done = true
            return nil
        }
        while index < line.endIndex, line[index].isASCII, line[index].properties.isAlphabetic || ("0"..."9").contains(line[index]) {
            index += 1
        }
        let name = String(String.UnicodeScalarView(line[nameStart..<index])).lowercased()
        while index < line.endIndex, Whitespace.isRegexpSpace(line[index]) { index += 1 }
        guard index < line.endIndex, line[index] == "=" else {
            done = true
            return nil
        }
        let after = line[line.index(after: index)...]
        guard let value = Self.value(after), Self.known.contains(name) else {
            done = true
            return nil
        }
        guard seen.insert(name).inserted else {
            throw .invalidDirective(name: name, reason: "it may appear only once; remove the second one", at: location)
        }
        return (name, value)
    }

    /// The value as BuildKit's `\s*(.+?)\s*$` takes it: trimmed, at least one character.
    private static func value(_ text: ArraySlice<Unicode.Scalar>) -> String? {
        guard let last = text.last else { return nil }
        var lower = text.startIndex
        var upper = text.endIndex
        while lower < upper, Whitespace.isRegexpSpace(text[lower]) { lower += 1 }
        while upper > lower, Whitespace.isRegexpSpace(text[upper - 1]) { upper -= 1 }
        guard lower < upper else { return String(last) }
        return String(String.UnicodeScalarView(text[lower..<upper]))
    }
}
