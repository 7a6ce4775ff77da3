import Foundation

/// A package's input hash: 64 lowercase hex digits (a sha256 of recipe, sources, builder,
/// dependencies and platform, computed elsewhere). The cache treats it as an opaque key.
public struct PackageHash: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The 64 hex digits.
    public let value: String

    /// Validates `text`; throws `BuildCacheError.invalidHash` naming what is wrong.
    public init(_ text: String) throws {
        guard text.utf8.count == 64 else {
            throw BuildCacheError.invalidHash(text, reason: "it has \(text.utf8.count) characters, not 64")
        }
        guard text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw BuildCacheError.invalidHash(text, reason: "only lowercase hex digits [0-9a-f] are allowed")
        }
        value = text
    }

    /// The hash itself.
    public var description: String { value }

    /// The first 12 digits, for listings.
    public var short: String { String(value.prefix(12)) }

    public static func < (lhs: PackageHash, rhs: PackageHash) -> Bool { lhs.value < rhs.value }

    public init(from decoder: Decoder) throws {
        try self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }
}
