import ArgumentParser
import Foundation
import Runtime

/// The per-container monitor `run` starts (not for direct use): see ContainerMonitor.
struct MonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_monitor",
        abstract: "Internal: stay with a container, relay its ports, record its exit.",
        shouldDisplay: false
    )

    /// The host state directory the container lives in.
    @Option(name: .long) var state: String
    @Option(name: .long) var ports: Int = 0
    /// The container's stdin follows the listening sockets (`run -i`).
    @Flag(name: .long) var stdin = false
    @Argument var id: String

    func run() throws {
        let engine = ContainerEngine(stateDirectory: state, stores: [], monitorExecutable: RuntimeOptions.selfExecutable)
        let code = ContainerMonitor.run(engine: engine, id: id, listenerFDs: (0..<ports).map { Int32(5 + $0) },
                                         stdinFD: stdin ? Int32(5 + ports) : nil)
        if code != 0 { throw ExitCode(code) }
    }
}
