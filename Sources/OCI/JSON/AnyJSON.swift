import Foundation

/// Any JSON value, kept as it was read so that it can be written back: the fields of a
/// document this code does not model (an image config's keys from a newer spec or another
/// tool) survive a read and a write. Objects are written with sorted keys, as canonical JSON is.
public indirect enum AnyJSON: Codable, Hashable, Sendable {
    case string(String)
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case array([AnyJSON])
    case object([String: AnyJSON])
    case null

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .integer(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([AnyJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: AnyJSON].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .bool(let b): try c.encode(b)
        case .integer(let i): try c.encode(i)
        case .number(let d): try c.encode(d)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        case .null: try c.encodeNil()
        }
    }

    /// The same value from the strict reader's document.
    public init(_ value: JSONValue) {
        switch value {
        case .string(let s): self = .string(s)
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .integer(i)
        case .uint(let u): self = u <= UInt64(Int64.max) ? .integer(Int64(u)) : .number(Double(u))
        case .array(let items): self = .array(items.map(AnyJSON.init))
        case .object(let members): self = .object(Dictionary(members.map { ($0.0, AnyJSON($0.1)) }, uniquingKeysWith: { $1 }))
        case .null: self = .null
        }
    }
}

/// A coding key for any name: how a type writes back the members it does not model.
public struct AnyCodingKey: CodingKey, Hashable {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ string: String) { stringValue = string }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}
