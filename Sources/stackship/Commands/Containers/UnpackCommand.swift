import ArgumentParser
import Foundation
import Support
import OCI
import Runtime

struct UnpackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unpack",
        abstract: "Unpack an image's root file system into a directory (as umoci unpack's rootfs).",
        discussion: """
        Layers are applied in order with OCI whiteouts; nothing is written outside the \
        directory (symlinks resolve inside it; .., absolute paths and hardlinks out are \
        refused, and no mode or owner is ever set through a link), and every layer is checked \
        against its digest and diffID as it streams. Device nodes are left out unless \
        --devices is given (as root). The directory appears whole or not at all; what an \
        interrupted unpack left beside it is removed by the next one.

        Examples:
          stackship unpack hello ./hello-root
          stackship unpack --platform linux/arm64 app:1 /tmp/app
        """
    )

    @Argument(help: "The image: a reference or ID in the store.")
    var image: String

    @Argument(help: "The directory to create (must not exist).")
    var directory: String

    @Option(help: "The platform to take from a multi-platform image (default: this host's).")
    var platform: String?

    @Flag(help: "Create the image's device nodes too (needs root). Without it they are skipped.")
    var devices = false

    @OptionGroup var storeOptions: StoreOptions

    static let stagingPrefix = ".stackship-unpack-"

    func run() throws {
        try CLI.run {
            let store = try storeOptions.open(create: false)
            let entry = try store.resolve(image)
            let manifest = try store.manifest(for: entry.descriptor, platform: try platform.map { try Platform(parsing: $0) } ?? .host)
            let config = try store.config(of: manifest)
            let target = CLI.absolute(directory)
            guard !FileIO.exists(target) else {
                throw ValidationError("\(directory) already exists; give a new directory to unpack into")
            }
            // Unpacked beside the target and renamed into place: a failure leaves no partial root.
            let parent = FileIO.split(target).directory
            StagingDirectory.removeAbandoned(in: parent, prefix: Self.stagingPrefix)
            let staging = try StagingDirectory(in: parent, prefix: Self.stagingPrefix)
            do {
                try ImageUnpacker.unpack(manifest, config: config, from: store, into: staging.path + "/rootfs",
                                         policy: .imageLayers(devices: devices ? .create : .skip))
                guard try staging.commit("rootfs", to: target) else {
                    throw ValidationError("\(directory) appeared while unpacking; give a new directory to unpack into")
                }
            } catch {
                staging.remove()
                throw error
            }
        }
    }
}
