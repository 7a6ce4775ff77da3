#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support

/// An image's `steps:`: the shell commands that make its layer sources (a `go build`, a
/// `swift build`), run by `stackship build` before the image is built: on a laptop and in every
/// CI job that builds or re-assembles the image alike.
public enum ImageSteps {
    /// The images of `selected` that have steps, in the order given.
    public static func withSteps(_ selected: [ImageSpec]) -> [ImageSpec] {
        selected.filter { !$0.steps.isEmpty }
    }

    /// Runs each of `image`'s steps with `/bin/sh -c` in the stack file's folder, in order, their
    /// output going to this process's standard error; `announce` is told each step first.
    ///
    /// - Throws: ``StackFileError`` at `steps:` naming the step and its exit code when one fails
    ///   (the steps after it do not run).
    public static func run(_ image: ImageSpec, in stack: StackFile, announce: (String) -> Void) throws {
        let shell = FileManager.default.isExecutableFile(atPath: "/bin/sh") ? "/bin/sh" : (ChildProcess.which("sh") ?? "/bin/sh")
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { if null >= 0 { close(null) } }
        for (index, step) in image.steps.enumerated() {
            announce("\(image.name): step \(index + 1)/\(image.steps.count): \(step)")
            let pid = try ChildProcess.spawn(shell, ["-c", step], fds: [null, 2, 2], directory: stack.directory)
            let status = ChildProcess.wait(pid)
            guard status == 0 else {
                throw StackFileError(location: image.stepsLocation ?? image.location,
                                     message: "step \(index + 1) of image '\(image.name)' (`\(step)`) failed with exit code \(status); the image was not built",
                                     hint: "its output is above; fix the step or what it builds (it runs with sh -c in \(stack.directory)), then build again")
            }
        }
    }
}
