import ArgumentParser
import Foundation
import Runtime

struct RmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove containers, with their writable layer, mounts and network namespace."
    )

    @Flag(name: [.customShort("f"), .long], help: "Kill running containers first.")
    var force = false

    @Argument(help: "Containers: names, IDs, or unique ID prefixes.")
    var containers: [String]

    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try CLI.run {
            let engine = try runtimeOptions.engine(storeOptions)
            try CLI.forEach(containers) { try engine.remove($0, force: force) }
        }
    }
}
