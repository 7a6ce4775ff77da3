import ArgumentParser
import Foundation
import OCI
import Support

@main
struct Stackship: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stackship",
        abstract: "Build, run, test, publish and deploy container images from a stack file, with no Docker daemon.",
        discussion: """
        Images are built reproducibly into a local OCI image layout (the store), at \
        .stackship/store beside the stack file unless --store or STACKSHIP_STORE says otherwise.

        Quick start:
          stackship build                 # build every image in ./stack.yaml
          stackship images                # list what the store holds
          stackship save hello -o hello.tar --format docker
        """,
        version: StackshipVersion.current,
        subcommands: [
            BuildCommand.self, ImagesCommand.self, InspectCommand.self, SaveCommand.self, LoadCommand.self,
            TagCommand.self, RmiCommand.self, GCCommand.self, LayerCommand.self,
            LockCommand.self, DockerfileCommand.self, SingularityCommand.self,
            PushCommand.self, PullCommand.self, CopyCommand.self, TagsCommand.self, LoginCommand.self, LogoutCommand.self,
            RunCommand.self, UnpackCommand.self, PsCommand.self, PortCommand.self, LogsCommand.self, StopCommand.self, RmCommand.self, ExecCommand.self,
            MonitorCommand.self, CacheCommand.self, PlanCommand.self, GraphCommand.self, CICommand.self, PipelineCommand.self, TestCommand.self,
            AWSCommand.self, HealthCommand.self,
        ]
    )

    /// ArgumentParser's `main`, except that `run` in its everyday forms is read by
    /// `RunCommand.quick` (see there), which saves ~3 ms of `run -d`'s start-up. What that
    /// reader gives up on, and every other command, ArgumentParser parses. Errors end the same
    /// way on both paths: ArgumentParser's `main` also hands them to this type's `exit(withError:)`.
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "run", let request = RunCommand.quick(Array(arguments.dropFirst())) {
            do {
                try request.run()
            } catch {
                exit(withError: error)
            }
            return
        }
        main(nil)
    }
}
