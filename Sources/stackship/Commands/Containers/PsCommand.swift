import ArgumentParser
import Foundation
import Runtime

struct PsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps",
        abstract: "List containers (running ones, or all with -a).",
        discussion: """
        Examples:
          stackship ps -a
          stackship ps --format '{{.Names}} {{.Status}} {{.Ports}}'
          stackship ps --format 'table {{.ID}}\\t{{.Names}}\\t{{.Ports}}'
        """
    )

    @Flag(name: [.customShort("a"), .long], help: "Show all containers, not only running ones.")
    var all = false

    @Flag(name: [.customShort("q"), .long], help: "Only print container IDs.")
    var quiet = false

    @Flag(name: .long, help: "Print JSON (one object per container, as stored).")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Print each container with a Go-template-like format, as docker does: {{.ID}}, {{.Names}}, {{.Image}}, {{.Command}}, {{.CreatedAt}}, {{.RunningFor}}, {{.Status}}, {{.State}}, {{.Ports}}, {{.Labels}}, {{.Networks}}, {{json .}}, 'table ...', or 'json'.", valueName: "template"))
    var format: String?

    static let formatFields = FormatTemplate.Fields(names: [
        ("ID", "CONTAINER ID"), ("Image", "IMAGE"), ("Command", "COMMAND"), ("CreatedAt", "CREATED AT"), ("RunningFor", "CREATED"),
        ("Status", "STATUS"), ("State", "STATE"), ("Ports", "PORTS"), ("Names", "NAMES"), ("Labels", "LABELS"), ("Networks", "NETWORKS"),
    ], command: "ps")

    func validate() throws {
        if format != nil && (json || quiet) { throw ValidationError("--format cannot be combined with \(json ? "--json" : "-q")") }
        if let format { _ = try FormatTemplate(format, fields: Self.formatFields) }
    }

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
            if let format, case let template = try FormatTemplate(format, fields: Self.formatFields), !template.parts.isEmpty {
                let text = template.output(containers.map(Self.formatValues), fields: Self.formatFields)
                if !text.isEmpty { print(text) }
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

    /// A container's values for --format, in docker's words.
    static func formatValues(_ c: ContainerState) -> [String: String] {
        var command = c.command.joined(separator: " ")
        if command.count > 20 { command = String(command.prefix(19)) + "…" }
        return [
            "ID": String(c.id.prefix(12)), "Image": c.image, "Command": "\"\(command)\"",
            "CreatedAt": ImagesCommand.dockerDate(c.created), "RunningFor": ago(c.created),
            "Status": c.statusText(), "State": c.status.rawValue,
            "Ports": c.ports.map(\.description).joined(separator: ", "), "Names": c.name,
            "Labels": c.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
            "Networks": c.network.rawValue,
        ]
    }

    static func ago(_ date: Date) -> String {
        let s = Int(max(0, Date().timeIntervalSince(date)))
        if s < 60 { return "\(s) seconds ago" }
        if s < 3600 { return "\(s / 60) minutes ago" }
        if s < 86400 { return "\(s / 3600) hours ago" }
        return "\(s / 86400) days ago"
    }
}
