import ArgumentParser
import Foundation
import OCI

struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load images from a docker or OCI archive into the store.",
        discussion: """
        Reads what `docker save`, `stackship save` and `skopeo copy … docker-archive:/oci-archive:` \
        write. Every blob is verified against its digest, and every layer against the diffID its \
        config names, before the image is tagged.

        Examples:
          stackship load hello.tar
          stackship load -i images.tar
        """
    )

    @Argument(help: "The archive to read.")
    var file: String?

    @Option(name: [.short, .customLong("input")], help: "The archive to read (docker's spelling).")
    var input: String?

    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        guard (file ?? input) != nil else { throw ValidationError("name the archive to load, such as `stackship load hello.tar`") }
    }

    func run() throws {
        try CLI.run {
            let path = CLI.absolute(file ?? input!)
            let store = try storeOptions.open(create: true)
            // Named inside the write session, so `gc` cannot remove the blobs in between.
            let lines: [String] = try store.withWriteSession {
                var lines: [String] = []
                for image in try ImageArchive.load(path, into: store).images {
                    if image.references.isEmpty {
                        // Kept reachable by an untagged entry, so `gc` does not remove it.
                        try store.updateIndex { index in
                            if !index.manifests.contains(where: { $0.digest == image.descriptor.digest }) { index.manifests.append(image.descriptor) }
                        }
                        lines.append("Loaded image ID: \(image.descriptor.digest)")
                    }
                    for ref in image.references {
                        try store.tag(image.descriptor, as: ref)
                        lines.append("Loaded image: \(ref.familiar)")
                    }
                }
                return lines
            }
            for line in lines { print(line) }
        }
    }
}
