#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import OCI
import Registry
import Runtime

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in a new container, from an image in the store (pulled when missing).",
        discussion: """
        Containers run under runc or crun, with no daemon: each has its own PID, mount, IPC, \
        UTS and network namespaces, Docker's default capabilities, no-new-privileges, and masked \
        /proc paths. By default its network namespace has loopback only (no route out); ports \
        published with -p are relayed into it by stackship, as docker-proxy does. --network \
        host shares the host's network instead.

        Without -d, the container's output is shown and stackship exits with its exit code; \
        Ctrl-C is passed on to it. -i attaches stdin (a pipe or file is the container's stdin); \
        -t gives the container a terminal (through runc's console socket), joined to this one in \
        raw mode with its window size, as docker's -it.

        Examples:
          stackship run -d -p 8090:80 --name hello hello:latest
          stackship run --rm hello:latest /usr/local/bin/hello --help
          stackship run -e HTTP_PORT=8080 --network host hello
          stackship run -it --rm busybox sh
          echo hi | stackship run -i --rm busybox cat
        """
    )

    @Flag(name: [.customShort("d"), .long], help: "Run in the background and print the container ID.")
    var detach = false

    @Option(name: .long, help: "A name for the container (default: a generated one).")
    var name: String?

    @Flag(name: .long, help: "Remove the container when it exits.")
    var rm = false

    @Flag(name: [.customShort("i"), .long], help: "Keep stdin open and attach it to the container.")
    var interactive = false

    @Flag(name: [.customShort("t"), .long], help: "Give the container a terminal (with -i, joined to this one).")
    var tty = false

    @Option(name: [.customShort("e"), .long], help: ArgumentHelp("Set an environment variable (NAME=VALUE, or NAME to take it from here).", valueName: "env"))
    var env: [String] = []

    @Option(name: .long, help: ArgumentHelp("Read environment variables from a file (NAME=VALUE lines; # comments).", valueName: "file"))
    var envFile: [String] = []

    @Option(name: [.customShort("p"), .long], help: ArgumentHelp("Publish a container port on the host: [IP:]HOST:CONTAINER, or CONTAINER for any free host port.", valueName: "mapping"))
    var publish: [String] = []

    @Option(name: [.customShort("v"), .long], help: ArgumentHelp("Bind-mount a host path: HOST:CONTAINER[:ro].", valueName: "mount"))
    var volume: [String] = []

    @Option(name: .long, help: ArgumentHelp("isolated (own namespace, loopback only), host, or none.", valueName: "mode"))
    var network: String = RunCommand.defaultNetwork

    @Option(name: .long, help: ArgumentHelp("Replace the image's entrypoint (its cmd is dropped too, as docker does).", valueName: "command"))
    var entrypoint: String?

    @Option(name: [.customShort("w"), .long], help: "The working directory inside the container.")
    var workdir: String?

    @Option(name: [.customShort("u"), .long], help: ArgumentHelp("The user: name or uid, optionally :group or :gid.", valueName: "user"))
    var user: String?

    @Option(name: [.customShort("h"), .long], help: "The container's hostname (default: its short ID).")
    var hostname: String?

    @Flag(name: .long, help: "Mount the container's root file system read-only.")
    var readOnly = false

    @Option(name: [.customShort("l"), .long], help: ArgumentHelp("Set a label on the container (KEY=VALUE).", valueName: "label"))
    var label: [String] = []

    @Option(name: .long, help: ArgumentHelp("When to pull the image: missing, always or never.", valueName: "policy"))
    var pull: String = RunCommand.defaultPull

    @Argument(help: "The image: a reference or ID in the store, or a registry reference to pull.")
    var image: String

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (default: the image's cmd).")
    var command: [String] = []

    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var storeOptions: StoreOptions

    static let defaultNetwork = "isolated"
    static let defaultPull = "missing"

    func run() throws { try request.run() }

    /// The options as plain values, which the run works from.
    var request: RunRequest {
        RunRequest(
            detach: detach, name: name, rm: rm, interactive: interactive, tty: tty, env: env, envFile: envFile, publish: publish, volume: volume,
            network: network, entrypoint: entrypoint, workdir: workdir, user: user, hostname: hostname,
            readOnly: readOnly, label: label, pull: pull, image: image, command: command,
            runtime: runtimeOptions.runtime, store: storeOptions.store,
            insecure: registryOptions.insecure, caCert: registryOptions.caCert, creds: registryOptions.creds, jobs: registryOptions.jobs)
    }
}

/// `run`'s options as plain values: from ArgumentParser (`RunCommand.request`) or, for the
/// everyday forms, from `RunCommand.quick`, which thus never builds ArgumentParser's types.
struct RunRequest: Equatable {
    var detach: Bool
    var name: String?
    var rm: Bool
    var interactive: Bool
    var tty: Bool
    var env: [String]
    var envFile: [String]
    var publish: [String]
    var volume: [String]
    var network: String
    var entrypoint: String?
    var workdir: String?
    var user: String?
    var hostname: String?
    var readOnly: Bool
    var label: [String]
    var pull: String
    var image: String
    var command: [String]
    var runtime: String?
    var store: String?
    var insecure: Bool
    var caCert: [String]
    var creds: String?
    var jobs: Int

    func run() throws {
        try CLI.run {
            var options = try runOptions()
            // -t: runc sends the terminal's master to a socket listening before it starts.
            let console = tty ? try ConsoleSocket() : nil
            options.consoleSocket = console?.path
            if tty {
                // The size of this terminal (stdin's, else stdout's), for the container's at its start.
                var size = winsize()
                if ioctl(0, UInt(TIOCGWINSZ), &size) == 0 || ioctl(1, UInt(TIOCGWINSZ), &size) == 0 {
                    options.consoleSize = (size.ws_row, size.ws_col)
                }
            }
            guard ["missing", "always", "never"].contains(pull) else {
                throw ValidationError("--pull must be missing, always or never, not '\(pull)'")
            }
            // The image is looked up in the store (--store, $STACKSHIP_STORE, or this folder's
            // .stackship/store), then in the per-user store; a pull goes to the first of them,
            // which is the per-user store outside a stack folder (no .stackship is made here).
            let engine = try RuntimeOptions.engine(runtime: runtime, store: store)
            // A missing runc/crun is said before pulling anything: engine.run looks for it before
            // the image, so only --pull always, which pulls first, looks here.
            let state: ContainerState
            if pull == "always" {
                _ = try engine.locateRuntime()
                state = try engine.run(image: image, from: try pullImage(), options: options)
            } else {
                do { state = try engine.run(image: image, options: options) } catch OCIError.imageNotFound where pull == "missing" {
                    state = try engine.run(image: image, from: try pullImage(), options: options)
                }
            }
            if detach {
                print(state.id)
                return
            }
            let code = try console.map { try attachTerminal(engine, state, console: $0) } ?? attach(engine, state)
            if rm { try? engine.remove(state.id, force: true) }
            throw ExitCode(code)
        }
    }

    func runOptions() throws -> RunOptions {
        var options = RunOptions()
        options.name = name
        options.command = command.isEmpty ? nil : command
        if let entrypoint { options.entrypoint = [entrypoint] }
        for path in envFile { options.environment += try EnvFile.read(path) }
        for e in env { options.environment.append(try EnvFile.entry(e, source: "-e")) }
        options.workdir = workdir
        options.user = user
        options.hostname = hostname
        options.readOnlyRoot = readOnly
        options.volumes = try volume.map { try VolumeMount(parsing: $0, relativeTo: FileManager.default.currentDirectoryPath) }
        options.ports = try publish.map { try PortMapping(parsing: $0) }
        guard let mode = NetworkMode(rawValue: network) else {
            throw ValidationError("--network must be isolated, host or none, not '\(network)'" + (network == "bridge" ? " (Stackship has no bridge: isolated publishes ports with -p like docker's bridge, but has no route out; use host for outbound traffic)" : ""))
        }
        options.network = mode
        if mode == .host && !options.ports.isEmpty {
            FileHandle.standardError.write(Data("warning: published ports are discarded when using host network mode\n".utf8))
            options.ports = []
        }
        if mode == .none && !options.ports.isEmpty {
            throw ValidationError("-p cannot be used with --network none: the container has no network to publish from")
        }
        options.interactive = interactive
        options.tty = tty
        if detach && (interactive || tty) {
            throw ValidationError("-d cannot be combined with \([interactive ? "-i" : nil, tty ? "-t" : nil].compactMap { $0 }.joined(separator: " and ")): "
                                  + "nothing would stay attached to the container's \(tty ? "terminal" : "stdin"); run it in the foreground, or drop them and use `stackship exec`")
        }
        if interactive && tty && isatty(0) != 1 {
            throw ValidationError("the input device is not a TTY, so -t cannot join it to the container's terminal; drop -t (with -i alone, stdin is piped to the container: echo hi | stackship run -i IMAGE cat)")
        }
        // Foreground containers are removed by this command once their exit code is read.
        options.autoRemove = rm && detach
        for l in label {
            let (key, value) = try Self.label(l)
            options.labels[key] = value
        }
        return options
    }

    /// `KEY=VALUE`, or `KEY` alone for an empty value; the key may not be empty or blank
    /// (docker refuses `--label =x` too).
    static func label(_ text: String) throws -> (key: String, value: String) {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let key = parts.first.map(String.init) ?? ""
        guard !key.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("invalid label '\(text)' (-l/--label): the key is empty; the form is KEY=VALUE, such as -l com.example.team=web")
        }
        return (key, parts.count > 1 ? String(parts[1]) : "")
    }

    /// Pulls the image into the store (missing from the stores, or --pull always), creating that
    /// store if need be, and returns it.
    func pullImage() throws -> OCILayoutStore {
        let target = StoreOptions.path(store)
        let reference: ImageReference
        do { reference = try ImageReference(parsing: image) } catch {
            throw OCIError.imageNotFound(image, store: target)
        }
        let store = try OCILayoutStore(root: target, create: true)
        let access = RegistryAccess(insecure: insecure, caCert: caCert, creds: creds)
        let jobs = jobs
        let image = image
        FileHandle.standardError.write(Data("Unable to find image '\(image)' locally; pulling \(reference.familiar)\n".utf8))
        do {
            try AsyncCLI.runThrowing {
                let view = TransferView(verb: "pull")
                let options = TransferOptions(jobs: jobs, platform: .host, allPlatforms: false)
                _ = try await access.withClient(for: reference.registry) { client in
                    try await store.withAsyncWriteSession {
                        try await ImageTransfer.pull(reference, client: client, into: store, options: options) { view.handle($0) }
                    }
                }
            }
        } catch {
            throw RunPullError(image: image, store: store.root, cause: CLI.describe(error))
        }
        return store
    }

    /// `run -t`: joins this terminal to the container's (its master arrives on `console`) until
    /// the container lets go of it, then returns its exit code. SIGTERM and SIGHUP are passed on;
    /// Ctrl-C reaches it as a key through its terminal when stdin is in raw mode, else as SIGINT.
    func attachTerminal(_ engine: ContainerEngine, _ state: ContainerState, console: ConsoleSocket) throws -> Int32 {
        let master = try console.receiveMaster()
        console.close()
        defer { close(master) }
        let forwarded = SignalRelay.start(signals: [SIGINT, SIGTERM, SIGHUP]) { signal in
            _ = try? engine.signal(state.id, signal: signal)
        }
        defer { forwarded.stop() }
        // The terminal's output bypasses the monitor, so it is logged here for `stackship logs`.
        let log = open(engine.logPath(of: state.id), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        defer { if log >= 0 { close(log) } }
        TerminalRelay.relay(master: master, input: interactive ? 0 : nil, output: 1, log: log >= 0 ? log : nil)
        _ = engine.waitForExit(state, seconds: 10)
        return (try? engine.load(state.id))?.exitCode ?? 1
    }

    /// Shows the container's output until it exits; passes Ctrl-C and SIGTERM on to it.
    func attach(_ engine: ContainerEngine, _ state: ContainerState) throws -> Int32 {
        let forwarded = SignalRelay.start(signals: [SIGINT, SIGTERM, SIGHUP]) { signal in
            _ = try? engine.signal(state.id, signal: signal)
        }
        defer { forwarded.stop() }
        try LogFollower.follow(engine, state.id, tail: nil, follow: true, to: FileHandle.standardOutput)
        let final = try engine.load(state.id)
        return final.exitCode ?? 1
    }
}

struct RunPullError: Error, LocalizedError {
    var image: String
    var store: String
    var cause: String
    var errorDescription: String? {
        "image '\(image)' is not in the store \(store), and pulling it failed: \(cause)\n(build it with `stackship build`, load it with `stackship load`, or check the reference)"
    }
}

/// `--env-file` and `-e` parsing, with docker's rules.
enum EnvFile {
    static func read(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read --env-file \(path): no such file or not readable")
        }
        var out: [String] = []
        for (number, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            out.append(try entry(line, source: "\(path):\(number + 1)"))
        }
        return out
    }

    /// `NAME=VALUE`, or `NAME` alone to pass this process's value (skipped when unset, as docker does).
    static func entry(_ text: String, source: String) throws -> String {
        let name = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard !name.isEmpty, !name.contains(where: { $0.isWhitespace }) else {
            throw ValidationError("invalid environment variable '\(text)' (\(source)): the form is NAME=VALUE")
        }
        if text.contains("=") { return text }
        return "\(name)=\(ProcessInfo.processInfo.environment[name] ?? "")"
    }
}
