import Foundation
import Stack
import OCI
import Support

/// The two text forms of a template. Both sort object keys by their UTF-8 bytes and indent by
/// two spaces, so equal values give equal bytes on every platform.
enum TemplateRendering {
    static func json(_ value: TemplateValue) -> String {
        var out = ""
        writeJSON(value, indent: 0, into: &out)
        out += "\n"
        return out
    }

    private static func sortedKeys(_ object: [String: TemplateValue]) -> [String] {
        object.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    private static func writeJSON(_ value: TemplateValue, indent: Int, into out: inout String) {
        switch value {
        case .string(let s): out += quoted(s)
        case .int(let i): out += String(i)
        case .bool(let b): out += b ? "true" : "false"
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[\n"
            for (n, item) in items.enumerated() {
                out += String(repeating: " ", count: indent + 2)
                writeJSON(item, indent: indent + 2, into: &out)
                out += n == items.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: " ", count: indent) + "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{\n"
            let keys = sortedKeys(members)
            for (n, key) in keys.enumerated() {
                out += String(repeating: " ", count: indent + 2) + quoted(key) + ": "
                writeJSON(members[key]!, indent: indent + 2, into: &out)
                out += n == keys.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: " ", count: indent) + "}"
        }
    }

    /// A JSON string literal; also a valid YAML double-quoted scalar. Slashes stay unescaped,
    /// non-ASCII stays as UTF-8, control characters become `\uXXXX` (or their short escapes).
    static func quoted(_ s: String) -> String {
        JSONString.literal(s)
    }

    // MARK: YAML

    static func yaml(_ value: TemplateValue) -> String {
        var out = ""
        switch value {
        case .object(let members) where !members.isEmpty:
            writeYAMLMembers(members, indent: 0, into: &out)
        case .array(let items) where !items.isEmpty:
            writeYAMLItems(items, indent: 0, into: &out)
        default:
            out += yamlScalar(value) + "\n"
        }
        return out
    }

    private static func yamlKey(_ key: String) -> String {
        // Plain keys only for the safe alphabet (and no leading digit-only forms YAML might retype).
        let safe = !key.isEmpty && key.utf8.allSatisfy { c in
            (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95
        } && !(key.first!.isNumber) && !["true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"].contains(key.lowercased())
        return safe ? key : quoted(key)
    }

    private static func yamlScalar(_ value: TemplateValue) -> String {
        switch value {
        case .string(let s): quoted(s)
        case .int(let i): String(i)
        case .bool(let b): b ? "true" : "false"
        case .array: "[]"
        case .object: "{}"
        }
    }

    private static func isNonEmptyCollection(_ value: TemplateValue) -> Bool {
        switch value {
        case .array(let a): !a.isEmpty
        case .object(let o): !o.isEmpty
        default: false
        }
    }

    private static func writeYAMLMembers(_ members: [String: TemplateValue], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for key in sortedKeys(members) {
            let member = members[key]!
            if isNonEmptyCollection(member) {
                out += pad + yamlKey(key) + ":\n"
                if case .object(let o) = member {
                    writeYAMLMembers(o, indent: indent + 2, into: &out)
                } else if case .array(let a) = member {
                    writeYAMLItems(a, indent: indent + 2, into: &out)
                }
            } else {
                out += pad + yamlKey(key) + ": " + yamlScalar(member) + "\n"
            }
        }
    }

    private static func writeYAMLItems(_ items: [TemplateValue], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            switch item {
            case .object(let o) where !o.isEmpty:
                // "- " then the first member on the same line, the rest aligned under it.
                var nested = ""
                writeYAMLMembers(o, indent: indent + 2, into: &nested)
                out += pad + "- " + nested.dropFirst(indent + 2)
            case .array(let a) where !a.isEmpty:
                out += pad + "-\n"
                writeYAMLItems(a, indent: indent + 2, into: &out)
            default:
                out += pad + "- " + yamlScalar(item) + "\n"
            }
        }
    }
}
