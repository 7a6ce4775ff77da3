#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CRuntime
import OCI
import Support

/// Creates, starts, stops and removes containers from images in OCI layout stores, with runc
/// or crun, no daemon. Containers live in the host's state directory (``HostState``), not in
/// a store, so every folder sees the same ones (docker's and podman's one state per host):
///
///     <state>/roots/<chainID>/rootfs    unpacked images, shared read-only by all their containers
///     <state>/containers/<id>/          one container: config.json (the bundle), rootfs (an overlay
///                                       mount: image root below, upper/ above), netns, etc/,
///                                       container.log, monitor.log, state.json
///     <state>/oci/                      the runtime's own state (its --root)
///
/// Images come from `stores`, looked up in order (the stack's store, then the per-user
/// default one); the container commands that only manage containers need none.
///
/// Migration: before one state per host, a container lived under its store, in
/// `<store>/runtime/containers/<id>` with the runtime's state in `<store>/runtime/oci`. Such a
/// container is still *seen*: each store given is searched for that old folder, so `ps`,
/// `logs`, `stop`, `rm`, `exec`, `port` and `inspect` find it when run with that store (from
/// its stack folder, or with --store), and `rm` tears it down and deletes it as before. Nothing
/// new is ever written there. (`<store>/runtime/` itself stays: Dockerfile builds keep their
/// step scratch there, with the store whose blobs and step records it belongs to.)
///
/// Each running container has a monitor process (a fork of the CLI, or `stackship _monitor`
/// when started from a multi-threaded process; a child subreaper in its own session) that
/// waits for it, records its exit, serves its published ports, and tears its mounts and
/// namespace down when it ends — so `run -d` can return and nothing is left behind.
public final class ContainerEngine: @unchecked Sendable {
    /// The stores images are looked up in, in order; may be empty.
    public let stores: [OCILayoutStore]
    /// The host's state directory (``HostState/directory(environment:effectiveUser:)`` unless given).
    public let stateDirectory: String
    /// The program run as `<monitor> _monitor --state STATE ID` (the stackship executable).
    public let monitorExecutable: String
    private let requestedRuntime: String?
    /// Where containers of the previous layout may be: each store's `runtime/` folder.
    private let legacyDirectories: [String]

    public var containersDirectory: String { stateDirectory + "/containers" }
    public var rootsDirectory: String { stateDirectory + "/roots" }
    public var ociStateDirectory: String { stateDirectory + "/oci" }

    /// An engine over the host's state (`stateDirectory`) taking images from `stores`, in that
    /// order. Creates nothing: the state directory is made by the first `run`.
    public init(stateDirectory: String = HostState.directory(), stores: [OCILayoutStore], runtime: String? = nil,
                monitorExecutable: String) {
        self.stateDirectory = FileIO.standardize(stateDirectory)
        self.stores = stores
        self.requestedRuntime = runtime
        self.monitorExecutable = monitorExecutable
        var legacy: [String] = []
        for store in stores {
            let old = store.root + "/runtime"
            if old != self.stateDirectory, !legacy.contains(old), FileIO.exists(old + "/containers") { legacy.append(old) }
        }
        self.legacyDirectories = legacy
    }

    /// An engine taking images from `store` alone.
    public convenience init(store: OCILayoutStore, stateDirectory: String = HostState.directory(), runtime: String? = nil,
                            monitorExecutable: String) {
        self.init(stateDirectory: stateDirectory, stores: [store], runtime: runtime, monitorExecutable: monitorExecutable)
    }

    public func locateRuntime() throws -> OCIRuntime {
        try OCIRuntime.locate(requestedRuntime, stateRoot: ociStateDirectory)
    }

    func runtime(for state: ContainerState) -> OCIRuntime {
        OCIRuntime(executable: state.runtime, stateRoot: place(of: state.id) + "/oci")
    }

    /// The folder holding the container `id`'s folder and runtime state: the state directory,
    /// or the previous layout's `<store>/runtime` where the container is still there.
    private func place(of id: String) -> String {
        guard !legacyDirectories.isEmpty, !id.isEmpty, !id.contains("/"), !FileIO.exists(containersDirectory + "/" + id) else {
            return stateDirectory
        }
        return legacyDirectories.first { FileIO.exists($0 + "/containers/" + id) } ?? stateDirectory
    }

    /// Whether the container `id` lives in the previous layout's folder under a store.
    public func isPreviousLayout(_ id: String) -> Bool { place(of: id) != stateDirectory }

    // MARK: Paths

    public func directory(of id: String) -> String { place(of: id) + "/containers/" + id }
    public func logPath(of id: String) -> String { directory(of: id) + "/container.log" }
    /// The pinned network namespace, for containers that have their own.
    public func networkNamespace(of state: ContainerState) -> String? {
        state.network == .host ? nil : directory(of: state.id) + "/netns"
    }

    // MARK: State

    public func load(_ id: String) throws -> ContainerState {
        let path = directory(of: id) + "/state.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw RuntimeError.containerNotFound(id) }
        if let state = ContainerState(reading: data) { return state }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do { return try decoder.decode(ContainerState.self, from: data) } catch {
            throw RuntimeError.io(path: path, operation: "read (\(error))", errno: EINVAL)
        }
    }

    func save(_ state: ContainerState) throws {
        try AtomicFileWriter.write(state.json.data, to: directory(of: state.id) + "/state.json", durable: false)
    }

    /// Records a started container's new state, under its lock. Once `run` has created it, only
    /// its monitor writes the state, so the monitor's copy is the current one and is not read back.
    func record(_ state: ContainerState) throws {
        try FileLock.with(directory(of: state.id) + "/.lock") { try save(state) }
    }

    /// All containers, oldest first, with the status of any whose monitor died corrected.
    /// Those of the previous layout under the stores follow the state directory's.
    public func list() throws -> [ContainerState] {
        var ids: [String] = []
        var seen = Set<String>()
        for place in [stateDirectory] + legacyDirectories {
            for id in FileIO.names(inDirectory: place + "/containers") ?? [] where !id.hasPrefix(".") && seen.insert(id).inserted { ids.append(id) }
        }
        var out: [ContainerState] = []
        for id in ids {
            guard var state = try? load(id) else { continue }
            if state.status == .running, let monitor = state.monitorPid, !ChildProcess.isAlive(monitor) {
                state.status = .exited
                state.error = "its monitor process ended unexpectedly"
            }
            out.append(state)
        }
        return out.sorted { $0.created < $1.created }
    }

    /// A container by full ID, name, or unique ID prefix (docker's rules).
    public func find(_ reference: String) throws -> ContainerState {
        let all = try list()
        if let exact = all.first(where: { $0.id == reference || $0.name == reference }) { return exact }
        let hits = all.filter { $0.id.hasPrefix(reference) }
        if hits.count == 1, !reference.isEmpty { return hits[0] }
        if hits.count > 1 { throw RuntimeError.ambiguousContainer(reference, matches: hits.map { String($0.id.prefix(12)) }) }
        throw RuntimeError.containerNotFound(reference)
    }

    // MARK: Run

    /// The store holding `image` (the first of `stores` that does) and its entry there; throws
    /// the first store's `imageNotFound` when none has it.
    public func resolve(image: String) throws -> (store: OCILayoutStore, entry: OCILayoutStore.Entry) {
        var firstError: Error?
        for store in stores {
            do { return (store, try store.resolve(image)) } catch OCIError.imageNotFound(let reference, let root) {
                if firstError == nil { firstError = OCIError.imageNotFound(reference, store: root) }
            }
        }
        throw firstError ?? OCIError.imageNotFound(image, store: stores.first?.root ?? HostState.defaultStore())
    }

    /// Creates a container from `image` (a reference in `store`, else in the first of `stores`
    /// that has it) and starts it: returns once its process runs (`run -d`), or throws having
    /// left nothing behind.
    public func run(image: String, from store: OCILayoutStore? = nil, options: RunOptions) throws -> ContainerState {
        let runtime = try locateRuntime()
        try FileIO.makeDirectories(containersDirectory, mode: 0o700)
        let id = Self.newID()
        // Asked before any thread of ours starts (see below).
        let forked = stackship_thread_count() == 1
        // A container with a network of its own has its namespace made from now on, on a thread
        // (~1.4 ms of kernel work), while the image is read and the bundle prepared.
        var creating: NetworkNamespace.Creation?
        var recorded = false // until the state is saved, a failure undoes here what was made
        defer {
            try? creating?.wait()
            if !recorded { cleanUp(id: id, runtime: nil) }
        }
        if options.network != .host {
            try FileIO.makeDirectories(directory(of: id), mode: 0o700)
            creating = try NetworkNamespace.Creation(at: directory(of: id) + "/netns")
        }
        let (store, entry) = try store.map { ($0, try $0.resolve(image)) } ?? resolve(image: image)
        let manifest = try store.manifest(for: entry.descriptor)
        let config = try store.config(of: manifest)
        // Fail fast on what the user can fix, before unpacking anything.
        let args = try SpecBuilder.arguments(config: config.config, options: options, image: image)
        if options.network == .none && !options.ports.isEmpty {
            throw RuntimeError.badOption(option: "-p with --network none", reason: "a container without a network cannot publish ports")
        }
        if options.tty && options.consoleSocket == nil {
            throw RuntimeError.badOption(option: "-t", reason: "a terminal needs a console socket to receive it on")
        }
        let listeners = options.network == .isolated ? try PortForwarder.bind(options.ports) : []
        var listenersOwned = true
        defer { if listenersOwned { for l in listeners { close(l.fd) } } }

        let lockPath = containersDirectory + "/.names.lock"
        let state: ContainerState = try FileLock.with(lockPath) {
            let name = options.name ?? self.generatedName()
            if let name = options.name {
                guard Self.isValidName(name) else {
                    throw RuntimeError.badOption(option: "--name \(name)", reason: "names may contain letters, digits, '_', '.' and '-', and start with a letter or digit")
                }
            }
            if let clash = try list().first(where: { $0.name == name }) {
                throw RuntimeError.nameInUse(name: name, id: clash.id)
            }
            let state = ContainerState(
                id: id, name: name, image: image, imageDigest: entry.descriptor.digest.description, command: args,
                created: Date(), status: .created, ports: listeners.map(\.mapping), network: options.network,
                runtime: runtime.executable, autoRemove: options.autoRemove, labels: options.labels,
                stopSignal: config.config?.StopSignal,
                entrypoint: options.entrypoint ?? config.config?.Entrypoint ?? [],
                user: (options.user ?? config.config?.User).flatMap { $0.isEmpty ? nil : $0 },
                interactive: options.interactive ? true : nil, tty: options.tty ? true : nil,
                consoleSocket: options.tty ? options.consoleSocket : nil, imageStore: store.root)
            try FileIO.makeDirectories(directory(of: id), mode: 0o700)
            try save(state)
            return state
        }
        recorded = true
        // The monitor: in a single-threaded process (the CLI), a fork of this one once the bundle
        // is ready, with nothing to load; else (a test process, say) `stackship _monitor`,
        // started now so that it loads while the bundle is prepared, waiting for "go".
        var monitor: MonitorHandle?
        func launchMonitor() throws {
            // -i without -t: the container reads this process's stdin itself, through the monitor.
            monitor = try startMonitor(state, listeners: listeners.map(\.fd), forked: forked,
                                       stdin: options.interactive && !options.tty ? 0 : nil)
            listenersOwned = false
            for l in listeners { close(l.fd) }
        }
        do {
            if !forked { try launchMonitor() }
            try prepareBundle(state, store: store, config: config, manifest: manifest, options: options, namespace: creating)
            if forked { try launchMonitor() }
            let started = try monitor!.go()
            var running = state
            running.start(started)
            return running
        } catch {
            monitor?.abort()
            try? creating?.wait()
            try? remove(id, force: true)
            throw error
        }
    }

    /// `namespace`: the container's network namespace being made, waited for before the spec
    /// that names it is written (and so before the monitor forks).
    private func prepareBundle(_ state: ContainerState, store: OCILayoutStore, config: ImageConfig, manifest: Manifest, options: RunOptions,
                               namespace: NetworkNamespace.Creation?) throws {
        let dir = directory(of: state.id)
        let (lower, _) = try ImageUnpacker.cachedRoot(manifest, config: config, from: store, cacheDirectory: rootsDirectory)
        for sub in ["upper", "work", "rootfs", "etc"] { try FileIO.makeDirectories(dir + "/" + sub, mode: 0o755) }
        for path in [lower, dir] where path.contains(",") || path.contains(":") {
            throw RuntimeError.badOption(option: "STACKSHIP_STATE=\(stateDirectory)", reason: "overlay mounts cannot use a path with ',' or ':'; choose a state directory without them")
        }
        let rc = stackship_mount("overlay", dir + "/rootfs", "overlay", 0,
                                 "lowerdir=\(lower),upperdir=\(dir)/upper,workdir=\(dir)/work")
        guard rc == 0 else {
            throw RuntimeError.mountFailed(target: dir + "/rootfs", errno: -rc,
                                           hint: "the container's root is an overlay mount, which needs root and a state directory (\(stateDirectory), or $STACKSHIP_STATE) on a file system overlayfs supports as its upper layer (ext4, xfs, tmpfs)")
        }
        let hostname: String
        if let h = options.hostname { hostname = h } else if state.network == .host { hostname = Self.hostName() } else { hostname = String(state.id.prefix(12)) }
        var etc: [String: String] = [:]
        let hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t\(hostname)\n"
        try AtomicFileWriter.write(Data(utf8: hosts), to: dir + "/etc/hosts", durable: false)
        try AtomicFileWriter.write(Data(utf8: hostname + "\n"), to: dir + "/etc/hostname", durable: false)
        etc["/etc/hosts"] = dir + "/etc/hosts"
        etc["/etc/hostname"] = dir + "/etc/hostname"
        if state.network == .host, let resolv = FileManager.default.contents(atPath: "/etc/resolv.conf") {
            try AtomicFileWriter.write(resolv, to: dir + "/etc/resolv.conf", durable: false)
            etc["/etc/resolv.conf"] = dir + "/etc/resolv.conf"
        }
        for volume in options.volumes where !FileIO.exists(volume.source) {
            try FileIO.makeDirectories(volume.source) // docker creates a missing host directory
        }
        var spec = try SpecBuilder.build(config: config.config, options: options, image: state.image, rootfs: dir + "/rootfs",
                                         hostname: hostname, networkNamespace: namespace?.path, etcFiles: etc)
        if options.tty {
            spec.process.terminal = true
            // docker's -t sets TERM when neither the image nor -e does.
            if !spec.process.env.contains(where: { $0.hasPrefix("TERM=") }) { spec.process.env.append("TERM=xterm") }
        }
        try namespace?.wait()
        var json = spec.json
        if options.tty, let size = options.consoleSize, size.rows > 0, size.columns > 0,
           case var .object(members) = json, let at = members.firstIndex(where: { $0.0 == "process" }),
           case var .object(process) = members[at].1 {
            // The runtime spec's process.consoleSize, which RuntimeSpec does not model.
            process.insert(("consoleSize", .members([("height", .uint(UInt64(size.rows))), ("width", .uint(UInt64(size.columns)))])), at: 1)
            members[at].1 = .object(process)
            json = .object(members)
        }
        try AtomicFileWriter.write(json.data, to: dir + "/config.json", durable: false)
    }

    /// Starts the monitor in a new session, with /dev/null and `monitor.log` as its descriptors 0
    /// to 2 and 3 the pipe it answers on. Forked: the listening sockets follow as 4, 5, ..., and
    /// it starts the container at once. Else `stackship _monitor`: 4 is the pipe on which it
    /// waits for "go" (EOF: give up), the sockets follow as 5, 6, ...
    /// `stdin`, when given, follows the listening sockets: the container's stdin (`run -i`).
    private func startMonitor(_ state: ContainerState, listeners: [Int32], forked: Bool, stdin: Int32? = nil) throws -> MonitorHandle {
        var ready: [Int32] = [0, 0], go: [Int32] = [-1, -1]
        guard pipe(&ready) == 0 else { throw RuntimeError.io(path: "pipe", operation: "create", errno: errno) }
        guard forked || pipe(&go) == 0 else {
            close(ready[0]); close(ready[1])
            throw RuntimeError.io(path: "pipe", operation: "create", errno: errno)
        }
        for fd in ready + go where fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        let logPath = directory(of: state.id) + "/monitor.log"
        let log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        defer {
            close(null)
            if log >= 0 { close(log) }
            close(ready[1])
            if go[0] >= 0 { close(go[0]) }
        }
        let output = log >= 0 ? log : null
        let fds = [null, output, output, ready[1]] + (forked ? [] : [go[0]]) + listeners + (stdin.map { [$0] } ?? [])
        do {
            if forked {
                let pid = fds.withUnsafeBufferPointer { stackship_fork($0.baseAddress, Int32($0.count), 1, nil) }
                if pid == 0 {
                    // The child: never returns into the caller.
                    stackship_set_title(CommandLine.unsafeArgv, CommandLine.argc, "stackship-monitor \(state.id)")
                    let first = Int32(fds.count - listeners.count - (stdin == nil ? 0 : 1))
                    _exit(ContainerMonitor.serve(engine: self, state: state, readyFD: 3,
                                                 listenerFDs: (0..<Int32(listeners.count)).map { first + $0 },
                                                 stdinFD: stdin == nil ? nil : Int32(fds.count - 1)))
                }
                guard pid > 0 else { throw RuntimeError.io(path: "stackship monitor", operation: "start", errno: -pid) }
            } else {
                _ = try ChildProcess.spawn(monitorExecutable, ["_monitor", "--state", stateDirectory, "--ports", "\(listeners.count)"]
                                           + (stdin == nil ? [] : ["--stdin"]) + [state.id],
                                           fds: fds, newSession: true)
            }
        } catch {
            close(ready[0])
            if go[1] >= 0 { close(go[1]) }
            throw error
        }
        return MonitorHandle(readyFD: ready[0], goFD: go[1], logPath: logPath)
    }

    // MARK: Stop and remove

    /// Sends the stop signal (the image's StopSignal, else SIGTERM), then SIGKILL after `timeout`
    /// seconds; returns when the container has exited.
    public func stop(_ reference: String, timeout: Double = 10, signal: String? = nil) throws -> ContainerState {
        let state = try find(reference)
        guard state.status == .running else { return state }
        let runtime = runtime(for: state)
        let sig = signal ?? state.stopSignal ?? "SIGTERM"
        _ = try? runtime.run(["kill", state.id, sig])
        if !waitForExit(state, seconds: timeout) {
            _ = try? runtime.run(["kill", state.id, "SIGKILL"])
            if !waitForExit(state, seconds: 10) {
                throw RuntimeError.timeout(what: "container \(state.name) stopping after SIGKILL", seconds: 10)
            }
        }
        return (try? load(state.id)) ?? state
    }

    /// Waits until the monitor has recorded the exit (or is gone). True when it did in time.
    public func waitForExit(_ state: ContainerState, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard let current = try? load(state.id) else { return true } // removed (--rm)
            if let monitor = state.monitorPid ?? current.monitorPid {
                // A dead monitor has recorded all it will; a live one may still be tearing down.
                if !ChildProcess.isAlive(monitor) { return true }
            } else if current.status != .running {
                return true
            }
            usleep(20_000)
        }
        return false
    }

    /// Removes a container: refused while it runs unless `force` (then it is killed first).
    public func remove(_ reference: String, force: Bool = false) throws {
        let state: ContainerState
        do { state = try find(reference) } catch RuntimeError.containerNotFound where FileIO.exists(directory(of: reference)) {
            // A directory without a readable state (a crash during create): clear it.
            cleanUp(id: reference, runtime: (try? locateRuntime()).map { OCIRuntime(executable: $0.executable, stateRoot: place(of: reference) + "/oci") })
            return
        }
        if state.status == .running, let monitor = state.monitorPid, ChildProcess.isAlive(monitor) {
            guard force else { throw RuntimeError.containerRunning(state.name) }
            _ = try? runtime(for: state).run(["kill", state.id, "SIGKILL"])
            if !waitForExit(state, seconds: 10) { kill(monitor, SIGKILL) }
        }
        cleanUp(id: state.id, runtime: runtime(for: state))
    }

    /// Undoes everything a container set up (idempotent; also the monitor's tear-down).
    func tearDown(id: String, runtime: OCIRuntime?) {
        let dir = directory(of: id)
        if let runtime { _ = try? runtime.run(["delete", "--force", id]) }
        _ = stackship_unmount(dir + "/rootfs")
        NetworkNamespace.remove(at: dir + "/netns")
    }

    func cleanUp(id: String, runtime: OCIRuntime?) {
        tearDown(id: id, runtime: runtime)
        try? FileManager.default.removeItem(atPath: directory(of: id))
    }

    // MARK: Exec

    /// Runs a command in a running container, with the given descriptors as its stdio; returns
    /// its exit code.
    public func exec(_ reference: String, command: [String], environment: [String] = [], workdir: String? = nil,
                     user: String? = nil, stdio: [Int32] = [0, 1, 2]) throws -> Int32 {
        let state = try find(reference)
        guard state.status == .running else { throw RuntimeError.containerNotRunning(state.name) }
        guard !command.isEmpty else { throw RuntimeError.badOption(option: "exec", reason: "give the command to run after the container") }
        var args = ["exec"]
        for e in environment { args += ["--env", e] }
        if let workdir { args += ["--cwd", workdir] }
        if let user {
            let resolved = try UserResolver.resolve(user, root: directory(of: state.id) + "/rootfs")
            args += ["--user", "\(resolved.uid):\(resolved.gid)"]
        }
        args += [state.id] + command
        let runtime = runtime(for: state)
        let pid = try ChildProcess.spawn(runtime.executable, runtime.arguments(args), fds: stdio)
        return ChildProcess.wait(pid)
    }

    // MARK: Names

    /// The host's name, as gethostname(2) gives it (docker's --network host; no DNS lookup).
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(cString: buffer)
    }

    /// docker's rule for container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
    public static func isValidName(_ name: String) -> Bool {
        func alphanumeric(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7a) }
        guard let first = name.utf8.first, alphanumeric(first) else { return false }
        return name.utf8.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for _ in 0..<4 {
            var word = generator.next() as UInt64
            for _ in 0..<16 {
                out.append(hex[Int(word & 0xf)])
                word >>= 4
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let adjectives = ["brave", "calm", "eager", "fond", "gentle", "happy", "keen", "lucid", "merry", "nimble",
                                     "proud", "quiet", "sharp", "tender", "vivid", "witty", "bold", "clever", "jolly", "zen"]
    private static let nouns = ["hopper", "turing", "lovelace", "knuth", "ritchie", "thompson", "liskov", "hamilton",
                                "dijkstra", "lamport", "kay", "backus", "cerf", "hoare", "wirth", "perlman", "goldberg", "torvalds"]

    private func generatedName() -> String {
        let taken = Set(((try? list()) ?? []).map(\.name))
        for _ in 0..<50 {
            let name = "\(Self.adjectives.randomElement()!)_\(Self.nouns.randomElement()!)"
            if !taken.contains(name) { return name }
        }
        return "stackship_\(Int.random(in: 1000...999_999))"
    }
}

/// The parent's end of a starting monitor.
final class MonitorHandle {
    private var readyFD: Int32
    private var goFD: Int32
    let logPath: String

    init(readyFD: Int32, goFD: Int32, logPath: String) {
        self.readyFD = readyFD
        self.goFD = goFD
        self.logPath = logPath
    }

    deinit { abort() }

    /// Tells the monitor the bundle is ready (unless it was forked once it was) and waits for its
    /// word: how the container started, else the error.
    func go() throws -> ContainerStart {
        var written = 3
        if goFD >= 0 {
            written = "go\n".withCString { write(goFD, $0, 3) }
            close(goFD)
            goFD = -1
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while written == 3 {
            let n = buffer.withUnsafeMutableBytes { read(readyFD, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        let word = String(decoding: data, as: UTF8.self)
        if let started = ContainerStart(word: word) { return started }
        if word.isEmpty {
            let tail = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw RuntimeError.runtimeFailed(runtime: "stackship", command: "_monitor", message: tail.isEmpty ? "the monitor ended without starting the container" : tail)
        }
        throw MonitorFailure(message: word.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Lets the monitor go without starting anything (it exits when "go" never comes).
    func abort() {
        if goFD >= 0 { close(goFD); goFD = -1 }
        if readyFD >= 0 { close(readyFD); readyFD = -1 }
    }
}

/// The monitor's account of why a container did not start (runc's message, mostly).
public struct MonitorFailure: Error, CustomStringConvertible, LocalizedError {
    public var message: String
    public var description: String { message }
    public var errorDescription: String? { message }
}
