import ArgumentParser
struct RmiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rmi", abstract: "TODO")
}
