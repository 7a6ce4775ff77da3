import ArgumentParser
import Foundation
import Runtime

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop running containers: the stop signal (SIGTERM unless the image sets one), then SIGKILL after --time."
    )

    @Option(name: [.customShort("t"), .long], help: "Seconds to wait before killing the container.")
    var time: Double = 10

    @Option(name: [.customShort("s"), .long], help: "The signal to send first (default: the image's stop signal, else SIGTERM).")
    var signal: String?

    @Argument(help: "Containers: names, IDs, or unique ID prefixes.")
    var containers: [String]

    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try CLI.run {
            let engine = try runtimeOptions.engine(storeOptions)
            try CLI.forEach(containers) { _ = try engine.stop($0, timeout: time, signal: signal) }
        }
    }
}
