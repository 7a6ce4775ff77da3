#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support

/// A JSON document built by hand and written in one pass, keys in the order given.
///
/// For the files written while a container starts (its runtime spec and state): JSONEncoder's
/// first use in a process looks up each encoded type's conformances at run time, which costs
/// more than the documents themselves on that timed path. Everything else uses Codable.
public indirect enum JSONValue: Sendable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case array([JSONValue])
    case object([(String, JSONValue)])
    case null

    /// An array of strings.
    public static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }

    /// An object from optional members: a nil value leaves its key out (as JSONEncoder does).
    public static func members(_ members: [(String, JSONValue?)]) -> JSONValue {
        .object(members.compactMap { key, value in value.map { (key, $0) } })
    }

    /// `date` as JSONEncoder's `.iso8601` strategy writes it: `2026-11-22T08:10:00Z`.
    public static func iso8601(_ date: Date) -> JSONValue {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return .string("\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z")
    }

    /// The JSON text, compact.
    public var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    public var data: Data { Data(utf8: text) }

    private func write(to out: inout String) {
        switch self {
        case .string(let s): out += JSONString.literal(s)
        case .bool(let b): out += b ? "true" : "false"
        case .int(let n): out += String(n)
        case .uint(let n): out += String(n)
        case .null: out += "null"
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                out += JSONString.literal(key)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }
}
