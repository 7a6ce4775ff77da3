#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import OCI
import Runtime
import Stack
import Support

struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Test an image of the stack against its running container, as its `test:` says.",
        discussion: """
        Runs the image (from the store; build it first) with its `test: port:` published on a \
        free loopback port, waits until that port accepts connections, then runs `test: \
        command:` on this machine with STACKSHIP_TEST_HOST and STACKSHIP_TEST_PORT saying where \
        to reach it (and STACKSHIP_TEST_IMAGE naming the image). The container is stopped and \
        removed afterwards, whatever happened. The exit code is the command's; 124 when the port \
        never answered or the command ran over `test: timeout:` (30 s by default). The command \
        runs in the stack file's folder with `test: env:` added; a list is run as written (no \
        `$VAR` expansion: use [sh, -c, "..."] for that).

        Example stack file:
          images:
            web:
              test:
                port: 80
                command: [sh, -c, "curl -fsS http://$STACKSHIP_TEST_HOST:$STACKSHIP_TEST_PORT$PING_PATH"]
                env: {PING_PATH: /ping}
                timeout: 30

        Examples:
          stackship build && stackship test web
          stackship test web --stack deploy/stack.yaml
        """
    )

    @Argument(help: "The image, by its name under `images:`.")
    var image: String

    @Option(name: .long, help: ArgumentHelp("The stack file.", valueName: "file"))
    var stack: String = "stack.yaml"

    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try CLI.run {
            let file = try StackFile.load(path: stack)
            let spec = try file.image(named: image)
            guard let test = spec.test else {
                throw ValidationError("image '\(image)' has no `test:` in \(stack); add one, such as `test: {port: 80, command: [sh, -c, \"curl -fsS http://$STACKSHIP_TEST_HOST:$STACKSHIP_TEST_PORT/\"]}`")
            }
            let store: OCILayoutStore
            do { store = try storeOptions.open(beside: file.directory, create: false) } catch {
                throw ValidationError("image '\(image)' is not built (\(CLI.describe(error))); build it first: stackship build \(stack) --image \(image)")
            }
            let reference = spec.tags.first?.familiar ?? "\(image):latest"
            do { _ = try store.resolve(reference) } catch {
                throw ValidationError("image '\(image)' (\(reference)) is not in the store \(store.root); build it first: stackship build \(stack) --image \(image)")
            }
            let engine = ContainerEngine(store: store, runtime: runtimeOptions.runtime, monitorExecutable: RuntimeOptions.selfExecutable)
            var options = RunOptions()
            options.name = "stackship-test-\(image)-\(UUID().uuidString.prefix(8).lowercased())"
            options.ports = [PortMapping(hostIP: "127.0.0.1", hostPort: 0, containerPort: test.port)]
            options.labels = ["org.stackship.test.image": image]
            let state = try engine.run(image: reference, options: options)
            defer { try? engine.remove(state.id, force: true) }
            let code: Int32
            do {
                code = try Self.runTest(test, image: image, directory: file.directory, engine: engine, state: state)
            } catch let error as TestCommandError {
                FileHandle.standardError.write(Data("error: \(error.errorDescription!)\n".utf8))
                throw ExitCode(error.exitCode)
            }
            if code != 0 { throw ExitCode(code) }
            FileHandle.standardError.write(Data("test \(image): passed\n".utf8))
        }
    }

    /// Waits for the port, runs the command; returns its exit code.
    static func runTest(_ test: ImageTestSpec, image: String, directory: String, engine: ContainerEngine, state: ContainerState) throws -> Int32 {
        guard let hostPort = state.ports.first(where: { $0.containerPort == test.port })?.hostPort else {
            throw TestCommandError(message: "image '\(image)': container port \(test.port) was not published", logTail: "")
        }
        let tail = { TestCommandError.tail((try? String(contentsOfFile: engine.logPath(of: state.id), encoding: .utf8)) ?? "") }
        let deadline = Date().addingTimeInterval(test.timeout)
        let engineBox = engine
        do {
            try AsyncCLI.runThrowing {
                try await ReadinessWait.poll(engine: engineBox, id: state.id, deadline: deadline, interval: .milliseconds(100)) {
                    try ReadinessWait.portAccepts(engine: engineBox, state: state, port: test.port)
                }
            }
        } catch ReadinessWait.Failure.exited(let code) {
            throw TestCommandError(message: "image '\(image)': the container exited (code \(code.map(String.init) ?? "unknown")) before port \(test.port) answered", logTail: tail())
        } catch ReadinessWait.Failure.timedOut(let lastProblem) {
            throw TestCommandError(message: "image '\(image)': port \(test.port) did not answer within \(Self.seconds(test.timeout)) s (test: timeout:); last attempt: \(lastProblem)", logTail: tail(), exitCode: 124)
        }
        // The command runs in the stack file's folder, wherever `stackship test` was typed: a
        // relative program (./tests/check.sh) and relative paths in it mean the stack's.
        let first = test.command[0]
        let program = first.contains("/") ? (first.hasPrefix("/") ? first : directory + "/" + first) : ChildProcess.which(first)
        guard let program, FileManager.default.isExecutableFile(atPath: program) else {
            throw TestCommandError(message: "image '\(image)': the test command '\(first)' is " + (first.contains("/") ? "not an executable file in \(directory)" : "not on PATH"), logTail: "")
        }
        // The list form runs the program directly, as docker's exec form: `$VAR` is not expanded.
        if !["sh", "bash", "dash", "zsh", "ash"].contains((first as NSString).lastPathComponent),
           test.command.dropFirst().contains(where: { $0.contains("$") }) {
            FileHandle.standardError.write(Data("note: test \(image): the command's arguments are passed as written, `$` and all; for variables, use [sh, -c, \"… $STACKSHIP_TEST_PORT …\"]\n".utf8))
        }
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in test.environment { environment[name] = value }
        environment["STACKSHIP_TEST_HOST"] = "127.0.0.1"
        environment["STACKSHIP_TEST_PORT"] = String(hostPort)
        environment["STACKSHIP_TEST_IMAGE"] = image
        FileHandle.standardError.write(Data("test \(image): port \(test.port) answers on 127.0.0.1:\(hostPort); running \(test.command.joined(separator: " "))\n".utf8))
        let pid = try ChildProcess.spawn(program, Array(test.command.dropFirst()), environment: environment, fds: [0, 1, 2], directory: directory)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { return 1 }
            if Date() >= deadline.addingTimeInterval(test.timeout) {
                kill(pid, SIGKILL)
                _ = ChildProcess.wait(pid)
                throw TestCommandError(message: "image '\(image)': the test command ran over \(Self.seconds(test.timeout)) s and was killed", logTail: tail(), exitCode: 124)
            }
            usleep(50_000)
        }
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        if code != 0 {
            FileHandle.standardError.write(Data("test \(image): FAILED: the test command exited with status \(code)\n".utf8))
            let logs = tail()
            if !logs.isEmpty { FileHandle.standardError.write(Data("the container's last output:\n\(logs)\n".utf8)) }
        }
        return code
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// A test that could not run to its command's verdict, with the container's last output.
struct TestCommandError: Error, LocalizedError {
    var message: String
    var logTail: String
    var exitCode: Int32 = 1

    var errorDescription: String? {
        logTail.isEmpty ? message : "\(message)\nthe container's last output:\n\(logTail)"
    }

    static func tail(_ text: String, lines: Int = 20) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
