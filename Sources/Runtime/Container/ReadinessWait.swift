#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Waiting for a started container to be ready: the one loop `stackship test` and
/// StackshipTesting's wait strategies share.
public enum ReadinessWait {
    /// Why a wait ended without the container becoming ready.
    public enum Failure: Error, Sendable {
        /// The container stopped first, with this exit code (nil if unknown).
        case exited(code: Int32?)
        /// The deadline passed; `lastProblem` is what the last check said.
        case timedOut(lastProblem: String)
    }

    /// Runs `check` every `interval` until it returns true. Throws `Failure.exited` as soon as
    /// the container `id` is no longer running, and `Failure.timedOut` at `deadline`; an error
    /// `check` throws counts as "not ready yet" and is reported as the last problem.
    public static func poll(engine: ContainerEngine, id: String, deadline: Date, interval: Duration = .milliseconds(50),
                            check: () async throws -> Bool) async throws {
        var lastProblem = "not checked yet"
        while true {
            let state = try engine.load(id)
            guard state.status == .running else { throw Failure.exited(code: state.exitCode) }
            do {
                if try await check() { return }
                lastProblem = "not ready"
            } catch {
                lastProblem = "\(error)"
            }
            if Date() >= deadline { throw Failure.timedOut(lastProblem: lastProblem) }
            try await Task.sleep(for: interval)
        }
    }

    /// True when `port` accepts a connection inside the container's network namespace (the
    /// host side of a published port is a relay that accepts before the container listens);
    /// throws the connection's error otherwise.
    public static func portAccepts(engine: ContainerEngine, state: ContainerState, port: Int, timeoutMilliseconds: Int32 = 500) throws -> Bool {
        let fd = try NetworkNamespace.connect(namespace: engine.networkNamespace(of: state), port: port, timeoutMilliseconds: timeoutMilliseconds)
        close(fd)
        return true
    }
}
