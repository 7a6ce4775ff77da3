import ArgumentParser
import Foundation
import OCI
import Runtime

/// The per-container monitor `run` starts (not for direct use): see ContainerMonitor.
struct MonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_monitor",
        abstract: "Internal: stay with a container, relay its ports, record its exit.",
        shouldDisplay: false
    )

    @Option(name: .long) var store: String
    @Option(name: .long) var ports: Int = 0
    /// The container's stdin follows the listening sockets (`run -i`).
    @Flag(name: .long) var stdin = false
    @Argument var id: String

    func run() throws {
        let engine = try ContainerEngine(store: try OCILayoutStore(root: store, create: false), monitorExecutable: RuntimeOptions.selfExecutable)
        let code = ContainerMonitor.run(engine: engine, id: id, listenerFDs: (0..<ports).map { Int32(5 + $0) },
                                         stdinFD: stdin ? Int32(5 + ports) : nil)
        if code != 0 { throw ExitCode(code) }
    }
}
