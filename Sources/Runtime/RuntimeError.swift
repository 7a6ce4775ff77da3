#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Errors of unpacking and running images; descriptions name the thing and the fix.
public enum RuntimeError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// A layer entry that would land outside the root filesystem, or otherwise cannot be applied safely.
    case unsafeEntry(path: String, reason: String)
    /// The image expands beyond the configured bound.
    case tooLarge(what: String, limit: Int64)
    case io(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case let .unsafeEntry(path, reason):
            return "refusing layer entry '\(path)': \(reason); the image is malformed or hostile, so nothing outside the root was touched"
        case let .tooLarge(what, limit):
            return "the image expands to more than \(limit) \(what), the unpacking limit (a decompression bomb?); raise the limit only for an image you trust"
        case let .io(path, operation, code):
            return "cannot \(operation) \(path): \(String(cString: strerror(code)))"
        }
    }

    public var errorDescription: String? { description }
}
