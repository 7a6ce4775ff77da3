import ArgumentParser
import Foundation
import OCI
import Registry

struct CopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy an image between registries, the local store, OCI layouts and archive files.",
        discussion: """
        SRC and DEST use skopeo's syntax: docker://REF (or a bare REF) for a registry, \
        oci:DIR[:REF] for an OCI image layout directory (REF is its ref name, as skopeo and \
        umoci write it), oci-archive:PATH[:REF] and docker-archive:PATH[:REF] for archive \
        files, and store:REF for the local store. Registry to registry streams blobs through \
        without a local copy (and mounts them when both are on one registry); a local copy \
        links blobs instead of copying them when both ends are on one file system. Every blob \
        is checked against its digest and, where images are kept, every layer against its \
        diffID before the image is named.

        Examples:
          stackship copy docker://localhost:5000/a:1 docker://localhost:5000/b:1
          stackship copy ghcr.io/o/app:2 registry.internal/app:2 --all
          stackship copy store:hello oci:./layout:latest
          stackship copy oci:./layout:latest store:hello:2
          stackship copy store:hello oci-archive:hello.tar
          stackship copy docker-archive:hello.tar localhost:5000/hello:1
        """
    )

    @Argument(help: "Where the image is.")
    var source: String

    @Argument(help: "Where to put it.")
    var destination: String

    @OptionGroup var platformOptions: PlatformOptions
    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        let source = source, destination = destination, platformOptions = platformOptions
        let registryOptions = registryOptions, storeOptions = storeOptions
        try AsyncCLI.run {
            let from = try ImageLocation(parsing: source, absolute: CLI.absolute)
            let to = try ImageLocation(parsing: destination, absolute: CLI.absolute)
            let options = try platformOptions.transfer(jobs: registryOptions.jobs).copy
            let view = TransferView(verb: "copy")
            let root = try await registryOptions.withEndpoints(storeOptions) { endpoints in
                let scratch = try endpoints.scratchDirectory([from, to])
                let sources = try endpoints.sources(from, scratch: scratch)
                let target = try endpoints.destination(to, scratch: scratch)
                return try await ImageCopier.copy(sources, to: target, options: options) { view.handle($0) }[0]
            }
            print("\(to)@\(root.descriptor.digest)")
        }
    }
}
