import ArgumentParser
import Foundation
import OCI
import Registry

struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push an image from the local store to a registry.",
        discussion: """
        DEST defaults to REF itself, so an image tagged with its registry name pushes there. \
        Blobs the registry already has are not sent again.

        Examples:
          stackship push localhost:5000/team/hello:1.0
          stackship push hello ghcr.io/owner/hello:1.0
          stackship push hello registry.internal/hello:1 --ca-cert internal-ca.pem
        """
    )

    @Argument(help: "The image in the local store.")
    var reference: String

    @Argument(help: "Where to push it (default: REF).")
    var destination: String?

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        let reference = reference, destination = destination, registryOptions = registryOptions, storeOptions = storeOptions
        try AsyncCLI.run {
            let store = try storeOptions.open(create: false)
            let entry = try store.resolve(reference)
            let target = try ImageReference(parsing: destination ?? reference)
            let view = TransferView(verb: "push")
            let pushed = try await registryOptions.withClient(for: target.registry) { client in
                try await ImageTransfer.push(entry.descriptor, from: store, to: target, client: client,
                                             options: TransferOptions(jobs: registryOptions.jobs)) { view.handle($0) }
            }
            print("\(target.familiar)@\(pushed.digest)")
        }
    }
}
