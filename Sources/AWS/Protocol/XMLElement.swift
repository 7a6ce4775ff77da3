/// A parsed XML element, as AWS's XML responses need: a name (namespace prefix dropped),
/// attributes, child elements and the concatenated text directly inside it.
///
/// A small reader of our own (not Foundation's XMLParser, which needs libxml2 and so breaks
/// the statically linked release binary). It reads elements, attributes, text, CDATA, the five
/// predefined entities and numeric character references; it skips the XML declaration,
/// processing instructions, comments and DOCTYPE. It is for trusted-shape service answers,
/// not arbitrary documents.
public struct AWSXMLElement: Sendable, Equatable {
    /// The local name (without a namespace prefix).
    public var name: String
    /// Attributes by name.
    public var attributes: [String: String]
    /// Child elements, in document order.
    public var children: [AWSXMLElement]
    /// The text directly inside this element, entities decoded.
    public var text: String

    /// An element from its parts.
    public init(name: String, attributes: [String: String] = [:], children: [AWSXMLElement] = [], text: String = "") {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// The first child named `name`.
    public func child(_ name: String) -> AWSXMLElement? { children.first { $0.name == name } }

    /// All children named `name`.
    public func children(_ name: String) -> [AWSXMLElement] { children.filter { $0.name == name } }

    /// The element at a path of child names, e.g. `element(at: "GetCallerIdentityResult", "Arn")`.
    public func element(at path: String...) -> AWSXMLElement? {
        var node: AWSXMLElement? = self
        for name in path { node = node?.child(name) }
        return node
    }

    /// The text of the child named `name`, nil when there is no such child.
    public func string(_ name: String) -> String? { child(name)?.text }

    /// The first element named `name` anywhere below (depth first), self included.
    public func first(named name: String) -> AWSXMLElement? {
        if self.name == name { return self }
        for c in children { if let hit = c.first(named: name) { return hit } }
        return nil
    }

    /// The members of a list: the `member` children of the child named `name`.
    public func members(_ name: String, item: String = "member") -> [AWSXMLElement] {
        child(name)?.children(item) ?? []
    }

    /// Parses a document; throws `AWSXMLError` on malformed input.
    public static func parse(_ text: String) throws -> AWSXMLElement {
        var reader = Reader(bytes: Array(text.utf8))
        return try reader.document()
    }

    /// Parses a document from bytes.
    public static func parse<Bytes: Sequence>(bytes: Bytes) throws -> AWSXMLElement where Bytes.Element == UInt8 {
        var reader = Reader(bytes: Array(bytes))
        return try reader.document()
    }
}

/// Malformed XML, with the byte offset where reading stopped.
public struct AWSXMLError: Error, CustomStringConvertible, Sendable {
    /// What was wrong.
    public var reason: String
    /// The byte offset.
    public var offset: Int
    public var description: String { "malformed XML at byte \(offset): \(reason)" }
}

private struct Reader {
    let bytes: [UInt8]
    var i = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ reason: String) -> AWSXMLError { AWSXMLError(reason: reason, offset: i) }

    func peek(_ s: String) -> Bool {
        let u = Array(s.utf8)
        return i + u.count <= bytes.count && Array(bytes[i..<i + u.count]) == u
    }

    mutating func skip(until s: String) throws {
        while i < bytes.count && !peek(s) { i += 1 }
        guard i < bytes.count else { throw fail("unterminated construct, expected \(s)") }
        i += s.utf8.count
    }

    mutating func skipSpace() {
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    }

    /// Skips the prolog and misc (declaration, comments, PIs, DOCTYPE, whitespace).
    mutating func skipMisc() throws {
        while true {
            skipSpace()
            if peek("<?") { try skip(until: "?>") }
            else if peek("<!--") { try skip(until: "-->") }
            else if peek("<!DOCTYPE") || peek("<!doctype") { try skip(until: ">") }
            else { return }
        }
    }

    mutating func document() throws -> AWSXMLElement {
        if peek("\u{FEFF}") { i += 3 }
        try skipMisc()
        guard peek("<") else { throw fail("expected an element") }
        let root = try element()
        try skipMisc()
        guard i == bytes.count else { throw fail("content after the root element") }
        return root
    }

    mutating func name() throws -> String {
        let start = i
        while i < bytes.count, !([0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ">"), UInt8(ascii: "/"), UInt8(ascii: "=")].contains(bytes[i])) { i += 1 }
        guard i > start else { throw fail("expected a name") }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    static func local(_ qname: String) -> String {
        if let colon = qname.lastIndex(of: ":") { return String(qname[qname.index(after: colon)...]) }
        return qname
    }

    mutating func element() throws -> AWSXMLElement {
        i += 1 // <
        let qname = try name()
        var node = AWSXMLElement(name: Self.local(qname))
        while true {
            skipSpace()
            guard i < bytes.count else { throw fail("unterminated start tag <\(qname)>") }
            if peek("/>") { i += 2; return node }
            if bytes[i] == UInt8(ascii: ">") { i += 1; break }
            let attr = try name()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { throw fail("expected = after attribute \(attr)") }
            i += 1
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") else { throw fail("expected a quoted attribute value") }
            let quote = bytes[i]
            i += 1
            let start = i
            while i < bytes.count && bytes[i] != quote { i += 1 }
            guard i < bytes.count else { throw fail("unterminated attribute value") }
            node.attributes[Self.local(attr)] = try Self.decodeEntities(bytes[start..<i], at: start)
            i += 1
        }
        var text: [UInt8] = []
        while true {
            guard i < bytes.count else { throw fail("element <\(qname)> is not closed") }
            if peek("</") {
                i += 2
                let closing = try name()
                guard closing == qname else { throw fail("</\(closing)> closes <\(qname)>") }
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ">") else { throw fail("expected > after </\(closing)") }
                i += 1
                node.text = String(decoding: text, as: UTF8.self)
                return node
            } else if peek("<!--") {
                try skip(until: "-->")
            } else if peek("<![CDATA[") {
                i += 9
                let start = i
                try skip(until: "]]>")
                text.append(contentsOf: bytes[start..<(i - 3)])
            } else if peek("<?") {
                try skip(until: "?>")
            } else if bytes[i] == UInt8(ascii: "<") {
                node.children.append(try element())
            } else {
                let start = i
                while i < bytes.count && bytes[i] != UInt8(ascii: "<") { i += 1 }
                text.append(contentsOf: Array(try Self.decodeEntities(bytes[start..<i], at: start).utf8))
            }
        }
    }

    static func decodeEntities(_ slice: ArraySlice<UInt8>, at offset: Int) throws -> String {
        guard slice.contains(UInt8(ascii: "&")) else { return String(decoding: slice, as: UTF8.self) }
        var out = ""
        var j = slice.startIndex
        while j < slice.endIndex {
            if slice[j] == UInt8(ascii: "&") {
                guard let semi = slice[j...].firstIndex(of: UInt8(ascii: ";")), semi - j <= 12 else {
                    throw AWSXMLError(reason: "unterminated entity", offset: j)
                }
                let entity = String(decoding: slice[(j + 1)..<semi], as: UTF8.self)
                switch entity {
                case "lt": out += "<"
                case "gt": out += ">"
                case "amp": out += "&"
                case "quot": out += "\""
                case "apos": out += "'"
                default:
                    var scalar: Unicode.Scalar?
                    if entity.hasPrefix("#x") || entity.hasPrefix("#X") { scalar = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init) }
                    else if entity.hasPrefix("#") { scalar = UInt32(entity.dropFirst(1)).flatMap(Unicode.Scalar.init) }
                    guard let scalar else { throw AWSXMLError(reason: "unknown entity &\(entity);", offset: j) }
                    out.unicodeScalars.append(scalar)
                }
                j = semi + 1
            } else {
                let next = slice[j...].firstIndex(of: UInt8(ascii: "&")) ?? slice.endIndex
                out += String(decoding: slice[j..<next], as: UTF8.self)
                j = next
            }
        }
        return out
    }
}
