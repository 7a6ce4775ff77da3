import ArgumentParser
import Foundation
import OCI

struct LayerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layer",
        abstract: "Write one reproducible layer blob from a directory or file.",
        discussion: """
        Prints the layer's digest, diffID and size. Owners become 0:0 and mtimes are clamped \
        to SOURCE_DATE_EPOCH (0 by default), so the same tree always gives the same digest.

        Example:
          stackship layer ./rootfs -o layer.tar.gz
          stackship layer ./bin/app --destination /usr/local/bin/app --compression zstd -o app.tar.zst
        """
    )

    @Argument(help: "The directory or file to put in the layer.")
    var source: String

    @Option(name: .shortAndLong, help: "Where to write the layer blob.")
    var output: String

    @Option(help: "Path inside the image where the source lands.")
    var destination: String = "/"

    @Option(help: "gzip, zstd or none.")
    var compression: Compression = .gzip

    @Option(help: "Compression level (gzip 1-9, default 6; zstd 1-19, default 3).")
    var level: Int?

    @Option(help: "Compression threads (0: one per core). The output never depends on it.")
    var threads: Int = 0

    func run() throws {
        try CLI.run {
            let options = LayerOptions(compression: compression, level: level, threads: threads, epoch: try LayerOptions.sourceDateEpoch())
            let source = LayerSource(source: CLI.absolute(source), destination: destination)
            let progress = ProgressLine()
            let layer = try LayerBuilder.build([source], options: options, toFile: CLI.absolute(output)) { p in
                progress.status("layer: \(Format.bytes(p.bytesDone))/\(Format.bytes(p.bytesTotal)), \(p.filesDone)/\(p.filesTotal) files", throttled: true)
            }
            progress.clear()
            print("digest: \(layer.descriptor.digest)")
            print("diffID: \(layer.diffID)")
            print("size: \(layer.descriptor.size)")
            print("uncompressed: \(layer.uncompressedSize)")
            print("entries: \(layer.entryCount)")
        }
    }
}

extension Compression: ExpressibleByArgument {}
