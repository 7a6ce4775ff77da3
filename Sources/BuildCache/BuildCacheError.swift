#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI

/// Errors from the binary package cache: each case carries the facts, and its description says
/// what happened and what to do about it. No case ever carries a private key.
public enum BuildCacheError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// A package hash that is not 64 lowercase hex digits.
    case invalidHash(String, reason: String)
    /// An object key a backend cannot hold (empty, absolute, `..`, a reserved name).
    case invalidObjectKey(String, reason: String)
    /// A backend has no object at `key`.
    case objectNotFound(key: String, backend: String)
    /// A directory cache that does not exist (and was not to be created).
    case cacheMissing(path: String)
    /// A cache location this build cannot use (yet).
    case unsupportedCacheLocation(String, reason: String)
    /// No cache holds the package.
    case notCached(PackageHash, caches: [String])
    /// The downloaded artifact does not hash to the digest its metadata names.
    case artifactDigestMismatch(PackageHash, expected: Digest, actual: Digest, cache: String)
    /// The downloaded artifact's size differs from its metadata's.
    case artifactSizeMismatch(PackageHash, expected: Int64, actual: Int64, cache: String)
    /// The package has no signature and unsigned packages are not allowed.
    case unsigned(PackageHash, cache: String)
    /// The signature was made by a key that is not trusted.
    case untrustedSigner(PackageHash, keyID: String, cache: String)
    /// The signature does not verify: the metadata or the signature was altered.
    case badSignature(PackageHash, keyID: String, cache: String)
    /// The metadata disagrees with what the index or the request says.
    case metadataMismatch(PackageHash, reason: String, cache: String)
    /// A cache object is not what it should be (bad JSON, missing field).
    case malformed(what: String, detail: String)
    /// A key (signing or public) could not be read; never carries the key text.
    case invalidKey(source: String, reason: String)
    /// Pushing needs a signing key.
    case noSigningKey
    /// Pushing needs a cache to push to.
    case noPushTarget
    /// `fetch` refuses to install over a directory that has content.
    case destinationNotEmpty(path: String)
    /// A duration such as `--min-age` that could not be read.
    case invalidDuration(String)
    /// A file-system call failed.
    case io(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case let .invalidHash(s, reason):
            return "invalid package hash '\(s)': \(reason); a package hash is 64 lowercase hex digits (a sha256)"
        case let .invalidObjectKey(key, reason):
            return "invalid cache object key '\(key)': \(reason)"
        case let .objectNotFound(key, backend):
            return "\(backend) has no object '\(key)'; it may have been garbage-collected meanwhile: push the package again"
        case let .cacheMissing(path):
            return "there is no cache at \(path); create it with `mkdir -p \(path)` (or push to it first), or point --cache / STACKSHIP_CACHE at an existing one"
        case let .unsupportedCacheLocation(location, reason):
            return "cannot use cache '\(location)': \(reason)"
        case let .notCached(hash, caches):
            return "package \(hash) is in none of the caches (\(caches.joined(separator: ", "))); build it, or add the cache that holds it with --cache"
        case let .artifactDigestMismatch(hash, expected, actual, cache):
            return "the artifact of package \(hash) in \(cache) hashes to \(actual), but its signed metadata says \(expected): the artifact was altered or damaged; nothing was installed. Delete it (stackship cache gc) and push it again"
        case let .artifactSizeMismatch(hash, expected, actual, cache):
            return "the artifact of package \(hash) in \(cache) is \(actual) bytes, but its signed metadata says \(expected): the artifact is truncated or altered; nothing was installed. Push it again"
        case let .unsigned(hash, cache):
            return "package \(hash) in \(cache) has no signature; nothing was installed. Push it again with a signing key (--signing-key / STACKSHIP_SIGNING_KEY), or pass --allow-unsigned if you trust this cache"
        case let .untrustedSigner(hash, keyID, cache):
            return "package \(hash) in \(cache) is signed by key \(keyID), which is not trusted; nothing was installed. Add that key's public key with --trusted-key FILE if you trust it"
        case let .badSignature(hash, keyID, cache):
            return "the signature of package \(hash) in \(cache) (key \(keyID)) does not match its metadata: the metadata or the signature was altered; nothing was installed. Push the package again"
        case let .metadataMismatch(hash, reason, cache):
            return "the metadata of package \(hash) in \(cache) is inconsistent: \(reason); nothing was installed. Push the package again"
        case let .malformed(what, detail):
            return "malformed \(what): \(detail)"
        case let .invalidKey(source, reason):
            return "cannot read the key from \(source): \(reason); generate a key pair with `stackship cache keygen --output PREFIX`"
        case .noSigningKey:
            return "pushing a package needs a signing key: pass --signing-key FILE or set STACKSHIP_SIGNING_KEY (generate one with `stackship cache keygen`), or allow unsigned pushes explicitly"
        case .noPushTarget:
            return "there is no cache to push to: pass --cache PATH or --push-cache PATH"
        case let .destinationNotEmpty(path):
            return "\(path) already exists and is not empty; a package is installed only into a new or empty directory: remove it or choose another"
        case let .invalidDuration(text):
            return "invalid duration '\(text)': use a number with a unit, such as 30s, 15m, 12h, 7d or 2w"
        case let .io(path, operation, code):
            return "cannot \(operation) \(path): \(String(cString: strerror(code)))" + Self.hint(errno: code)
        }
    }

    public var errorDescription: String? { description }

    private static func hint(errno code: Int32) -> String {
        switch code {
        case EACCES, EPERM: return " (check the permissions, or run as a user who can write there)"
        case ENOENT: return " (check the path)"
        case ENOSPC: return " (the disk is full: free space, or run `stackship cache gc`)"
        default: return ""
        }
    }
}
