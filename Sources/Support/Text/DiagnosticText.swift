import Foundation

/// Text from elsewhere made fit for a one-line error message: what a server sent (which may
/// hold newlines or terminal escapes). A dependency's error description (which may name the
/// source file it was raised in) is HTTPCore's `FailureText`.
public enum DiagnosticText {
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
}
