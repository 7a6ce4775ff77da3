import Crypto
import Foundation

/// A content digest such as `sha256:6c3c…`, as the OCI image spec defines it.
///
/// Only `sha256` and `sha512` are accepted: they are the registered algorithms, and a
/// digest this type holds is always well formed (lowercase hex of the right length).
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// A registered digest algorithm.
    public enum Algorithm: String, Sendable, CaseIterable {
        case sha256
        case sha512

        /// Length of the hex-encoded value.
        public var hexLength: Int { self == .sha256 ? 64 : 128 }
    }

    /// The algorithm that produced `encoded`.
    public let algorithm: Algorithm
    /// The lowercase hex value.
    public let encoded: String

    /// Parses `algorithm:hex`; throws `OCIError.invalidDigest` naming what is wrong.
    public init(parsing string: String) throws {
        guard let colon = string.firstIndex(of: ":") else {
            throw OCIError.invalidDigest(string, reason: "expected ALGORITHM:HEX, such as sha256:<64 hex digits>")
        }
        let algorithmName = String(string[..<colon])
        let hex = String(string[string.index(after: colon)...])
        guard let algorithm = Algorithm(rawValue: algorithmName) else {
            throw OCIError.invalidDigest(string, reason: "unsupported algorithm '\(algorithmName)'; use sha256 or sha512")
        }
        guard hex.utf8.count == algorithm.hexLength else {
            throw OCIError.invalidDigest(string, reason: "\(algorithm.rawValue) needs \(algorithm.hexLength) hex digits, found \(hex.utf8.count)")
        }
        guard hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw OCIError.invalidDigest(string, reason: "the value must be lowercase hex digits [0-9a-f]")
        }
        self.algorithm = algorithm
        self.encoded = hex
    }

    /// Builds a digest from parts already known to be valid (a hash just computed).
    init(algorithm: Algorithm, validatedHex: String) {
        self.algorithm = algorithm
        self.encoded = validatedHex
    }

    /// `algorithm:hex`.
    public var description: String { "\(algorithm.rawValue):\(encoded)" }

    /// The first 12 hex digits, as `docker images` shows an ID.
    public var shortHex: String { String(encoded.prefix(12)) }

    /// Computes the digest of `bytes` with `algorithm` (sha256 by default).
    public static func compute<D: DataProtocol>(_ bytes: D, algorithm: Algorithm = .sha256) -> Digest {
        var digester = Digester(algorithm: algorithm)
        digester.update(bytes)
        return digester.finalize()
    }

    /// Throws `OCIError.digestMismatch` unless `bytes` hash to this digest.
    public func verify<D: DataProtocol>(_ bytes: D, source: String) throws {
        let actual = Digest.compute(bytes, algorithm: algorithm)
        guard actual == self else {
            throw OCIError.digestMismatch(expected: self, actual: actual, source: source)
        }
    }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }
}

extension Digest: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(parsing: try container.decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// An incremental hash that produces a `Digest`; feed it while bytes stream past.
public struct Digester: Sendable {
    private enum State: Sendable {
        case sha256(SHA256)
        case sha512(SHA512)
    }

    private var state: State
    /// The algorithm in use.
    public let algorithm: Digest.Algorithm
    /// Bytes hashed so far.
    public private(set) var count: Int64 = 0

    /// A fresh digester for `algorithm`.
    public init(algorithm: Digest.Algorithm = .sha256) {
        self.algorithm = algorithm
        switch algorithm {
        case .sha256: state = .sha256(SHA256())
        case .sha512: state = .sha512(SHA512())
        }
    }

    /// Hashes more bytes.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        count += Int64(buffer.count)
        switch state {
        case .sha256(var h):
            h.update(bufferPointer: buffer)
            state = .sha256(h)
        case .sha512(var h):
            h.update(bufferPointer: buffer)
            state = .sha512(h)
        }
    }

    /// Hashes more bytes.
    public mutating func update<D: DataProtocol>(_ bytes: D) {
        for region in bytes.regions {
            region.withUnsafeBytes { update($0) }
        }
    }

    /// The digest of everything hashed so far.
    public func finalize() -> Digest {
        let hex: String
        switch state {
        case .sha256(let h): hex = Self.hex(h.finalize())
        case .sha512(let h): hex = Self.hex(h.finalize())
        }
        return Digest(algorithm: algorithm, validatedHex: hex)
    }

    private static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(128)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
