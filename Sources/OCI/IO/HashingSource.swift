import Support
/// Hashes what is read through it: the uncompressed tar of a layer, for its diffID, while a
/// reader (unpacking, checking entries) consumes it.
public final class HashingSource: ByteSource {
    private let inner: ByteSource
    private var digester = Digester()

    public init(_ inner: ByteSource) { self.inner = inner }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try inner.read(into: buffer)
        if n > 0 { digester.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) }
        return n
    }

    /// Reads to the end (a tar's trailing padding counts towards its diffID).
    public func drain() throws { try copy(to: NullSink()) }

    /// The digest of everything read so far.
    public var digest: Digest { digester.finalize() }
}
