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
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
