import ArgumentParser
import Foundation
import OCI
import Registry

struct TagsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tags",
        abstract: "List the tags of a repository in a registry.",
        discussion: """
        Examples:
          stackship tags localhost:5000/team/hello
          stackship tags busybox
        """
    )

    @Argument(help: "The repository (a reference; any tag is ignored).")
    var repository: String

    @OptionGroup var registryOptions: RegistryOptions

    func run() throws {
        let repository = repository, registryOptions = registryOptions
        try AsyncCLI.run {
            let ref = try ImageReference(parsing: repository)
            let tags = try await registryOptions.withClient(for: ref.registry) { try await $0.tags(ref.repository) }
            for tag in tags { print(tag) }
        }
    }
}
