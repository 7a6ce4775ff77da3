#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation
import Support
import OCI

/// An Ed25519 private key that signs pushed packages. It never prints itself: `description`
/// names only its key ID, and errors about it never carry the key text.
///
/// Text form (one line): `stackship-ed25519-private:<base64 of the 32-byte seed>`.
public struct SigningKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The prefix of the text form.
    public static let textPrefix = "stackship-ed25519-private:"
    private let key: Curve25519.Signing.PrivateKey

    /// A fresh random key.
    public init() { key = Curve25519.Signing.PrivateKey() }

    /// Reads the text form; `source` names where it came from in errors (never the text).
    public init(text: String, source: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix(Self.textPrefix) else {
            if trimmed.hasPrefix(PublicKey.textPrefix) {
                throw BuildCacheError.invalidKey(source: source, reason: "this is a public key; signing needs the private key (the file without .pub)")
            }
            throw BuildCacheError.invalidKey(source: source, reason: "it does not start with '\(Self.textPrefix)'")
        }
        guard let raw = Data(base64Encoded: String(trimmed.dropFirst(Self.textPrefix.count))), raw.count == 32,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw BuildCacheError.invalidKey(source: source, reason: "the key is not 32 bytes of base64")
        }
        self.key = key
    }

    /// Reads the key from a file.
    public init(contentsOfFile path: String) throws {
        let data: Data
        do { data = try FileIO.readFile(path) } catch { throw BuildCacheError.invalidKey(source: path, reason: "the file cannot be read (\(Self.reason(error)))") }
        guard data.count < 4096, let text = String(data: data, encoding: .utf8) else {
            throw BuildCacheError.invalidKey(source: path, reason: "it is not a small text file")
        }
        try self.init(text: text, source: path)
    }

    /// The matching public key.
    public var publicKey: PublicKey { PublicKey(key.publicKey) }

    /// Signs `bytes`.
    public func sign(_ bytes: Data) throws -> PackageSignature {
        PackageSignature(keyID: publicKey.keyID, signature: try key.signature(for: bytes))
    }

    /// The secret text form, for writing the key file only (never log it).
    public func exportText() -> String { Self.textPrefix + key.rawRepresentation.base64EncodedString() }

    /// `SigningKey(<redacted>, id …)`.
    public var description: String { "SigningKey(<redacted>, id \(publicKey.keyID))" }
    /// Same as `description`: redacted.
    public var debugDescription: String { description }

    /// Writes a new key pair: `prefix` (the private key, mode 0600) and `prefix.pub` (the public
    /// key, mode 0644), each atomically. Refuses to overwrite an existing private key unless `force`.
    @discardableResult
    public static func generate(writingTo prefix: String, force: Bool = false) throws -> PublicKey {
        if !force && FileIO.exists(prefix) {
            throw BuildCacheError.io(path: prefix, operation: "write the private key to", errno: EEXIST)
        }
        let key = SigningKey()
        do {
            try AtomicFileWriter.write(Data((key.exportText() + "\n").utf8), to: prefix, mode: 0o600)
            // The umask may have narrowed the mode; the private key must be exactly 0600.
            chmod(prefix, 0o600)
            try AtomicFileWriter.write(Data((key.publicKey.text + "\n").utf8), to: prefix + ".pub", mode: 0o644)
        } catch {
            throw DirectoryBackend.translate(error, path: prefix)
        }
        return key.publicKey
    }

    static func reason(_ error: Error) -> String {
        if case let SupportError.io(_, _, code) = error { return String(cString: strerror(code)) }
        return "\(error)"
    }
}

/// An Ed25519 public key that verifies package signatures.
///
/// Text form (one line): `stackship-ed25519-public:<base64 of the 32-byte key>`.
public struct PublicKey: Sendable, Hashable, CustomStringConvertible {
    /// The prefix of the text form.
    public static let textPrefix = "stackship-ed25519-public:"
    /// The 32 raw key bytes.
    public let rawRepresentation: Data

    init(_ key: Curve25519.Signing.PublicKey) { rawRepresentation = key.rawRepresentation }

    /// Reads the text form; `source` names where it came from in errors.
    public init(text: String, source: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix(SigningKey.textPrefix) {
            // A private key: trust its public half, never echo it.
            rawRepresentation = try SigningKey(text: trimmed, source: source).publicKey.rawRepresentation
            return
        }
        guard trimmed.hasPrefix(Self.textPrefix) else {
            throw BuildCacheError.invalidKey(source: source, reason: "it does not start with '\(Self.textPrefix)'")
        }
        guard let raw = Data(base64Encoded: String(trimmed.dropFirst(Self.textPrefix.count))), raw.count == 32,
              (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil else {
            throw BuildCacheError.invalidKey(source: source, reason: "the key is not 32 bytes of base64")
        }
        rawRepresentation = raw
    }

    /// Reads the key from a file.
    public init(contentsOfFile path: String) throws {
        let data: Data
        do { data = try FileIO.readFile(path) } catch { throw BuildCacheError.invalidKey(source: path, reason: "the file cannot be read (\(SigningKey.reason(error)))") }
        guard data.count < 4096, let text = String(data: data, encoding: .utf8) else {
            throw BuildCacheError.invalidKey(source: path, reason: "it is not a small text file")
        }
        try self.init(text: text, source: path)
    }

    /// The first 16 hex digits of the sha256 of the raw key: names the key in signatures.
    public var keyID: String { String(Digest.compute(rawRepresentation).encoded.prefix(16)) }

    /// The text form.
    public var text: String { Self.textPrefix + rawRepresentation.base64EncodedString() }

    /// `ed25519:<key ID>`.
    public var description: String { "ed25519:\(keyID)" }

    /// True if `signature` is this key's signature of `bytes`.
    public func isValid(_ signature: PackageSignature, for bytes: Data) -> Bool {
        guard signature.algorithm == "ed25519", signature.keyID == keyID,
              let sig = Data(base64Encoded: signature.signature),
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation) else { return false }
        return key.isValidSignature(sig, for: bytes)
    }
}
