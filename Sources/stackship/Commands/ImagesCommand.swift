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
        """
    )

    @Flag(name: .long, help: "Show manifest digests.")
    var digests = false

    @Flag(name: .shortAndLong, help: "Only show manifest digests.")
    var quiet = false

    @Flag(name: .long, help: "Print JSON, one object per image.")
    var json = false

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
            let path = storeOptions.path()
            guard FileManager.default.fileExists(atPath: path + "/oci-layout") else {
                if !quiet && !json { print(header()) }
                if json { print("[]") }
                return
            }
            let store = try storeOptions.open(create: false)
            var rows: [Row] = []
            for entry in try store.entries() {
                let ref = entry.name.flatMap { try? ImageReference(parsing: $0) }
                var imageID = "", created = ""
                var size = entry.descriptor.size
                if let manifest = try? store.manifest(for: entry.descriptor) {
                    imageID = manifest.config.digest.description
                    size += manifest.config.size + manifest.layers.reduce(0) { $0 + $1.size }
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
