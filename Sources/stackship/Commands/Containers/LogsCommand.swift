import ArgumentParser
import Foundation
import Runtime

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Show a container's output (stdout and stderr, as written)."
    )

    @Flag(name: [.customShort("f"), .long], help: "Keep following the output until the container exits.")
    var follow = false

    @Option(name: [.customShort("n"), .long], help: "Show only this many lines from the end.")
    var tail: Int?

    @Argument(help: "The container: name, ID, or unique ID prefix.")
    var container: String

    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try CLI.run {
            let engine = try runtimeOptions.engine(storeOptions)
            let state = try engine.find(container)
            try LogFollower.follow(engine, state.id, tail: tail, follow: follow, to: FileHandle.standardOutput)
        }
    }
}
