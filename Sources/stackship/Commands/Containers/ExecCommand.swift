import ArgumentParser
import Foundation
import Runtime

struct ExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command in a running container; exits with the command's exit code.",
        discussion: """
        Examples:
          stackship exec hello /bin/sh -c 'ls /'
          stackship exec -e DEBUG=1 -w /tmp hello env
        """
    )

    @Option(name: [.customShort("e"), .long], help: ArgumentHelp("Set an environment variable (NAME=VALUE).", valueName: "env"))
    var env: [String] = []

    @Option(name: [.customShort("w"), .long], help: "The working directory inside the container.")
    var workdir: String?

    @Option(name: [.customShort("u"), .long], help: "The user: name or uid, optionally :group or :gid.")
    var user: String?

    @Argument(help: "The container: name, ID, or unique ID prefix.")
    var container: String

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.")
    var command: [String] = []

    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try CLI.run {
            let engine = try runtimeOptions.engine(storeOptions)
            let environment = try env.map { try EnvFile.entry($0, source: "-e") }
            let code = try engine.exec(container, command: command, environment: environment, workdir: workdir, user: user)
            if code != 0 { throw ExitCode(code) }
        }
    }
}
