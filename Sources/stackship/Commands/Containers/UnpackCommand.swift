import ArgumentParser
import Foundation
import OCI
import Runtime

struct UnpackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unpack",
        abstract: "Unpack an image's root file system into a directory (as umoci unpack's rootfs).",
        discussion: """
        Layers are applied in order with OCI whiteouts; nothing is written outside the \
        directory (symlinks resolve inside it; .., absolute paths and hardlinks out are \
        refused), and every layer is checked against its digest and diffID as it streams.

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
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try CLI.run {
            let store = try storeOptions.open(create: false)
            let entry = try store.resolve(image)
            let manifest = try store.manifest(for: entry.descriptor, platform: try platform.map { try Platform(parsing: $0) } ?? .host)
            let config = try store.config(of: manifest)
            let target = CLI.absolute(directory)
            guard !FileManager.default.fileExists(atPath: target) else {
                throw ValidationError("\(directory) already exists; give a new directory to unpack into")
            }
            // Unpacked beside the target and renamed into place: a failure leaves no partial root.
            let staging = (target as NSString).deletingLastPathComponent + "/.stackship-unpack-\(FileIO.randomSuffix())"
            do {
                try ImageUnpacker.unpack(manifest, config: config, from: store, into: staging)
                try FileManager.default.moveItem(atPath: staging, toPath: target)
            } catch {
                try? FileManager.default.removeItem(atPath: staging)
                throw error
            }
        }
    }
}
