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
    /// An entry of a layer or artifact that extraction refuses (it would escape, or is malformed).
    case unsafeEntry(layer: String, path: String, reason: String)
    /// A layer or artifact that expands past `ExtractionLimits`.
    case extractionLimit(layer: String, what: String, limit: Int64)
    /// Extraction would need more than the free space of the target's file system.
    case notEnoughSpace(path: String, needed: Int64, available: Int64)
    /// A layer or artifact whose tar or compression is corrupt.
    case corruptLayer(layer: String, detail: String)
    /// An index with no image for the wanted platform.
    case noMatchingPlatform(image: String, wanted: String, available: [String])
    /// An index names a child its source does not have.
    case missingChild(image: String, child: Digest, platform: String?)
    /// A layer whose uncompressed content is not the diffID its image config names.
    case diffIDMismatch(layer: String, expected: Digest, actual: Digest)
    /// A layer whose media type is not a layer this tool can read.
    case unknownLayerType(layer: String, mediaType: String)
    /// A layer source, or a symlink followed under it, that resolves (`resolved`) outside the
    /// folder its walk is confined to (``LayerSource/confinement``).
    case sourceOutside(path: String, resolved: String, root: String)

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
        case let .unsafeEntry(layer, path, reason):
            return "\(layer): entry '\(path)' is refused: \(reason); the content is malformed or hostile, so nothing of it is used"
        case let .extractionLimit(layer, what, limit):
            return "\(layer) expands past the limit of \(what == "bytes" ? Self.size(limit) : "\(limit) \(what)"); it may be a decompression bomb, so it is not unpacked"
        case let .notEnoughSpace(path, needed, available):
            return "unpacking into \(path) needs more than the \(Self.size(available)) free there (\(Self.size(needed)) so far); free space (`stackship gc`, `stackship rmi`) or unpack elsewhere"
        case let .corruptLayer(layer, detail):
            return "\(layer) is corrupt (\(detail)); pull or build it again"
        case let .noMatchingPlatform(image, wanted, available):
            return "\(image) has no image for \(wanted)" + (available.isEmpty ? "" : " (it has \(available.joined(separator: ", ")))") + "; choose one with --platform, or take them all with --all"
        case let .missingChild(image, child, platform):
            return "\(image) lists \(child)\(platform.map { " (\($0))" } ?? "") but does not hold it, so the index cannot be copied whole; copy one platform with --platform, or pull the missing one first"
        case let .diffIDMismatch(layer, expected, actual):
            return "\(layer) decompresses to \(actual), but the image config names \(expected) as its diffID: the image is corrupt or forged, so it is not used; ask its publisher to rebuild and push it"
        case let .unknownLayerType(layer, mediaType):
            return "\(layer) has media type '\(mediaType)', which is not a layer type stackship can read (OCI or Docker tar, tar+gzip, tar+zstd)"
        case let .sourceOutside(path, resolved, root):
            return "source \(path) resolves to \(resolved), outside \(root); remove the link, or copy what it points to inside \(root)"
        }
    }

    public var errorDescription: String? { description }

    /// A byte count for messages: "1.5 GiB", "12 MiB", "800 bytes".
    static func size(_ bytes: Int64) -> String {
        let units: [(Int64, String)] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (scale, unit) in units where bytes >= scale {
            let value = Double(bytes) / Double(scale)
            return value < 10 ? String(format: "%.1f", value) + " " + unit : "\(Int64(value.rounded())) \(unit)"
        }
        return "\(bytes) bytes"
    }

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
