import ArgumentParser
import Foundation
import OCI
import Registry

struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Pull an image from a registry into the local store.",
        discussion: """
        From a multi-platform index, the image for this host's platform is pulled unless \
        --platform names another, or --all keeps the whole index. Every blob is checked against \
        its digest as it streams; nothing corrupt reaches the store.

        Examples:
          stackship pull busybox
          stackship pull localhost:5000/team/hello:1.0
          stackship pull ghcr.io/owner/app:2 --platform linux/arm64
        """
    )

    @Argument(help: "The image to pull.")
    var reference: String

    @OptionGroup var platformOptions: PlatformOptions
    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        let reference = reference, platformOptions = platformOptions, registryOptions = registryOptions, storeOptions = storeOptions
        try AsyncCLI.run {
            let source = try ImageReference(parsing: reference)
            let options = try platformOptions.transfer(jobs: registryOptions.jobs)
            let store = try storeOptions.open(create: true)
            let view = TransferView(verb: "pull")
            let pulled = try await registryOptions.withClient(for: source.registry) { client in
                try await store.withAsyncWriteSession {
                    try await ImageTransfer.pull(source, client: client, into: store, options: options) { view.handle($0) }
                }
            }
            print("\(source.familiar): \(pulled.digest)")
        }
    }
}
