import Foundation
import OCI
import Support

/// A JSON value that keeps what a rewrite of someone else's file must keep: object members in
/// their order and numbers as their original text. Foundation's JSONSerialization loses the
/// order, accepts trailing commas that docker rejects, and reports few positions; config.json
/// is small, so a strict little parser here costs nothing and gives line and column.
enum ConfigJSON: Equatable, Sendable {
    case object([Member])
    case array([ConfigJSON])
    case string(String)
    /// The number's literal text, re-emitted as read.
    case number(String)
    case bool(Bool)
    case null

    /// One `"key": value` pair of an object.
    struct Member: Equatable, Sendable {
        var key: String
        var value: ConfigJSON
    }

    /// A parse failure: what is wrong and where (1-based line and column, in characters).
    struct ParseError: Error, Equatable {
        var reason: String
        var line: Int
        var column: Int
        var description: String { "\(reason) at line \(line), column \(column)" }
    }

    /// The JSON type's name, for messages ("a string", "an object").
    var kind: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }

    /// The members when this is an object.
    var members: [Member]? {
        if case let .object(m) = self { return m }
        return nil
    }

    /// The text when this is a string.
    var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    /// Parses UTF-8 `bytes` holding exactly one JSON value (surrounding whitespace allowed).
    static func parse(_ bytes: [UInt8]) throws(ParseError) -> ConfigJSON {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.index < bytes.count {
            throw parser.error("unexpected \(parser.describeCurrent()) after the end of the JSON value")
        }
        return value
    }

    /// The value as text: tab-indented as docker writes config.json, or on one line.
    func serialized(pretty: Bool) -> String {
        var out = ""
        write(to: &out, indent: pretty ? 0 : nil)
        if pretty { out += "\n" }
        return out
    }

    private func write(to out: inout String, indent: Int?) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .number(text): out += text
        case let .string(s): Self.writeString(s, to: &out)
        case let .array(items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                if let indent { out += "\n" + String(repeating: "\t", count: indent + 1) }
                item.write(to: &out, indent: indent.map { $0 + 1 })
            }
            if let indent { out += "\n" + String(repeating: "\t", count: indent) }
            out += "]"
        case let .object(members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            for (i, member) in members.enumerated() {
                if i > 0 { out += "," }
                if let indent { out += "\n" + String(repeating: "\t", count: indent + 1) }
                Self.writeString(member.key, to: &out)
                out += indent == nil ? ":" : ": "
                member.value.write(to: &out, indent: indent.map { $0 + 1 })
            }
            if let indent { out += "\n" + String(repeating: "\t", count: indent) }
            out += "}"
        }
    }

    /// Writes `s` as a JSON string literal: quotes, backslashes and control characters escaped,
    /// everything else (slashes, non-ASCII) as is.
    static func writeString(_ s: String, to out: inout String) {
        out += JSONString.literal(s)
    }

    /// The JSON string literal for `s` (used to redact secrets as a helper might echo them).
    static func quoted(_ s: String) -> String {
        var out = ""
        writeString(s, to: &out)
        return out
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0
        /// Deeper nesting than this is refused rather than risking the stack.
        static let maxDepth = 256

        init(bytes: [UInt8]) { self.bytes = bytes }

        func error(_ reason: String, at position: Int? = nil) -> ParseError {
            let end = min(position ?? index, bytes.count)
            var line = 1, column = 1
            var i = 0
            while i < end {
                let b = bytes[i]
                if b == UInt8(ascii: "\n") {
                    line += 1; column = 1
                } else if b & 0xC0 != 0x80 {
                    column += 1 // count characters, not UTF-8 continuation bytes
                }
                i += 1
            }
            return ParseError(reason: reason, line: line, column: column)
        }

        /// The current byte for a message; only printable ASCII is shown, and never any part
        /// of a string's content (which could be a secret).
        func describeCurrent() -> String {
            guard index < bytes.count else { return "end of file" }
            let b = bytes[index]
            if b >= 0x21 && b < 0x7F { return "character '\(Character(Unicode.Scalar(b)))'" }
            return String(format: "byte 0x%02X", b)
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func parseValue(depth: Int) throws(ParseError) -> ConfigJSON {
            guard index < bytes.count else { throw error("unexpected end of file where a value was expected") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
            case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
            case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
            case UInt8(ascii: "n"): try expectWord("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
            default: throw error("unexpected \(describeCurrent()) where a value was expected")
            }
        }

        mutating func expectWord(_ word: String) throws(ParseError) {
            let start = index
            for expected in word.utf8 {
                guard index < bytes.count, bytes[index] == expected else {
                    throw error("invalid literal (expected '\(word)')", at: start)
                }
                index += 1
            }
        }

        mutating func parseObject(depth: Int) throws(ParseError) -> ConfigJSON {
            guard depth <= Self.maxDepth else { throw error("nested more than \(Self.maxDepth) levels deep") }
            let open = index
            index += 1
            var members: [Member] = []
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "}") { index += 1; return .object([]) }
            while true {
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of file: the object opened at \(position(open)) is not closed") }
                guard bytes[index] == UInt8(ascii: "\"") else {
                    if bytes[index] == UInt8(ascii: "}") { throw error("trailing comma before '}'") }
                    throw error("unexpected \(describeCurrent()) where a quoted key was expected")
                }
                let key = try parseString()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                    throw error(index < bytes.count ? "expected ':' after a key, found \(describeCurrent())" : "unexpected end of file after a key")
                }
                index += 1
                skipWhitespace()
                let value = try parseValue(depth: depth)
                members.append(Member(key: key, value: value))
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of file: the object opened at \(position(open)) is not closed") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                throw error("expected ',' or '}' in an object, found \(describeCurrent())")
            }
        }

        mutating func parseArray(depth: Int) throws(ParseError) -> ConfigJSON {
            guard depth <= Self.maxDepth else { throw error("nested more than \(Self.maxDepth) levels deep") }
            let open = index
            index += 1
            var items: [ConfigJSON] = []
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "]") { index += 1; return .array([]) }
            while true {
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of file: the array opened at \(position(open)) is not closed") }
                if bytes[index] == UInt8(ascii: "]") { throw error("trailing comma before ']'") }
                items.append(try parseValue(depth: depth))
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of file: the array opened at \(position(open)) is not closed") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                throw error("expected ',' or ']' in an array, found \(describeCurrent())")
            }
        }

        func position(_ offset: Int) -> String {
            let e = error("", at: offset)
            return "line \(e.line), column \(e.column)"
        }

        mutating func parseNumber() throws(ParseError) -> String {
            let start = index
            func digits(_ p: inout Parser) -> Int {
                var n = 0
                while p.index < p.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(p.bytes[p.index]) { p.index += 1; n += 1 }
                return n
            }
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count else { throw error("invalid number", at: start) }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
                if index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                    throw error("invalid number (leading zero)", at: start)
                }
            } else if digits(&self) == 0 {
                throw error("invalid number", at: start)
            }
            if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits(&self) > 0 else { throw error("invalid number (no digits after '.')", at: start) }
            }
            if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
                index += 1
                if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) { index += 1 }
                guard digits(&self) > 0 else { throw error("invalid number (no digits in the exponent)", at: start) }
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func parseString() throws(ParseError) -> String {
            let open = index
            index += 1
            var scalars = String.UnicodeScalarView()
            var runStart = index
            func flushRun(_ p: Parser, upTo end: Int, into s: inout String.UnicodeScalarView) {
                if end > runStart { s.append(contentsOf: String(decoding: p.bytes[runStart..<end], as: UTF8.self).unicodeScalars) }
            }
            while true {
                guard index < bytes.count else { throw error("unexpected end of file: the string opened at \(position(open)) is not closed") }
                let b = bytes[index]
                if b == UInt8(ascii: "\"") {
                    flushRun(self, upTo: index, into: &scalars)
                    index += 1
                    return String(scalars)
                }
                if b < 0x20 {
                    throw error(b == 0x0A ? "a string is not closed before the end of the line" : "a control character inside a string must be escaped")
                }
                if b != UInt8(ascii: "\\") { index += 1; continue }
                flushRun(self, upTo: index, into: &scalars)
                index += 1
                guard index < bytes.count else { throw error("unexpected end of file in an escape sequence") }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    let high = try hex4()
                    if (0xD800..<0xDC00).contains(high) {
                        // A surrogate pair; a lone half becomes U+FFFD, as Go's decoder does.
                        if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                            let save = index
                            index += 2
                            let low = try hex4()
                            if (0xDC00..<0xE000).contains(low) {
                                scalars.append(Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!)
                            } else {
                                scalars.append("\u{FFFD}")
                                index = save
                            }
                        } else {
                            scalars.append("\u{FFFD}")
                        }
                    } else if let scalar = Unicode.Scalar(high) {
                        scalars.append(scalar)
                    } else {
                        scalars.append("\u{FFFD}")
                    }
                default:
                    throw error("invalid escape sequence in a string", at: index - 2)
                }
                runStart = index
            }
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw error("unexpected end of file in a \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[index]
                let digit: UInt32
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
                default: throw error("invalid \\u escape in a string (four hex digits expected)")
                }
                value = value << 4 | digit
                index += 1
            }
            return value
        }
    }
}
