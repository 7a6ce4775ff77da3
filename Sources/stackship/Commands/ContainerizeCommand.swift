import ArgumentParser
import Foundation
import Support
import OCI
import Stack

/// `stackship dockerfile` and `stackship singularity`: what `spack containerize` writes, for a
/// stack's spack: packages, with the stack's binary cache as the Spack mirror.
struct ContainerizeOptions: ParsableArguments {
    @Argument(help: "The stack file.")
    var stack: String = "stack.yaml"

    @Option(name: .long, help: "The spack: packages to put in the image (default: all of them).")
    var package: [String] = []

    @Option(name: .long, help: "The binary cache to use as the Spack mirror (s3://BUCKET/PREFIX or a path). Default: $STACKSHIP_CACHE.")
    var cache: String?

    @Option(name: [.short, .long], help: "Write to this file (atomically) instead of standard output.")
    var output: String?

    func generate(_ render: (SpackContainerize) -> String) throws {
        try CLI.run {
            let file = try StackFile.load(path: stack)
            let chosen = package.isEmpty
                ? file.packages.filter { if case .spack = $0.recipe { return true } else { return false } }
                : try package.map { try file.package(named: $0) }
            let cacheURL = cache ?? ProcessInfo.processInfo.environment["STACKSHIP_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            let generator = try SpackContainerize(packages: chosen, cacheURL: cacheURL,
                                                  labels: ["org.opencontainers.image.title": chosen.map(\.name).joined(separator: "+"),
                                                           "org.stackship.stack": (file.path as NSString).lastPathComponent])
            let text = render(generator)
            if let output {
                try AtomicFileWriter.write(Data(text.utf8), to: CLI.absolute(output))
            } else {
                print(text, terminator: "")
            }
        }
    }
}

struct DockerfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dockerfile",
        abstract: "Write a multi-stage Dockerfile for the stack's spack: packages, as `spack containerize` does.",
        discussion: """
        A builder stage installs the environment (specs merged from the packages) into \
        /opt/software with a view at /opt/views/view, pulling binaries from the stack's cache as \
        a Spack mirror and pushing what it compiled; the runtime stage holds the installed tree, \
        the view, the os_packages and an entrypoint that activates the environment.

        Examples:
          stackship dockerfile -o Dockerfile
          stackship dockerfile --package hdf5 --cache s3://team-cache/stack
        """
    )
    @OptionGroup var options: ContainerizeOptions
    func run() throws { try options.generate(\.dockerfile) }
}

struct SingularityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "singularity",
        abstract: "Write a Singularity/Apptainer definition for the stack's spack: packages.",
        discussion: """
        The same two stages as `stackship dockerfile`, in Singularity's format.

        Examples:
          stackship singularity -o stack.def && apptainer build stack.sif stack.def
        """
    )
    @OptionGroup var options: ContainerizeOptions
    func run() throws { try options.generate(\.singularity) }
}
