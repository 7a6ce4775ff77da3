import ArgumentParser
import Foundation
import OCI
import Support

/// `--format` for `images` and `ps`: the part of docker's Go templates that listings are
/// written with, read the way docker's CLI reads it, and a clear refusal of the rest.
///
/// Taken: text with `{{.Field}}` (any spacing inside the braces), `{{json .}}` (the row as a JSON
/// object), `{{json .Field}}`, `\t` and `\n` as a tab and a newline, a leading `table` (a header
/// row, then columns aligned as docker's tabwriter aligns them: at least 10 wide, 3 spaces of
/// padding), `table` alone (the command's own table), and `json` (one JSON object per line).
/// Anything else in braces (functions, pipes, `range`, `if`) is refused with the fields there
/// are and `--json`.
struct FormatTemplate {
    enum Part: Equatable {
        case text(String)
        case field(String)
        /// `{{json .}}` (nil) or `{{json .Field}}`.
        case json(String?)
    }

    /// A header row first, and columns aligned.
    var table: Bool
    /// The template after `table`; empty for `table` alone (the caller's default columns).
    var parts: [Part]

    /// The fields of a listing in docker's order, each with its table header.
    struct Fields {
        var names: [(name: String, header: String)]
        var command: String

        func header(of name: String) -> String { names.first { $0.name == name }?.header ?? name.uppercased() }
        var list: String { names.map { ".\($0.name)" }.joined(separator: ", ") }
    }

    init(_ text: String, fields: Fields) throws {
        var body = text
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "json" {
            table = false
            parts = [.json(nil)]
            return
        }
        table = trimmed.hasPrefix("table")
        if table { body = String(trimmed.dropFirst(5)) }
        body = body.trimmingCharacters(in: CharacterSet(charactersIn: " "))
            .replacingOccurrences(of: "\\t", with: "\t").replacingOccurrences(of: "\\n", with: "\n")
        parts = try Self.parse(body, fields: fields)
    }

    static func parse(_ text: String, fields: Fields) throws -> [Part] {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw refusal("'\(text)' opens {{ without closing it", fields: fields)
            }
            var action = rest[open.upperBound..<close.lowerBound]
            // Go's trim markers: {{- and -}} drop the spaces beside them.
            if action.hasPrefix("-") { action = action.dropFirst() }
            if action.hasSuffix("-") { action = action.dropLast() }
            let words = action.split(separator: " ", omittingEmptySubsequences: true)
            func field(_ word: Substring) throws -> String {
                let name = String(word.dropFirst())
                guard word.hasPrefix("."), fields.names.contains(where: { $0.name == name }) else {
                    throw refusal("'{{\(action)}}' names no field of \(fields.command)", fields: fields)
                }
                return name
            }
            switch (words.count, words.first) {
            case (1, let word?) where word != ".":
                parts.append(.field(try field(word)))
            case (2, "json"?) where words[1] == ".":
                parts.append(.json(nil))
            case (2, "json"?):
                parts.append(.json(try field(words[1])))
            default:
                throw refusal("'{{\(action)}}' is beyond what --format takes here", fields: fields)
            }
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        return parts
    }

    static func refusal(_ what: String, fields: Fields) -> ValidationError {
        ValidationError("--format: \(what); \(fields.command) --format takes {{.Field}} (\(fields.list)), {{json .}}, {{json .Field}}, "
                        + "'table' before them, or 'json'; for anything else, use --json and a JSON tool such as jq")
    }

    /// One row: the template with the row's values.
    func render(_ values: [String: String], fields: Fields) -> String {
        parts.map { part in
            switch part {
            case let .text(text): return text
            case let .field(name): return values[name] ?? ""
            case let .json(name?): return JSONString.literal(values[name] ?? "")
            case .json(nil): return Self.object(values, fields: fields)
            }
        }.joined()
    }

    /// `{{json .}}`: the row's fields as a JSON object, keys sorted as docker's are.
    static func object(_ values: [String: String], fields: Fields) -> String {
        "{" + fields.names.map(\.name).sorted().map { "\(JSONString.literal($0)):\(JSONString.literal(values[$0] ?? ""))" }.joined(separator: ",") + "}"
    }

    /// The output for `rows`: each rendered, with a header row and aligned columns for `table`.
    func output(_ rows: [[String: String]], fields: Fields) -> String {
        var lines = rows.map { render($0, fields: fields) }
        if table {
            let header = parts.map { part -> String in
                switch part {
                case let .text(text): return text
                case let .field(name), let .json(name?): return fields.header(of: name)
                case .json(nil): return ""
                }
            }.joined()
            lines.insert(header, at: 0)
            return Self.align(lines)
        }
        return lines.joined(separator: "\n")
    }

    /// Go's text/tabwriter with docker's settings (minimum width 10, padding 3, spaces): a cell
    /// is text ended by a tab, and each column is as wide as its widest cell plus the padding.
    static func align(_ lines: [String]) -> String {
        let rows = lines.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false) }
            .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        var widths: [Int] = []
        for row in rows {
            for (i, cell) in row.dropLast().enumerated() {
                if i == widths.count { widths.append(10) }
                widths[i] = max(widths[i], cell.count + 3)
            }
        }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n")
    }
}
