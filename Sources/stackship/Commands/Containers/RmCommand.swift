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
            var failed = false
            for c in containers {
                do {
                    try engine.remove(c, force: force)
                    print(c)
                } catch {
                    FileHandle.standardError.write(Data("error: \(CLI.describe(error))\n".utf8))
                    failed = true
                }
            }
            if failed { throw ExitCode.failure }
        }
    }
}
