import ArgumentParser
import Foundation
import OCI
import Registry

struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load images from an archive or an OCI layout directory into the store.",
        discussion: """
        Reads what `docker save`, `stackship save` and `skopeo copy … docker-archive:/oci-archive:/oci:` \
        write: a docker or OCI archive file, an OCI layout directory, or any source in skopeo's \
        syntax (oci:DIR:REF, oci-archive:PATH:REF, docker-archive:PATH:REF). Every blob is \
        verified against its digest, and every layer against the diffID its config names, \
        before an image is named. Images keep the names the archive gives them; a bare tag \
        (`latest`, as `skopeo copy … oci-archive:alpine.tar:latest` writes) is named after the \
        file (`alpine:latest`).

        Examples:
          stackship load hello.tar
          stackship load -i images.tar
          stackship load ./layout
          stackship load oci:./layout:1.0
        """
    )

    @Argument(help: "The archive, layout directory or source to read.")
    var file: String?

    @Option(name: [.short, .customLong("input")], help: "The archive to read (docker's spelling).")
    var input: String?

    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        guard (file ?? input) != nil else { throw ValidationError("name the archive to load, such as `stackship load hello.tar`") }
    }

    /// A source in skopeo's syntax when it starts with a transport; otherwise a path: an OCI
    /// layout when it is a directory, else an archive of either kind (read from its content).
    static func location(_ text: String) throws -> ImageLocation {
        for prefix in ["oci:", "oci-archive:", "docker-archive:"] where text.hasPrefix(prefix) {
            return try ImageLocation(parsing: text, absolute: CLI.absolute)
        }
        if text.hasPrefix("docker://") || text.hasPrefix("store:") {
            throw ValidationError("load reads files; use `stackship pull` (or `stackship copy`) for \(text)")
        }
        let path = CLI.absolute(text)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return .layout(path: path, reference: nil)
        }
        return .ociArchive(path: path, reference: nil)
    }

    func run() throws {
        let text = file ?? input!, storeOptions = storeOptions
        try AsyncCLI.run {
            let from = try Self.location(text)
            // Nothing here reaches a registry: `from` is a file or a directory.
            let endpoints = ImageEndpoints(store: { try storeOptions.open(create: true) },
                                           client: { throw ValidationError("load reads files; use `stackship pull` for registry \($0)") })
            let scratch = try endpoints.scratchDirectory([.store("")])
            let sources = try endpoints.sources(from, all: true, scratch: scratch)
            let destination = try endpoints.destination(.store(""), scratch: scratch, storeNaming: .fromSource)
            let copied = try await ImageCopier.copy(sources, to: destination, options: CopyOptions(platforms: .all))
            let roots = zip(sources, copied).map { ($0.references, $1.descriptor.digest) }
            for (references, digest) in roots {
                if references.isEmpty { print("Loaded image ID: \(digest)") }
                for reference in references { print("Loaded image: \(reference.familiar)") }
            }
        }
    }
}
