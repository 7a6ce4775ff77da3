import ArgumentParser
import Foundation
import OCI
import Stack

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build the images of a stack file into the local store.",
        discussion: """
        Each image's layers are written as reproducible tar layers: the same sources give the \
        same digests on any machine (owners 0:0, mtimes clamped to SOURCE_DATE_EPOCH or 0, \
        entries sorted). The store is updated atomically: an interrupted build leaves it as it was.

        Examples:
          stackship build                      # ./stack.yaml, every image
          stackship build deploy/stack.yaml --image hello
          SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) stackship build
        """
    )

    @Argument(help: "The stack file.")
    var stack: String = "stack.yaml"

    @Option(name: .long, help: "Build only this image (repeat for several).")
    var image: [String] = []

    @Option(help: "Compression threads per layer (0: one per core). The output never depends on it.")
    var threads: Int = 0

    @Option(help: "Compression level override (gzip 1-9, zstd 1-19).")
    var level: Int?

    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try CLI.run {
            let file = try StackFile.load(path: stack)
            let selected = image.isEmpty ? file.images : try image.map { try file.image(named: $0) }
            let store = try storeOptions.open(beside: file.directory, create: true)
            let options = AssemblyOptions(epoch: try LayerOptions.sourceDateEpoch(), threads: threads, level: level)
            let view = BuildView()
            for spec in selected {
                let built = try ImageAssembler.build(spec, stack: file, store: store, options: options) { view.show($0) }
                let size = built.layers.reduce(Int64(0)) { $0 + $1.descriptor.size }
                print("\(built.name): \(built.manifest.digest)  \(built.tags.map(\.familiar).joined(separator: ", "))  (\(built.layers.count) layer\(built.layers.count == 1 ? "" : "s"), \(Format.bytes(size)))")
            }
        }
    }
}

/// Renders build events: a redrawn status line on a terminal, plain lines in CI.
final class BuildView {
    private let progress = ProgressLine()

    func show(_ event: BuildEvent) {
        switch event {
        case let .imageStarted(name, layers):
            progress.plain("\(name): building (\(layers) layer\(layers == 1 ? "" : "s"))")
        case let .baseResolved(name, base, digest):
            progress.plain("\(name): base \(base)\(digest.map { " (\($0.shortHex))" } ?? "")")
        case let .layerStarted(name, index, total, source):
            progress.status("\(name): layer \(index + 1)/\(total) \(source)")
        case let .layerProgress(name, index, p):
            progress.status("\(name): layer \(index + 1) \(Format.bytes(p.bytesDone))/\(Format.bytes(p.bytesTotal)), \(p.filesDone)/\(p.filesTotal) files", throttled: true)
        case let .layerFinished(name, index, layer):
            progress.plain("\(name): layer \(index + 1) \(layer.descriptor.digest.shortHex) \(Format.bytes(layer.descriptor.size)) (\(layer.entryCount) entries)")
        case .imageFinished:
            progress.clear()
        }
    }
}

/// One status line on stderr: redrawn in place on a terminal; in CI only `plain` lines and
/// a throttled status every few seconds are printed.
final class ProgressLine {
    private var drawn = false
    private var lastPlainStatus = Date.distantPast

    func status(_ text: String, throttled: Bool = false) {
        if CLI.isTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
            drawn = true
        } else if !throttled || Date().timeIntervalSince(lastPlainStatus) >= 5 {
            lastPlainStatus = Date()
            FileHandle.standardError.write(Data("\(text)\n".utf8))
        }
    }

    func plain(_ text: String) {
        clear()
        FileHandle.standardError.write(Data("\(text)\n".utf8))
    }

    func clear() {
        if drawn {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            drawn = false
        }
    }
}

enum Format {
    static func bytes(_ n: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(n)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }
}
