import OCI
import Support
/// A YAML document built in order and written deterministically: mappings keep the order they
/// were built in, strings are left plain only when no YAML 1.1 or 1.2 parser can read them as
/// anything else, and multi-line strings become literal blocks.
///
/// The emitters write YAML through this rather than a general serializer so the text (key
/// order, quoting, comments after pinned action SHAs) is exactly what the golden files hold.
indirect enum YAMLNode: Sendable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case list([YAMLNode])
    case map([(String, YAMLNode)])
    /// A scalar followed by `# comment` on its line.
    case commented(YAMLNode, String)

    /// The document text, with `header` lines as `#` comments first.
    func document(header: [String] = []) -> String {
        var out = ""
        for line in header { out += line.isEmpty ? "#\n" : "# \(line)\n" }
        var lines: [String] = []
        switch self {
        case .map(let pairs): YAMLNode.emitMap(pairs, indent: 0, into: &lines)
        case .list(let items): YAMLNode.emitList(items, indent: 0, into: &lines)
        default: lines.append(scalarText(indent: 0))
        }
        for line in lines { out += line; out += "\n" }
        return out
    }

    private var isScalar: Bool {
        switch self {
        case .string, .int, .bool, .commented: return true
        case .list(let items): return items.isEmpty
        case .map(let pairs): return pairs.isEmpty
        }
    }

    /// Text of a scalar (or empty collection) after `key: ` or `- `. A literal block starts with
    /// `|` and carries its own lines, indented by `indent + 2`.
    private func scalarText(indent: Int) -> String {
        switch self {
        case .string(let s): return YAMLNode.quote(s, indent: indent)
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .commented(let node, let comment): return node.scalarText(indent: indent) + " # " + comment
        case .list: return "[]"
        case .map: return "{}"
        }
    }

    private static func emitMap(_ pairs: [(String, YAMLNode)], indent: Int, into lines: inout [String]) {
        let pad = String(repeating: " ", count: indent)
        for (key, value) in pairs {
            let k = quoteKey(key)
            if value.isScalar {
                lines.append("\(pad)\(k): \(value.scalarText(indent: indent))")
            } else if case .map(let inner) = value {
                lines.append("\(pad)\(k):")
                emitMap(inner, indent: indent + 2, into: &lines)
            } else if case .list(let items) = value {
                lines.append("\(pad)\(k):")
                emitList(items, indent: indent + 2, into: &lines)
            }
        }
    }

    private static func emitList(_ items: [YAMLNode], indent: Int, into lines: inout [String]) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            if item.isScalar {
                lines.append("\(pad)- \(item.scalarText(indent: indent))")
                continue
            }
            // Render the item two columns in, then put the dash in the first line's indentation.
            var inner: [String] = []
            switch item {
            case .map(let pairs): emitMap(pairs, indent: indent + 2, into: &inner)
            case .list(let nested): emitList(nested, indent: indent + 2, into: &inner)
            default: break
            }
            inner[0] = pad + "- " + inner[0].dropFirst(indent + 2)
            lines.append(contentsOf: inner)
        }
    }

    private static let reserved: Set<String> = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "",
    ]

    /// Bytes allowed in a plain scalar: letters, digits and ` _./-@$=+:,()`.
    private static let plainBytes: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for b in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(b)] = true }
        for b in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(b)] = true }
        for b in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(b)] = true }
        for b in " _./-@$=+:,()".utf8 { table[Int(b)] = true }
        return table
    }()

    private static func isPlainSafe(_ s: String, asKey: Bool) -> Bool {
        let utf8 = s.utf8
        guard let first = utf8.first, let last = utf8.last else { return false }
        let isLetter = (first >= UInt8(ascii: "a") && first <= UInt8(ascii: "z")) || (first >= UInt8(ascii: "A") && first <= UInt8(ascii: "Z"))
        guard isLetter || first == UInt8(ascii: "_") || first == UInt8(ascii: "/") || first == UInt8(ascii: "$") else { return false }
        guard last != UInt8(ascii: " ") && last != UInt8(ascii: ":") else { return false }
        var previous: UInt8 = 0
        for b in utf8 {
            guard plainBytes[Int(b)] else { return false }
            // ": " starts a mapping value and " #" a comment.
            if (previous == UInt8(ascii: ":") && b == UInt8(ascii: " ")) || (previous == UInt8(ascii: " ") && b == UInt8(ascii: "#")) { return false }
            previous = b
        }
        if !asKey && utf8.count <= 5 && reserved.contains(s.lowercased()) { return false }
        return true
    }

    private static func quoteKey(_ key: String) -> String {
        isPlainSafe(key, asKey: true) ? key : doubleQuoted(key)
    }

    private static func quote(_ s: String, indent: Int) -> String {
        if isPlainSafe(s, asKey: false) { return s }
        if s.contains("\n"), let block = literalBlock(s, indent: indent) { return block }
        return doubleQuoted(s)
    }

    /// `|` or `|-` with the lines indented, when the text survives a literal block unchanged.
    private static func literalBlock(_ s: String, indent: Int) -> String? {
        var body = s
        var indicator = "|-"
        if body.hasSuffix("\n") {
            body.removeLast()
            indicator = "|"
            if body.hasSuffix("\n") { return nil }
        }
        if body.hasPrefix(" ") || body.hasPrefix("\n") { return nil }
        if body.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || $0.value == 0x7F || $0 == "\u{FEFF}" }) {
            return nil
        }
        let pad = String(repeating: " ", count: indent + 2)
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : pad + $0 }
        return indicator + "\n" + lines.joined(separator: "\n")
    }

    private static func doubleQuoted(_ s: String) -> String { JSONString.literal(s) }
}
