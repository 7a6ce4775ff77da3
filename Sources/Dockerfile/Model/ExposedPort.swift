/// One port an image says it listens on: what `EXPOSE 80`, `EXPOSE 53/udp` or
/// `EXPOSE 8000-8002` becomes in the image config (`80/tcp`, `53/udp`, `8000/tcp`...).
public struct ExposedPort: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The port number, 0-65535.
    public var port: Int
    /// `tcp`, `udp` or `sctp`, lowercased.
    public var transport: String

    /// Creates a port.
    public init(port: Int, transport: String = "tcp") {
        self.port = port
        self.transport = transport
    }

    /// `PORT/PROTOCOL`, the image config's key.
    public var description: String { "\(port)/\(transport)" }

    /// By port, then protocol.
    public static func < (lhs: ExposedPort, rhs: ExposedPort) -> Bool {
        (lhs.port, lhs.transport) < (rhs.port, rhs.transport)
    }

    /// The ports one expanded EXPOSE word names, as BuildKit reads it: `PORT[-END][/PROTO]`, a
    /// protocol in any case, and (accepted for compatibility, though meaningless for EXPOSE) a
    /// leading `[IP:]HOSTPORT:`, which is dropped.
    public static func parse(_ word: String, at location: DockerfileLocation) throws(DockerfileError) -> [ExposedPort] {
        func invalid(_ reason: String) -> DockerfileError {
            .invalidPort(value: word, reason: reason, at: location)
        }
        let parts = word.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let containerPart = parts[parts.count - 1]
        let hostPart = parts.count >= 2 ? parts[parts.count - 2] : ""
        let portText: Substring
        let transport: String
        if let slash = containerPart.firstIndex(of: "/") {
            portText = containerPart[..<slash]
            transport = String(containerPart[containerPart.index(after: slash)...]).lowercased()
        } else {
            portText = Substring(containerPart)
            transport = "tcp"
        }
        guard !portText.isEmpty else { throw invalid("no port number") }
        guard ["tcp", "udp", "sctp"].contains(transport) else { throw invalid("unknown protocol '\(transport)' (use tcp, udp or sctp)") }
        guard let (start, end) = range(String(portText)) else {
            throw invalid("'\(portText)' is not a port number or range from 0 to 65535")
        }
        if !hostPart.isEmpty {
            guard let (hostStart, hostEnd) = range(hostPart) else { throw invalid("'\(hostPart)' is not a host port or range") }
            if end - start != hostEnd - hostStart, end != start {
                throw invalid("the host and container port ranges differ in size")
            }
        }
        return (start...end).map { ExposedPort(port: $0, transport: transport) }
    }

    private static func range(_ text: String) -> (Int, Int)? {
        let pieces = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let start = number(pieces[0]) else { return nil }
        if pieces.count == 1 || pieces[1] == pieces[0] { return (start, start) }
        guard let end = number(pieces[1]), end >= start else { return nil }
        return (start, end)
    }

    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text),
              value <= 65535 else { return nil }
        return value
    }
}
