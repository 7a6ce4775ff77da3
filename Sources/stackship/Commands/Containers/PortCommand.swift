import ArgumentParser
import Foundation
import Runtime

/// `stackship port`: a container's published ports, as `docker port` prints them.
struct PortCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "port",
        abstract: "List a container's published ports, or the host address of one.",
        discussion: """
        Prints each mapping as docker does ('80/tcp -> 0.0.0.0:8090'); with PRIVATE_PORT, only the \
        host addresses that port is published on ('0.0.0.0:8090').

        Examples:
          stackship port hello
          stackship port hello 80/tcp
        """
    )

    @Argument(help: "The container: a name, an ID, or a unique ID prefix.")
    var container: String

    @Argument(help: ArgumentHelp("A port inside the container, optionally with /tcp.", valueName: "private-port[/proto]"))
    var privatePort: String?

    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try CLI.run {
            let wanted = try privatePort.map(Self.parse)
            let engine = try runtimeOptions.engine(storeOptions)
            let state = try engine.find(container)
            let lines = try Self.lines(state.ports, wanted: wanted, container: container)
            if !lines.isEmpty { print(lines.joined(separator: "\n")) }
        }
    }

    /// `80` or `80/tcp` → 80; another protocol is refused (only TCP is published).
    static func parse(_ text: String) throws -> Int {
        var number = Substring(text)
        if let slash = text.firstIndex(of: "/") {
            let proto = text[text.index(after: slash)...]
            guard proto == "tcp" else {
                throw ValidationError("'\(text)': only TCP ports are published (\(proto.isEmpty ? "no protocol after '/'" : "not \(proto)")); write 80 or 80/tcp")
            }
            number = text[..<slash]
        }
        guard let port = Int(number), (1...65535).contains(port), number.allSatisfy(\.isASCII) else {
            throw ValidationError("'\(text)' is not a port; write a number from 1 to 65535, optionally with /tcp, such as 80/tcp")
        }
        return port
    }

    /// docker's lines: every mapping in port order, or the host addresses of `wanted`.
    static func lines(_ ports: [PortMapping], wanted: Int?, container: String) throws -> [String] {
        let sorted = ports.sorted { ($0.containerPort, $0.hostIP, $0.hostPort) < ($1.containerPort, $1.hostIP, $1.hostPort) }
        guard let wanted else {
            return sorted.map { "\($0.containerPort)/tcp -> \(address($0))" }
        }
        let matching = sorted.filter { $0.containerPort == wanted }
        guard !matching.isEmpty else {
            throw ValidationError("no public port '\(wanted)/tcp' published for \(container)"
                                  + (ports.isEmpty ? " (it publishes none; publish with run -p HOST:\(wanted))" : " (it publishes \(Set(ports.map { "\($0.containerPort)/tcp" }).sorted().joined(separator: ", ")))"))
        }
        return matching.map(address)
    }

    /// `0.0.0.0:8090`, `[::1]:8090`.
    static func address(_ mapping: PortMapping) -> String {
        (mapping.hostIP.contains(":") ? "[\(mapping.hostIP)]" : mapping.hostIP) + ":\(mapping.hostPort)"
    }
}
