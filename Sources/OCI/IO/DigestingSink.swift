import Foundation
import Support

/// Hashes what passes through and counts it, then forwards to `next` (if any).
public final class DigestingSink: ByteSink {
    public private(set) var digester: Digester
    private let next: ByteSink?

    public init(algorithm: Digest.Algorithm = .sha256, next: ByteSink?) {
        self.digester = Digester(algorithm: algorithm)
        self.next = next
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        digester.update(bytes)
        try next?.write(bytes)
    }

    public func finish() throws { try next?.finish() }

    /// The digest of everything written.
    public var digest: Digest { digester.finalize() }
    /// How many bytes were written.
    public var count: Int64 { digester.count }
}
