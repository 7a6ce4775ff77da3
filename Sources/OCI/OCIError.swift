import Foundation

/// Errors from the OCI core: each case carries the facts, and its description says what
/// happened and what to do about it.
public enum OCIError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case invalidDigest(String, reason: String)
    case digestMismatch(expected: Digest, actual: Digest, source: String)
    case sizeMismatch(digest: Digest, expected: Int64, actual: Int64, source: String)
    case invalidReference(String, reason: String)
    case invalidPlatform(String)
    case blobNotFound(Digest, store: String)
    case imageNotFound(String, store: String)
    case ambiguousImage(String, candidates: [String])
    case notAnImageLayout(path: String, reason: String)
    case malformedJSON(what: String, detail: String)
    case unsupportedMediaType(String, context: String)
    case io(path: String, operation: String, errno: Int32)
    case tar(String)
    /// A tar header or its content that cannot be read as written: `entry` is its path when
    /// known (nil when the header itself is unreadable), `offset` where its header starts.
    case malformedTar(entry: String?, offset: Int64, reason: String)
    case compression(String)
    case archive(path: String, reason: String)
    case sourceTree(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidDigest(s, reason):
            return "invalid digest '\(s)': \(reason)"
        case let .digestMismatch(expected, actual, source):
            return "content of \(expected) in \(source) does not match its digest (it hashes to \(actual)); the blob is corrupt: delete it (stackship rmi / gc) and build or pull it again"
        case let .sizeMismatch(digest, expected, actual, source):
            return "blob \(digest) in \(source) is \(actual) bytes but its descriptor says \(expected); the blob is truncated or corrupt: build or pull it again"
        case let .invalidReference(s, reason):
            return "invalid image reference '\(s)': \(reason)"
        case let .invalidPlatform(s):
            return "invalid platform '\(s)': use OS/ARCH[/VARIANT], such as linux/amd64 or linux/arm64/v8"
        case let .blobNotFound(d, store):
            return "blob \(d) is not in the store at \(store); the store is missing content: rebuild or re-pull the image that needs it"
        case let .imageNotFound(ref, store):
            return "no image '\(ref)' in the store at \(store); list what is there with `stackship images`, or build or load it first"
        case let .ambiguousImage(ref, candidates):
            return "'\(ref)' matches several images (\(candidates.joined(separator: ", "))); give more digits or a full reference"
        case let .notAnImageLayout(path, reason):
            return "\(path) is not an OCI image layout: \(reason)"
        case let .malformedJSON(what, detail):
            return "malformed \(what): \(detail)"
        case let .unsupportedMediaType(type, context):
            return "unsupported media type '\(type)' for \(context)"
        case let .io(path, operation, code):
            return "cannot \(operation) \(path): \(String(cString: strerror(code)))" + Self.hint(errno: code)
        case let .tar(reason):
            return "tar: \(reason)"
        case let .malformedTar(entry, offset, reason):
            let what = entry.map { "tar entry '\(TarReader.shown($0))' (header at byte \(offset))" } ?? "tar header at byte \(offset)"
            return "\(what): \(reason); the archive is corrupt or was made to attack its reader: do not use it, get it again from a source you trust"
        case let .compression(reason):
            return "compression: \(reason)"
        case let .archive(path, reason):
            return "archive \(path): \(reason)"
        case let .sourceTree(path, reason):
            return "source \(path): \(reason)"
        }
    }

    public var errorDescription: String? { description }

    private static func hint(errno code: Int32) -> String {
        switch code {
        case EACCES, EPERM: return " (check the file's permissions, or run as a user who can read it)"
        case ENOENT: return " (check the path)"
        case ELOOP: return " (a symlink loop: fix or remove the link)"
        case ENOSPC: return " (the disk is full: free space, or run `stackship gc`)"
        default: return ""
        }
    }
}
