import Foundation

/// Text from elsewhere made fit for a one-line error message: a dependency's error description
/// (which may name the source file it was raised in on the build machine), or what a server
/// sent (which may hold newlines or terminal escapes).
public enum DiagnosticText {
    /// `text` on one line, without source-file locations: BoringSSL's
    /// `... at /…/.build/checkouts/…/tls_record.cc:231` and any other `/path/file.swift:LINE`
    /// are dropped, so a user never sees the build machine's paths.
    public static func withoutSourcePaths(_ text: String) -> String {
        var words: [String] = []
        for word in oneLine(text).split(separator: " ") {
            guard isSourceLocation(word) else {
                words.append(String(word))
                continue
            }
            // "... WRONG_VERSION_NUMBER at /path/x.cc:231": the "at" goes with the path.
            if words.last == "at" { words.removeLast() }
            // Keep the closing brackets that followed the path, so what remains still balances.
            let closers = String(word.reversed().prefix { ")]}".contains($0) }.reversed())
            if !closers.isEmpty {
                if words.isEmpty { words.append(closers) } else { words[words.count - 1] += closers }
            }
        }
        return words.joined(separator: " ")
    }

    /// The reason codes in a BoringSSL error description (`…:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED
    /// at …`), which say more to a user than the rest of it; empty when there are none.
    public static func tlsReasons(in text: String) -> [String] {
        var reasons: [String] = []
        var rest = Substring(text)
        while let range = rest.range(of: "OPENSSL_internal:") {
            let code = rest[range.upperBound...].prefix { $0.isUppercase || $0.isNumber || $0 == "_" }
            if !code.isEmpty && !reasons.contains(String(code)) { reasons.append(String(code)) }
            rest = rest[range.upperBound...]
        }
        return reasons
    }

    /// What a server sent, for an error message: control characters (newlines, escapes) become
    /// spaces, invisible format characters (bidi overrides) go, runs of spaces become one, and
    /// at most `limit` characters are kept ("…" marks a cut).
    public static func printable(_ text: String, limit: Int = 200) -> String {
        let line = oneLine(text)
        guard line.count > limit else { return line }
        return String(line.prefix(limit)) + "…"
    }

    /// Control characters as spaces, terminal escape sequences (`ESC [ … m`) and format
    /// characters dropped, runs of spaces as one, trimmed.
    static func oneLine(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        var inEscape = false
        for scalar in text.unicodeScalars {
            if inEscape {
                // A CSI sequence ends with a byte in @…~; its parameters are digits and ;?.
                if scalar != "[", (0x40...0x7e).contains(scalar.value) { inEscape = false }
                else if !(0x20...0x3f).contains(scalar.value) && scalar != "[" { inEscape = false }
                continue
            }
            if scalar == "\u{1b}" {
                inEscape = true
                continue
            }
            switch scalar.properties.generalCategory {
            case .format:
                continue
            case .control, .lineSeparator, .paragraphSeparator, .spaceSeparator:
                pendingSpace = !out.isEmpty
            default:
                if pendingSpace { out.append(" "); pendingSpace = false }
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// `/a/b/c.swift:12`, `/x/.build/…`, `/x/checkouts/…`, possibly inside brackets or quotes.
    static func isSourceLocation(_ word: Substring) -> Bool {
        let bare = word.trimmingCharacters(in: CharacterSet(charactersIn: "[](){}\"',;"))
        guard bare.hasPrefix("/") || bare.contains("/.build/") else { return false }
        if bare.contains("/.build/") || bare.contains("/checkouts/") { return true }
        var name = Substring(bare)
        if let colon = name.lastIndex(of: ":"), name[name.index(after: colon)...].allSatisfy(\.isNumber) {
            name = name[..<colon]
        }
        guard let dot = name.lastIndex(of: ".") else { return false }
        let ext = name[name.index(after: dot)...].lowercased()
        return ["swift", "c", "cc", "cpp", "h", "hpp", "m", "mm", "s", "inc"].contains(ext)
    }
}
