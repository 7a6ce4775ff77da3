import ArgumentParser
import Foundation
import OCI

struct ImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "List the images in the local store.",
        discussion: """
        IMAGE ID is the config digest, as docker shows it; --digests adds the manifest digest.

        Examples:
          stackship images
          stackship images --digests
          stackship images -q
          stackship images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
          stackship images --format 'table {{.Repository}}\\t{{.Tag}}\\t{{.Size}}'
        """
    )

    @Flag(name: .long, help: "Show manifest digests.")
    var digests = false

    @Flag(name: .shortAndLong, help: "Only show manifest digests.")
    var quiet = false

    @Flag(name: .long, help: "Print JSON, one object per image.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Print each image with a Go-template-like format, as docker does: {{.Repository}}, {{.Tag}}, {{.ID}}, {{.Digest}}, {{.CreatedAt}}, {{.CreatedSince}}, {{.Size}}, {{json .}}, 'table ...', or 'json'.", valueName: "template"))
    var format: String?

    static let formatFields = FormatTemplate.Fields(names: [
        ("Repository", "REPOSITORY"), ("Tag", "TAG"), ("ID", "IMAGE ID"), ("Digest", "DIGEST"),
        ("CreatedAt", "CREATED AT"), ("CreatedSince", "CREATED"), ("Size", "SIZE"),
    ], command: "images")

    func validate() throws {
        if format != nil && (json || quiet) { throw ValidationError("--format cannot be combined with \(json ? "--json" : "-q")") }
        if let format { _ = try FormatTemplate(format, fields: Self.formatFields) }
    }

    @OptionGroup var storeOptions: StoreOptions

    struct Row: Encodable {
        var repository: String
        var tag: String
        var digest: String
        var imageID: String
        var created: String
        var size: Int64
    }

    func run() throws {
        try CLI.run {
            let template = try format.map { try FormatTemplate($0, fields: Self.formatFields) }
            let path = storeOptions.path()
            guard FileManager.default.fileExists(atPath: path + "/oci-layout") else {
                if let template {
                    if template.table { print(template.parts.isEmpty ? header() : template.output([], fields: Self.formatFields)) }
                    return
                }
                if !quiet && !json { print(header()) }
                if json { print("[]") }
                return
            }
            let store = try storeOptions.open(create: false)
            var rows: [Row] = []
            for entry in try store.entries() {
                let ref = entry.name.flatMap { try? ImageReference(parsing: $0) }
                var imageID = "", created = ""
                let manifest = try? store.manifest(for: entry.descriptor)
                let size = Self.size(of: entry.descriptor, manifest: manifest)
                if let manifest {
                    imageID = manifest.config.digest.description
                    if let config = try? store.config(of: manifest) { created = config.created ?? "" }
                }
                rows.append(Row(repository: ref?.familiarName ?? "<none>", tag: ref?.tag ?? "<none>",
                                digest: entry.descriptor.digest.description, imageID: imageID, created: created, size: size))
            }
            rows.sort { ($0.repository, $0.tag) < ($1.repository, $1.tag) }
            if json {
                print(String(decoding: try CanonicalJSON.pretty(rows), as: UTF8.self))
                return
            }
            if quiet {
                for r in rows { print(r.digest) }
                return
            }
            if let template, !template.parts.isEmpty {
                let text = template.output(rows.map(Self.formatValues), fields: Self.formatFields)
                if !text.isEmpty { print(text) }
                return
            }
            var table = [headerColumns()]
            for r in rows {
                var cols = [r.repository, r.tag]
                if digests { cols.append(r.digest) }
                cols += [String(r.imageID.dropFirst(7).prefix(12)), r.created, Format.bytes(r.size)]
                table.append(cols)
            }
            print(Table.render(table))
        }
    }

    /// A row's values for --format, in docker's words (`ID` is the short image ID).
    static func formatValues(_ r: Row) -> [String: String] {
        let created = r.created.isEmpty ? nil : ISO8601DateFormatter().date(from: r.created)
        return [
            "Repository": r.repository, "Tag": r.tag, "ID": String(r.imageID.dropFirst(7).prefix(12)), "Digest": r.digest,
            "CreatedAt": created.map(Self.dockerDate) ?? r.created,
            "CreatedSince": created.map { PsCommand.ago($0) } ?? "N/A", "Size": Format.bytes(r.size),
        ]
    }

    /// docker's `CreatedAt`: `2026-12-05 08:03:18 +0000 UTC`.
    static func dockerDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss Z 'UTC'"
        return formatter.string(from: date)
    }

    /// An image's size as `images` shows it (and `build` reports it): the manifest, its config
    /// and every layer, the base's included, compressed as stored.
    static func size(of descriptor: Descriptor, manifest: Manifest?) -> Int64 {
        descriptor.size + (manifest.map { $0.config.size + $0.layers.reduce(0) { $0 + $1.size } } ?? 0)
    }

    private func headerColumns() -> [String] {
        digests ? ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"] : ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
    }

    private func header() -> String { Table.render([headerColumns()]) }
}

enum Table {
    static func render(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var widths = Array(repeating: 0, count: first.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            r.enumerated().map { i, c in i == r.count - 1 ? c : c.padding(toLength: widths[i] + 3, withPad: " ", startingAt: 0) }.joined()
        }.joined(separator: "\n")
    }
}
