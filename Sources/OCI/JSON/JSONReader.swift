import Foundation

/// A small strict JSON parser into `JSONValue`, and typed access to what it parsed, for the
/// documents `run` reads on its timed path (index.json, a manifest, an image config, container
/// state). JSONDecoder's first use in a process instantiates each decoded type's generic
/// containers from mangled names, and every such lookup scans all ~10,000 protocol conformance
/// records of this executable: ~1 ms for those few small documents, more than parsing them.
///
/// It is a fast path only. `CanonicalJSON.decode` tries it for `JSONReadable` types and, when
/// it declines (nil or a thrown `JSONReader.Declined`), decodes with JSONDecoder, whose result
/// or error is then the answer. So it declines whatever it does not read exactly as JSONDecoder
/// would: non-ASCII text, duplicate keys, a number where a type wants another kind, and any
/// malformed document (JSONDecoder then says what is wrong). JSONReaderTests hold both readers
/// to the same values.
public enum JSONReader {
    /// The reader does not take this document (or this value for this type).
    public struct Declined: Error {
        public init() {}
    }

    /// The document `data` holds, or nil when this reader does not take it.
    public static func parse(_ data: Data) -> JSONValue? {
        data.withUnsafeBytes { raw in
            var parser = Parser(bytes: raw)
            guard let value = parser.value(depth: 0) else { return nil }
            parser.skipSpace()
            return parser.index == raw.count ? value : nil
        }
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) -> JSONValue? {
            guard depth < 64 else { return nil }
            skipSpace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var members: [(String, JSONValue)] = []
                var keys: Set<String>? // past a few members, so that finding duplicates stays linear
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                while true {
                    skipSpace()
                    guard let key = string() else { return nil }
                    // Duplicate keys: which one JSONDecoder keeps is its business.
                    if keys == nil, members.count == 16 { keys = Set(members.map(\.0)) }
                    if keys != nil {
                        guard keys!.insert(key).inserted else { return nil }
                    } else {
                        for (existing, _) in members where existing == key { return nil }
                    }
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                    index += 1
                    guard let member = value(depth: depth + 1) else { return nil }
                    members.append((key, member))
                    skipSpace()
                    guard index < bytes.count else { return nil }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                    return nil
                }
            case UInt8(ascii: "["):
                index += 1
                var items: [JSONValue] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                while true {
                    guard let item = value(depth: depth + 1) else { return nil }
                    items.append(item)
                    skipSpace()
                    guard index < bytes.count else { return nil }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                    return nil
                }
            case UInt8(ascii: "\""):
                return string().map { .string($0) }
            case UInt8(ascii: "t"): return word("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return word("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return word("null") ? .null : nil
            default: return number()
            }
        }

        mutating func word(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for i in 0..<count where bytes[index + i] != text.utf8Start[i] { return false }
            index += count
            return true
        }

        /// A string: ASCII only (else declined), with JSON's escapes except `\u` beyond ASCII.
        mutating func string() -> String? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            index += 1
            let start = index
            var escaped = false
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") { break }
                if byte < 0x20 || byte >= 0x80 { return nil }
                if byte == UInt8(ascii: "\\") { escaped = true; index += 1 }
                index += 1
            }
            guard index < bytes.count else { return nil }
            let body = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
            index += 1
            if !escaped { return String(decoding: body, as: UTF8.self) }
            var out: [UInt8] = []
            out.reserveCapacity(body.count)
            var i = 0
            while i < body.count {
                let byte = body[i]
                i += 1
                guard byte == UInt8(ascii: "\\") else { out.append(byte); continue }
                guard i < body.count else { return nil }
                let kind = body[i]
                i += 1
                switch kind {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(kind)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard i + 4 <= body.count else { return nil }
                    var code: UInt32 = 0
                    for _ in 0..<4 {
                        guard let digit = Self.hexValue(body[i]) else { return nil }
                        code = code << 4 | digit
                        i += 1
                    }
                    guard code < 0x80 else { return nil }
                    out.append(UInt8(code))
                default: return nil
                }
            }
            return String(decoding: out, as: UTF8.self)
        }

        static func hexValue(_ byte: UInt8) -> UInt32? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
        }

        /// An integer that fits Int64 (else declined: JSONDecoder's rules for fractions,
        /// exponents and large numbers are its own).
        mutating func number() -> JSONValue? {
            var negative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { negative = true; index += 1 }
            let start = index
            var magnitude: UInt64 = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                let (times, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { return nil }
                magnitude = sum
                index += 1
            }
            let digits = index - start
            guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
            if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) { return nil }
            if negative {
                guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
                return .int(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
            }
            guard magnitude <= UInt64(Int64.max) else { return nil }
            return .int(Int64(magnitude))
        }
    }
}

/// A type `CanonicalJSON.decode` can read with `JSONReader` (see there); its Codable
/// conformance stays the definition, which the fast path must match.
public protocol JSONReadable: Decodable {
    /// Reads `json` as JSONDecoder would, or throws (any error: JSONDecoder then decides).
    init(json: JSONValue) throws
}

/// An object's members, looked up by key as JSONDecoder's keyed container does: a missing or
/// null member is absent.
public struct JSONObject {
    public let members: [(String, JSONValue)]

    public init(_ value: JSONValue) throws {
        guard case .object(let members) = value else { throw JSONReader.Declined() }
        self.members = members
    }

    /// The member `key`, or nil when it is missing or null.
    public subscript(key: String) -> JSONValue? {
        for (name, value) in members where name == key {
            if case .null = value { return nil }
            return value
        }
        return nil
    }

    /// The member `key`, which must be there and not null.
    public func required(_ key: String) throws -> JSONValue {
        guard let value = self[key] else { throw JSONReader.Declined() }
        return value
    }
}

extension JSONValue {
    public func string() throws -> String {
        guard case .string(let s) = self else { throw JSONReader.Declined() }
        return s
    }

    public func int64() throws -> Int64 {
        guard case .int(let n) = self else { throw JSONReader.Declined() }
        return n
    }

    public func int() throws -> Int { Int(try int64()) }

    public func int32() throws -> Int32 {
        let n = try int64()
        guard let small = Int32(exactly: n) else { throw JSONReader.Declined() }
        return small
    }

    public func bool() throws -> Bool {
        guard case .bool(let b) = self else { throw JSONReader.Declined() }
        return b
    }

    public func array() throws -> [JSONValue] {
        guard case .array(let items) = self else { throw JSONReader.Declined() }
        return items
    }

    public func object() throws -> JSONObject { try JSONObject(self) }

    public func strings() throws -> [String] {
        var out: [String] = []
        for item in try array() { out.append(try item.string()) }
        return out
    }

    /// An object of strings (a null member is not a string: JSONDecoder refuses it too).
    public func stringMap() throws -> [String: String] {
        guard case .object(let members) = self else { throw JSONReader.Declined() }
        var out: [String: String] = [:]
        for (key, value) in members { out[key] = try value.string() }
        return out
    }
}
