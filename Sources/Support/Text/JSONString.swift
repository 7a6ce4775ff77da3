/// JSON string literals, written the one way every generated file uses: also a valid YAML
/// double-quoted scalar, slashes and non-ASCII text as they are.
public enum JSONString {
    /// `s` as a quoted literal. Quotes, backslashes and control characters are escaped (the
    /// short forms where JSON has them, else `\uXXXX`), and so are the characters YAML treats
    /// as line breaks or non-printable (U+007F, U+0085, U+2028, U+2029, U+FEFF), so the same
    /// text reads back in both. `alsoEscaping` adds more as `\uXXXX`, e.g. `<`, `>` and `&`
    /// for JSON inside an HTML `<script>` element.
    public static func literal(_ s: String, alsoEscaping extra: Set<Unicode.Scalar> = []) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                let v = scalar.value
                if v < 0x20 || v == 0x7F || v == 0x85 || v == 0x2028 || v == 0x2029 || v == 0xFEFF || (!extra.isEmpty && extra.contains(scalar)) {
                    let hex = String(v, radix: 16)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
