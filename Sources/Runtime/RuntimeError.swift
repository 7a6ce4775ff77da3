#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Errors of unpacking and running images; descriptions name the thing and the fix.
public enum RuntimeError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    case io(path: String, operation: String, errno: Int32)
    /// The image's or `--user`'s user cannot be resolved.
    case badUser(spec: String, reason: String)
    /// A `run` option that cannot be used as given.
    case badOption(option: String, reason: String)
    /// Neither the image nor the command line says what to run.
    case noCommand(image: String)
    /// No runc or crun on PATH (or the one asked for is not there).
    case runtimeMissing(requested: String?)
    /// runc/crun refused; `message` is its own.
    case runtimeFailed(runtime: String, command: String, message: String)
    /// A host port to publish on is taken.
    case portInUse(hostIP: String, port: Int)
    case containerNotFound(String)
    case ambiguousContainer(String, matches: [String])
    case nameInUse(name: String, id: String)
    /// An operation that needs a stopped container (rm without -f).
    case containerRunning(String)
    /// An operation that needs a running container (exec).
    case containerNotRunning(String)
    /// A mount the container needs could not be made.
    case mountFailed(target: String, errno: Int32, hint: String)
    /// Nothing answered within the time allowed.
    case timeout(what: String, seconds: Double)
    /// A build step's command exited non-zero; `output` is its last lines, secrets redacted.
    case buildStepFailed(command: String, exitCode: Int32, output: [String])
    /// A build step's command ran past its time limit and was killed.
    case buildStepTimedOut(command: String, seconds: Double, output: [String])

    public var description: String {
        switch self {
        case let .io(path, operation, code):
            return "cannot \(operation) \(path): \(String(cString: strerror(code)))"
        case let .badUser(spec, reason):
            return "cannot run as user '\(spec)': \(reason)"
        case let .badOption(option, reason):
            return "invalid \(option): \(reason)"
        case let .noCommand(image):
            return "image \(image) has no entrypoint or cmd, so there is nothing to run; give a command after the image (stackship run \(image) /bin/sh) or set entrypoint/cmd in its stack file"
        case let .runtimeMissing(requested):
            if let requested {
                return "OCI runtime '\(requested)' not found (from --runtime or STACKSHIP_RUNTIME); give the path of a runc or crun binary, or install one: apt-get install runc"
            }
            return "no OCI runtime found: Stackship runs containers with runc or crun, and neither is on PATH; install one (apt-get install runc, or apt-get install crun) or pass --runtime /path/to/runc"
        case let .runtimeFailed(runtime, command, message):
            return "\(runtime) \(command) failed: \(message)"
        case let .portInUse(hostIP, port):
            return "host port \(port) on \(hostIP) is already in use; publish on another port (-p OTHER:CONTAINER) or stop whatever listens there (ss -ltnp 'sport = :\(port)')"
        case let .containerNotFound(ref):
            return "no container '\(ref)'; `stackship ps -a` lists them"
        case let .ambiguousContainer(ref, matches):
            return "'\(ref)' matches several containers (\(matches.joined(separator: ", "))); give more of the ID or the name"
        case let .nameInUse(name, id):
            return "the name '\(name)' is already used by container \(id.prefix(12)); remove it (stackship rm \(name)) or choose another --name"
        case let .containerRunning(ref):
            return "container \(ref) is running; stop it first (stackship stop \(ref)) or remove it with rm -f"
        case let .containerNotRunning(ref):
            return "container \(ref) is not running; start a new one with stackship run"
        case let .mountFailed(target, code, hint):
            return "cannot mount \(target): \(String(cString: strerror(code))); \(hint)"
        case let .timeout(what, seconds):
            return "\(what) did not happen within \(Format.seconds(seconds))"
        case let .buildStepFailed(command, code, output):
            return "RUN \(command) failed with exit code \(code)\(Format.tail(output)); fix the command or what it needs"
        case let .buildStepTimedOut(command, seconds, output):
            return "RUN \(command) was killed after its time limit of \(Format.seconds(seconds))\(Format.tail(output)); make it faster or allow it more time"
        }
    }

    public var errorDescription: String? { description }
}

enum Format {
    /// A command's last output lines on one line: ` (last output: a | b)`.
    static func tail(_ lines: [String]) -> String {
        lines.isEmpty ? " (it printed nothing)" : " (last output: \(lines.joined(separator: " | ")))"
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s)
    }
}
