import ArgumentParser
import Foundation
import OCI

struct SaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Write images from the store to an archive file.",
        discussion: """
        --format docker (the default) writes what `docker load` and skopeo's docker-archive: \
        read, with uncompressed layers; --format oci writes an OCI archive (skopeo's \
        oci-archive:), with the layers as stored. The file appears only once complete.

        Examples:
          stackship save hello -o hello.tar
          stackship save hello:1.0 other:latest -o images.tar --format oci
        """
    )

    @Argument(help: "The images to save.")
    var references: [String]

    @Option(name: .shortAndLong, help: "The archive to write.")
    var output: String

    @Option(help: "docker or oci.")
    var format: ArchiveFormat = .docker

    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        guard !references.isEmpty else { throw ValidationError("name at least one image to save, such as `stackship save hello -o hello.tar`") }
    }

    func run() throws {
        try CLI.run {
            let store = try storeOptions.open(create: false)
            var images: [ArchiveImage] = []
            for reference in references {
                let entry = try store.resolve(reference)
                // Named as the user named it; an image picked by digest keeps the name it has.
                let name = entry.matchedReference ?? entry.name.flatMap { try? ImageReference(parsing: $0) }
                images.append(ArchiveImage(descriptor: entry.descriptor, references: name.map { [$0] } ?? []))
            }
            try ImageArchive.save(images, from: store, format: format, to: CLI.absolute(output))
            FileHandle.standardError.write(Data("saved \(images.count) image\(images.count == 1 ? "" : "s") to \(output) (\(format.rawValue) archive)\n".utf8))
        }
    }
}

extension ArchiveFormat: ExpressibleByArgument {}
