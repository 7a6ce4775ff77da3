import ArgumentParser
import Foundation
import OCI

struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Give an image in the store another name.",
        discussion: """
        Example:
          stackship tag hello:latest registry.example.com/team/hello:1.0
        """
    )

    @Argument(help: "The image to tag (reference or digest).")
    var source: String

    @Argument(help: "The new reference.")
    var target: String

    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try CLI.run {
            let store = try storeOptions.open(create: false)
            let entry = try store.resolve(source)
            let ref = try ImageReference(parsing: target)
            guard ref.digest == nil else {
                throw OCIError.invalidReference(target, reason: "a tag target cannot carry a digest; drop the @sha256:… part")
            }
            var descriptor = entry.descriptor
            descriptor.annotations?.removeValue(forKey: AnnotationKey.refName)
            if descriptor.annotations?.isEmpty ?? false { descriptor.annotations = nil }
            try store.tag(descriptor, as: ref)
        }
    }
}
