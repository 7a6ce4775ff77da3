/// Escaping for the text formats the library writes.
public enum Escaping {
    /// Text for HTML element content and attribute values (quotes included).
    public static func html(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab/newline are dropped: they are invalid in XML
                // and HTML and only arrive from raw logs.
                if c.value < 0x20 && c != "\n" && c != "\t" && c != "\r" { out += "\u{FFFD}" }
                else if c.value == 0xFFFE || c.value == 0xFFFF { out += "\u{FFFD}" }
                else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }

    /// Text for XML content and attributes: the HTML rules (which produce valid XML 1.0 too).
    public static func xml(_ s: String) -> String { html(s) }

    /// A double-quoted DOT string.
    public static func dot(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    /// A Mermaid node label (inside `["..."]`): quotes and angle brackets as entity codes.
    public static func mermaid(_ s: String) -> String {
        s.replacingOccurrences(of: "\"", with: "#quot;").replacingOccurrences(of: "<", with: "#lt;")
            .replacingOccurrences(of: ">", with: "#gt;").replacingOccurrences(of: "\n", with: " ")
    }

    /// A JSON string literal safe inside an HTML `<script>` element (no `</`, no U+2028/9).
    public static func jsonInScript(_ s: String) -> String {
        JSONString.literal(s, alsoEscaping: ["<", ">", "&"])
    }

    /// One POSIX-shell word: left bare when it holds only safe characters (unless `always`),
    /// else single-quoted.
    public static func shell(_ s: String, always: Bool = false) -> String {
        if !always && !s.isEmpty && s.utf8.allSatisfy({ shellSafe[Int($0)] }) {
            return s
        }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    private static let shellSafe: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for b in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-".utf8 { table[Int(b)] = true }
        return table
    }()

    /// A command line from argv, each word quoted for the shell when needed.
    public static func commandLine(_ argv: [String]) -> String { argv.map { shell($0) }.joined(separator: " ") }
}
