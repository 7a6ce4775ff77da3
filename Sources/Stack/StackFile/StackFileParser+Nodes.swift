import Foundation
import OCI
import Yams
import Support

/// Reading Yams nodes: entries of a mapping (checked keys, merge keys), typed values, locations.
extension StackFileParser {
    /// A key and its value in a mapping, with the key as the user wrote it.
    struct Entry {
        let key: String
        let keyNode: Node
        let value: Node
    }

    /// The entries of `mapping` in file order, after checking keys: they must be strings, appear
    /// once, and (when `allowed` is given) be known. `<<` merge keys are expanded; explicit keys
    /// win over merged ones. With `allowsExtensions`, keys starting with `x-` are let through
    /// (a place for YAML anchors), for the caller to ignore. With `prefixes`, an unknown key
    /// that shortens or lengthens a known one is suggested too (`github_repo`), for sections
    /// whose keys are long. With `unknown`, an unknown key is handed to it and left out instead
    /// of thrown, so that a reader can report every problem at once.
    func entries(of mapping: Node.Mapping, context: String, allowed: [String]?,
                 allowsExtensions: Bool = false, prefixes: Bool = false,
                 unknown: ((StackFileError) -> Void)? = nil) throws -> [Entry] {
        var result: [Entry] = []
        var merged: [Entry] = []
        var seen: [String: SourceLocation] = [:]
        for (keyNode, value) in mapping {
            guard case let .scalar(scalar) = keyNode else {
                throw StackFileError(location: location(keyNode), message: "keys \(context) must be strings, found \(describe(keyNode))",
                                     hint: "write a plain key followed by ':'")
            }
            if tagName(keyNode) == .merge {
                merged += try mergeEntries(value, context: context, allowed: allowed, allowsExtensions: allowsExtensions,
                                           prefixes: prefixes, unknown: unknown)
                continue
            }
            let key = scalar.string
            if let first = seen[key] {
                throw StackFileError(location: location(keyNode), message: "duplicate key '\(key)' \(context)",
                                     hint: "it is already set at \(first); remove one of them")
            }
            seen[key] = location(keyNode)
            if let allowed, !allowed.contains(key), !(allowsExtensions && key.hasPrefix("x-")) {
                let close = prefixes ? Suggestions.closest(to: key, in: allowed, maxDistance: max(2, key.count / 3), prefixes: true)
                    : Suggestions.closest(to: key, in: allowed)
                let hint = close.map { "did you mean '\($0)'?" }
                    ?? "valid keys are \(Suggestions.list(allowed))"
                let error = StackFileError(location: location(keyNode), message: "unknown key '\(key)' \(context)", hint: hint)
                guard let unknown else { throw error }
                unknown(error)
                continue
            }
            result.append(Entry(key: key, keyNode: keyNode, value: value))
        }
        for entry in merged where seen[entry.key] == nil {
            seen[entry.key] = location(entry.keyNode)
            result.append(entry)
        }
        return result
    }

    func mergeEntries(_ value: Node, context: String, allowed: [String]?, allowsExtensions: Bool,
                      prefixes: Bool, unknown: ((StackFileError) -> Void)? = nil) throws -> [Entry] {
        switch value {
        case let .mapping(mapping):
            return try entries(of: mapping, context: context, allowed: allowed, allowsExtensions: allowsExtensions, prefixes: prefixes,
                               unknown: unknown)
        case let .sequence(sequence):
            if let bad = sequence.first(where: { $0.mapping == nil }) {
                throw StackFileError(location: location(bad), message: "`<<` merges mappings, found \(describe(bad))",
                                     hint: "merge anchored mappings, such as `<<: [*defaults, *more]`")
            }
            var result: [Entry] = []
            for case let .mapping(mapping) in sequence {
                for entry in try entries(of: mapping, context: context, allowed: allowed, allowsExtensions: allowsExtensions, prefixes: prefixes,
                                         unknown: unknown)
                where !result.contains(where: { $0.key == entry.key }) {
                    result.append(entry)
                }
            }
            return result
        default:
            throw StackFileError(location: location(value), message: "`<<` merges mappings, found \(describe(value))",
                                 hint: "merge an anchored mapping, such as `<<: *defaults`")
        }
    }

    /// The value of `entry` as a string; it must be a scalar and not null.
    func scalar(_ entry: Entry, what: String, expected: String) throws -> String {
        guard case let .scalar(scalar) = entry.value, !isNull(entry.value) else {
            throw typeError(entry, what: what, expected: expected)
        }
        return scalar.string
    }

    /// A list item as a string; it must be a scalar and not null.
    func itemString(_ node: Node, what: String, expected: String) throws -> String {
        guard case let .scalar(scalar) = node, !isNull(node) else {
            throw StackFileError(location: location(node), message: "each entry in `\(what)` must be \(expected), found \(describe(node))",
                                 hint: describe(node) == "nothing" ? "remove the empty entry" : "write it as a plain or quoted string")
        }
        return scalar.string
    }

    func bool(_ entry: Entry, what: String) throws -> Bool {
        guard tagName(entry.value) == .bool, let value = entry.value.bool else {
            throw typeError(entry, what: what, expected: "true or false")
        }
        return value
    }

    /// The items of a list value; a scalar gets `scalarHint` (given the scalar's text).
    func sequence(_ entry: Entry, what: String, expected: String,
                          scalarHint: (String) -> String) throws -> [Node] {
        switch entry.value {
        case let .sequence(sequence):
            return Array(sequence)
        case let .scalar(scalar) where !isNull(entry.value):
            throw typeError(entry, what: what, expected: expected, hint: scalarHint(scalar.string))
        default:
            throw typeError(entry, what: what, expected: expected)
        }
    }

    /// A mapping of strings to strings (labels, annotations); scalar values are taken as written,
    /// empty values are empty strings.
    func stringMapping(_ entry: Entry, what: String) throws -> [String: String] {
        guard case let .mapping(mapping) = entry.value else {
            throw typeError(entry, what: what, expected: "a mapping of names to strings",
                            hint: "write `\(what): {name: value}`")
        }
        var result: [String: String] = [:]
        for item in try entries(of: mapping, context: "in \(what)", allowed: nil) {
            guard !item.key.isEmpty else {
                throw StackFileError(location: location(item.keyNode), message: "empty name in `\(what)`", hint: "give it a name")
            }
            guard case let .scalar(scalar) = item.value else {
                throw typeError(item, what: item.key, expected: "a string", subject: String(what.dropLast()),
                                hint: "quote the value")
            }
            result[item.key] = isNull(item.value) ? "" : scalar.string
        }
        return result
    }

    func typeError(_ entry: Entry, what: String, expected: String, subject: String? = nil,
                           hint: String? = nil) -> StackFileError {
        let name = subject.map { "\($0) '\(what)'" } ?? "`\(what)`"
        return StackFileError(location: valueLocation(entry), message: "\(name) must be \(expected), found \(describe(entry.value))",
                              hint: hint)
    }

    /// The node's resolved tag (`!!str`, `!!int`, `!!null`, …).
    func tagName(_ node: Node) -> Tag.Name {
        Tag.Name(rawValue: node.tag.rawValue)
    }

    func isNull(_ node: Node) -> Bool {
        if case .scalar = node { return tagName(node) == .null }
        return false
    }

    /// "a string", "a list", … for messages.
    func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar:
            switch tagName(node) {
            case .null: return "nothing"
            case .bool: return "a boolean"
            case .int, .float: return "a number"
            default: return "a string"
            }
        }
    }

    // MARK: - Locations

    func location(line: Int, column: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column)
    }

    func location(_ node: Node) -> SourceLocation {
        guard let mark = node.mark else { return location(line: 1, column: 1) }
        return location(line: mark.line, column: mark.column)
    }

    /// The value's location, or the key's when the value is empty (an empty value's mark points
    /// past the end of the line, which is less helpful).
    func valueLocation(_ entry: Entry) -> SourceLocation {
        if case let .scalar(scalar) = entry.value, scalar.string.isEmpty, isNull(entry.value) {
            return location(entry.keyNode)
        }
        return location(entry.value)
    }

    /// The reason in an OCI error (without its "invalid image reference 'x':" prefix).
    static func reason(_ error: any Error) -> String {
        if case let OCIError.invalidReference(_, reason) = error { return reason }
        return "\(error)"
    }
}
