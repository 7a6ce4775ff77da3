import ArgumentParser
import Foundation
import Runtime

struct PsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps",
        abstract: "List containers (running ones, or all with -a)."
    )

    @Flag(name: [.customShort("a"), .long], help: "Show all containers, not only running ones.")
    var all = false

    @Flag(name: [.customShort("q"), .long], help: "Only print container IDs.")
    var quiet = false

    @Flag(name: .long, help: "Print JSON (one object per container, as stored).")
    var json = false

    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try CLI.run {
            let engine = try runtimeOptions.engine(storeOptions)
            let containers = try engine.list().filter { all || $0.status == .running }.reversed()
            if json {
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = .iso8601
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(Array(containers)), as: UTF8.self))
                return
            }
            if quiet {
                for c in containers { print(c.id.prefix(12)) }
                return
            }
            var rows = [["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]]
            for c in containers {
                var command = c.command.joined(separator: " ")
                if command.count > 20 { command = String(command.prefix(19)) + "…" }
                rows.append([
                    String(c.id.prefix(12)), c.image, "\"\(command)\"", Self.ago(c.created), c.statusText(),
                    c.ports.map(\.description).joined(separator: ", "), c.name,
                ])
            }
            print(Table.render(rows))
        }
    }

    static func ago(_ date: Date) -> String {
        let s = Int(max(0, Date().timeIntervalSince(date)))
        if s < 60 { return "\(s) seconds ago" }
        if s < 3600 { return "\(s / 60) minutes ago" }
        if s < 86400 { return "\(s / 3600) hours ago" }
        return "\(s / 86400) days ago"
    }
}
