import ArgumentParser
struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gc", abstract: "TODO")
}
