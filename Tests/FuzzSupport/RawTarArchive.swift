/// A tar archive assembled from raw headers and content, for streams TarWriter never writes.
public struct RawTarArchive {
    /// The bytes so far (no end blocks until `finished()`).
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// Appends a header and its content, padded to the block size.
    public mutating func append(_ header: RawTarHeader, content: [UInt8] = []) {
        bytes += header.bytes
        bytes += content
        let rem = content.count % 512
        if rem != 0 { bytes += [UInt8](repeating: 0, count: 512 - rem) }
    }

    /// Appends an extended header (`x` or `g` PAX records, `L` or `K` GNU long name) of `content`.
    public mutating func appendExtended(type: Character, content: [UInt8], format: RawTarHeader.Format = .posix) {
        let name = type == "L" || type == "K" ? "././@LongLink" : "PaxHeaders/entry"
        append(RawTarHeader(name: name, type: type, size: Int64(content.count), format: format), content: content)
    }

    /// Appends a PAX `x` header holding `records`.
    public mutating func appendPAX(_ records: [(String, String)], global: Bool = false) {
        appendExtended(type: global ? "g" : "x", content: records.flatMap { RawTarHeader.paxRecord($0.0, $0.1) })
    }

    /// The archive with its two end blocks.
    public func finished() -> [UInt8] { bytes + [UInt8](repeating: 0, count: 1024) }
}
