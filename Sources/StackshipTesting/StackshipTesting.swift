#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
import Runtime
import Support

/// Tests against running containers, as ory/dockertest and testcontainers offer, with no
/// daemon: `withContainer(request) { container in ... }` starts a container, waits until it is
/// ready, runs the body, and removes the container whatever happens. Containers it starts are
/// labelled with the test process; one left behind by a crashed run is removed on the next start.
public enum StackshipTesting {
    static let ownerLabel = "org.stackship.testing.owner"

    /// Starts a container and waits for it; on failure or timeout it is removed before the error
    /// is thrown. Prefer `withContainer`, which also removes it afterwards.
    public static func start(_ request: ContainerRequest) async throws -> RunningContainer {
        let engine = try makeEngine(request)
        reap(engine)
        var options = RunOptions()
        options.name = request.name
        options.command = request.command
        options.environment = request.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        options.network = request.network
        options.ports = request.network == .isolated ? request.exposedPorts.map { PortMapping(hostIP: "127.0.0.1", hostPort: 0, containerPort: $0) } : []
        options.labels = request.labels.merging([ownerLabel: ownerIdentity], uniquingKeysWith: { a, _ in a })
        let state = try engine.run(image: request.image, options: options)
        let container = RunningContainer(engine: engine, state: state)
        let deadline = Date().addingTimeInterval(request.startupTimeout)
        do {
            try await wait(for: request.waitStrategy, container: container, deadline: deadline, timeout: request.startupTimeout)
        } catch {
            let tail = tailLines(container.logs(), 20)
            try? container.remove()
            if let e = error as? ContainerTestError { throw ContainerTestError(message: e.message, logTail: tail) }
            throw ContainerTestError(message: "\(error)", logTail: tail)
        }
        return container
    }

    /// Waits until `strategy` holds for a container (another wait after start, e.g. for a log line).
    public static func wait(for strategy: WaitStrategy, container: RunningContainer, timeout: Double) async throws {
        try await wait(for: strategy, container: container, deadline: Date().addingTimeInterval(timeout), timeout: timeout)
    }

    static func wait(for strategy: WaitStrategy, container: RunningContainer, deadline: Date, timeout: Double) async throws {
        switch strategy {
        case .none:
            return
        case let .all(strategies):
            for s in strategies { try await wait(for: s, container: container, deadline: deadline, timeout: timeout) }
            return
        default:
            break
        }
        do {
            try await ReadinessWait.poll(engine: container.engine, id: container.id, deadline: deadline) {
                try await check(strategy, container)
            }
        } catch ReadinessWait.Failure.exited(let code) {
            throw ContainerTestError(message: "container \(container.name) exited (code \(code.map(String.init) ?? "unknown")) before it was ready (waiting for \(describe(strategy)))", logTail: "")
        } catch ReadinessWait.Failure.timedOut(let lastProblem) {
            throw ContainerTestError(message: "container \(container.name) was not ready within \(timeout) s: waiting for \(describe(strategy)); last check: \(lastProblem)", logTail: "")
        }
    }

    static func check(_ strategy: WaitStrategy, _ container: RunningContainer) async throws -> Bool {
        switch strategy {
        case let .port(port):
            return try ReadinessWait.portAccepts(engine: container.engine, state: container.state, port: port)
        case let .http(path, port, status):
            let response = try container.get(path, port: port, timeout: 2)
            if response.status != status {
                throw ContainerTestError(message: "GET \(path) answered \(response.status), not \(status)", logTail: "")
            }
            return true
        case let .log(text, times):
            return container.logs().components(separatedBy: text).count - 1 >= times
        case let .custom(probe):
            return try await probe(container)
        case .none, .all:
            return true
        }
    }

    static func describe(_ strategy: WaitStrategy) -> String {
        switch strategy {
        case .none: return "nothing"
        case let .port(p): return "port \(p) to accept connections"
        case let .http(path, port, status): return "GET \(path) on port \(port) to answer \(status)"
        case let .log(text, times): return "the output to contain \"\(text)\"" + (times > 1 ? " \(times) times" : "")
        case .custom: return "the custom probe"
        case let .all(list): return list.map(describe).joined(separator: ", then ")
        }
    }

    // MARK: Engine, reaper

    static func makeEngine(_ request: ContainerRequest) throws -> ContainerEngine {
        var stores = [try OCILayoutStore(root: request.store, create: false)]
        let user = HostState.defaultStore()
        if FileIO.standardize(user) != stores[0].root, let store = try? OCILayoutStore(root: user, create: false) { stores.append(store) }
        return ContainerEngine(stateDirectory: request.stateDirectory ?? HostState.directory(), stores: stores,
                               runtime: request.runtime, monitorExecutable: try stackshipExecutable())
    }

    /// The stackship executable, which monitors each container: $STACKSHIP_BIN, else the
    /// one built beside this test binary (.build/debug), else `stackship` on PATH.
    public static func stackshipExecutable() throws -> String {
        let env = ProcessInfo.processInfo.environment
        if let path = env["STACKSHIP_BIN"], !path.isEmpty { return path }
        if let me = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var dir = (me as NSString).deletingLastPathComponent
            // An .xctest bundle on Linux is a file in .build/<config>/; on macOS a directory.
            while !dir.isEmpty && dir != "/" {
                let candidate = dir + "/stackship"
                if access(candidate, X_OK) == 0 { return candidate }
                if dir.hasSuffix(".build") { break }
                dir = (dir as NSString).deletingLastPathComponent
            }
        }
        if let onPath = ChildProcess.which("stackship") { return onPath }
        throw ContainerTestError(message: "StackshipTesting needs the stackship executable to supervise containers: build it (swift build --product stackship), put it on PATH, or set STACKSHIP_BIN", logTail: "")
    }

    /// This process, as "pid:starttime" (a pid alone can be reused).
    static let ownerIdentity: String = {
        let pid = getpid()
        return "\(pid):\(processStartTime(pid) ?? "0")"
    }()

    static func processStartTime(_ pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil // field 22 overall: starttime
    }

    static func ownerIsAlive(_ identity: String) -> Bool {
        let parts = identity.split(separator: ":")
        guard parts.count == 2, let pid = pid_t(parts[0]) else { return false }
        return ChildProcess.isAlive(pid) && processStartTime(pid) == String(parts[1])
    }

    /// Removes containers whose owning test process is gone (a crashed or killed run).
    @discardableResult
    public static func reap(_ engine: ContainerEngine) -> [String] {
        var removed: [String] = []
        for state in (try? engine.list()) ?? [] {
            guard let owner = state.labels[ownerLabel], !ownerIsAlive(owner) else { continue }
            if (try? engine.remove(state.id, force: true)) != nil { removed.append(state.name) }
        }
        return removed
    }

    static func tailLines(_ text: String, _ n: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).suffix(n).joined(separator: "\n")
    }
}

/// Starts a container, waits until it is ready, runs `body` with it, and removes it afterwards —
/// when the body returns, throws, or the wait fails.
public func withContainer<T>(_ request: ContainerRequest, _ body: (RunningContainer) async throws -> T) async throws -> T {
    let container = try await StackshipTesting.start(request)
    do {
        let result = try await body(container)
        try container.remove()
        return result
    } catch {
        try? container.remove()
        throw error
    }
}
