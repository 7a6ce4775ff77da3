import Crypto
import Foundation

/// Hex SHA-256 of joined parts: the keys jobs carry and the suffixes that make ids unique.
enum Hashing {
    /// The hex SHA-256 of the parts joined by NUL bytes (no part contains one in practice, and a
    /// part that does only changes the key, never crashes).
    static func hex(_ parts: [String]) -> String {
        var hasher = SHA256()
        for part in parts {
            hasher.update(data: Data(part.utf8))
            hasher.update(data: Data([0]))
        }
        return hexString(hasher.finalize())
    }

    private static let digits = Array("0123456789abcdef".utf8)

    /// Lower-case hex of bytes (String(format:) per byte is slow enough to show in big plans).
    static func hexString<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
