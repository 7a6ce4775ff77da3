import ArgumentParser
import Foundation
import OCI
import Registry

struct SaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Write images from the store to an archive file or an OCI layout directory.",
        discussion: """
        --format docker (the default) writes what `docker load` and skopeo's docker-archive: \
        read, with uncompressed layers; --format oci writes an OCI archive (skopeo's \
        oci-archive:), with the layers as stored. -o also takes skopeo's syntax: \
        oci:DIR[:REF] writes an OCI layout directory, oci-archive:PATH[:REF] and \
        docker-archive:PATH[:REF] an archive (REF: the name recorded). A multi-platform image is \
        saved whole unless --platform picks one. An archive appears only once complete.

        Examples:
          stackship save hello -o hello.tar
          stackship save hello:1.0 other:latest -o images.tar --format oci
          stackship save hello -o oci:./layout:latest
        """
    )

    @Argument(help: "The images to save.")
    var references: [String]

    @Option(name: .shortAndLong, help: "The archive (or oci:DIR, oci-archive:PATH, docker-archive:PATH) to write.")
    var output: String

    @Option(help: "docker or oci (for a plain path).")
    var format: ArchiveFormat = .docker

    @Option(help: "Save only this platform of a multi-platform image.")
    var platform: String?

    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        guard !references.isEmpty else { throw ValidationError("name at least one image to save, such as `stackship save hello -o hello.tar`") }
    }

    /// `-o`: a transport, else a path written in `format`.
    static func location(_ output: String, format: ArchiveFormat) throws -> ImageLocation {
        for prefix in ["oci:", "oci-archive:", "docker-archive:"] where output.hasPrefix(prefix) {
            return try ImageLocation(parsing: output, absolute: CLI.absolute)
        }
        let path = CLI.absolute(output)
        return format == .oci ? .ociArchive(path: path, reference: nil) : .dockerArchive(path: path, reference: nil)
    }

    func run() throws {
        let references = references, output = output, format = format, storeOptions = storeOptions
        let platforms: PlatformSelection = try platform.map { .one(try Platform(parsing: $0)) } ?? .all
        try AsyncCLI.run {
            let to = try Self.location(output, format: format)
            if case .layout = to, references.count > 1 {
                throw ValidationError("an oci: destination takes one image; save several into an archive (-o images.tar) instead")
            }
            let endpoints = ImageEndpoints(store: { try storeOptions.open(create: false) },
                                           client: { throw ValidationError("save writes files; use `stackship push` for registry \($0)") })
            let scratch = try endpoints.scratchDirectory([.store("")])
            // Named as the user named them; an image picked by digest keeps the name it has.
            let sources = try references.flatMap { try endpoints.sources(.store($0), scratch: scratch) }
            let destination = try endpoints.destination(to, scratch: scratch)
            try await ImageCopier.copy(sources, to: destination, options: CopyOptions(platforms: platforms))
            FileHandle.standardError.write(Data("saved \(references.count) image\(references.count == 1 ? "" : "s") to \(to)\n".utf8))
        }
    }
}

extension ArchiveFormat: ExpressibleByArgument {}
