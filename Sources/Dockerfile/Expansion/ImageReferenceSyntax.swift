/// Whether text is an image reference Docker would accept (`alpine`, `golang:1.22`,
/// `registry:5000/team/app@sha256:...`), following the distribution reference grammar: lowercase
/// path components joined by `.`, `_`, `__` or dashes; an optional registry host with a port;
/// a tag of up to 128 word characters; a digest.
enum ImageReferenceSyntax {
    static func isValid(_ text: String) -> Bool {
        guard !text.isEmpty, text.unicodeScalars.allSatisfy(\.isASCII) else { return false }
        var rest = Substring(text)
        if let at = rest.firstIndex(of: "@") {
            guard isDigest(rest[rest.index(after: at)...]) else { return false }
            rest = rest[..<at]
        }
        let lastSlash = rest.lastIndex(of: "/")
        let tagSearchStart = lastSlash.map { rest.index(after: $0) } ?? rest.startIndex
        if let colon = rest[tagSearchStart...].firstIndex(of: ":") {
            guard isTag(rest[rest.index(after: colon)...]) else { return false }
            rest = rest[..<colon]
        }
        guard !rest.isEmpty, rest.count <= 255 else { return false }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false)
        if components.count > 1, let first = components.first,
           first.contains(".") || first.contains(":") || first == "localhost" || first.lowercased() != first {
            guard isDomain(first) else { return false }
            components.removeFirst()
        }
        if components.count == 1, components[0].count == 64, components[0].allSatisfy(\.isHexDigit) { return false }
        return components.allSatisfy(isPathComponent)
    }

    private static func isAlphanumeric(_ character: Character) -> Bool {
        character.isASCII && (("a"..."z").contains(character) || ("0"..."9").contains(character))
    }

    /// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
    private static func isPathComponent(_ text: Substring) -> Bool {
        let characters = Array(text)
        guard let first = characters.first, let last = characters.last, isAlphanumeric(first), isAlphanumeric(last) else { return false }
        var index = 0
        while index < characters.count {
            if isAlphanumeric(characters[index]) {
                index += 1
                continue
            }
            var end = index
            while end < characters.count, !isAlphanumeric(characters[end]) { end += 1 }
            let separator = String(characters[index..<end])
            guard separator == "." || separator == "_" || separator == "__" || separator.allSatisfy({ $0 == "-" }) else { return false }
            index = end
        }
        return true
    }

    private static func isDomain(_ text: Substring) -> Bool {
        var host = text
        if let colon = text.lastIndex(of: ":"), !text.hasPrefix("[") || text[..<colon].hasSuffix("]") {
            let port = text[text.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
            host = text[..<colon]
        }
        if host.hasPrefix("["), host.hasSuffix("]") {
            return host.count > 2 && host.dropFirst().dropLast().allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        }
        return !host.isEmpty && host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            guard let first = label.first, let last = label.last else { return false }
            let ok: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber) }
            return ok(first) && ok(last) && label.allSatisfy { ok($0) || $0 == "-" }
        }
    }

    /// `[\w][\w.-]{0,127}`.
    private static func isTag(_ text: Substring) -> Bool {
        let word: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        guard let first = text.first, word(first), text.count <= 128 else { return false }
        return text.allSatisfy { word($0) || $0 == "." || $0 == "-" }
    }

    /// `algorithm:hex` with a hex part of at least 32 characters.
    private static func isDigest(_ text: Substring) -> Bool {
        guard let colon = text.firstIndex(of: ":") else { return false }
        let algorithm = text[..<colon]
        let encoded = text[text.index(after: colon)...]
        guard let first = algorithm.first, isAlphanumeric(first),
              algorithm.allSatisfy({ isAlphanumeric($0) || "+._-".contains($0) }) else { return false }
        return encoded.count >= 32 && encoded.allSatisfy(\.isHexDigit)
    }
}
