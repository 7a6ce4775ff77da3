#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support

/// The OCI runtime binary (runc or crun) and where it keeps its state for Stackship's containers.
public struct OCIRuntime: Sendable, Hashable {
    /// Absolute path of the executable.
    public var executable: String
    /// The runtime's `--root` (`<state>/oci`, so Stackship's containers are its own).
    public var stateRoot: String

    public var name: String { (executable as NSString).lastPathComponent }

    /// Finds the runtime: `requested` (a name on PATH or a path; also STACKSHIP_RUNTIME), else
    /// runc, else crun, on PATH.
    /// `environment` stands in for this process's (which is read with getenv: building
    /// ProcessInfo's dictionary of it is a cost on `run`'s timed path).
    public static func locate(_ requested: String? = nil, stateRoot: String,
                              environment: [String: String]? = nil) throws -> OCIRuntime {
        func variable(_ name: String) -> String? {
            if let environment { return environment[name] }
            return getenv(name).map { String(cString: $0) }
        }
        let wanted = requested ?? variable("STACKSHIP_RUNTIME")
        let path = variable("PATH")
        if let wanted, !wanted.isEmpty {
            guard let found = ChildProcess.which(wanted, path: path) else {
                throw RuntimeError.runtimeMissing(requested: wanted)
            }
            return OCIRuntime(executable: found, stateRoot: stateRoot)
        }
        for candidate in ["runc", "crun"] {
            if let path = ChildProcess.which(candidate, path: path) {
                return OCIRuntime(executable: path, stateRoot: stateRoot)
            }
        }
        throw RuntimeError.runtimeMissing(requested: nil)
    }

    /// Global arguments first, then the command's.
    public func arguments(_ command: [String]) -> [String] {
        ["--root", stateRoot] + command
    }

    /// Runs a runtime command to completion; a non-zero exit becomes `RuntimeError.runtimeFailed`
    /// carrying the runtime's own message.
    @discardableResult
    public func run(_ command: [String], quietFailure: Bool = false) throws -> String {
        let (status, output) = try ChildProcess.run(executable, arguments(command))
        guard status == 0 else {
            throw RuntimeError.runtimeFailed(runtime: name, command: command.first ?? "", message: Self.message(output))
        }
        return output
    }

    /// The last error line runc/crun printed, without its log prefix (runc writes
    /// `time="..." level=error msg="..."`).
    static func message(_ output: String) -> String {
        let lines = output.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        guard var line = lines.last(where: { $0.contains("error") }) ?? lines.last else { return "(no output)" }
        if let range = line.range(of: "msg=\"") {
            line = String(line[range.upperBound...])
            if line.hasSuffix("\"") { line.removeLast() }
            line = line.replacingOccurrences(of: "\\\"", with: "\"")
        }
        return line
    }

    /// The runtime's view of a container: its status ("created", "running", "stopped") and pid,
    /// or nil when it does not know the container.
    public func state(of id: String) -> (status: String, pid: Int32)? {
        guard let (status, output) = try? ChildProcess.run(executable, arguments(["state", id])), status == 0,
              let data = output.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return ((object["status"] as? String) ?? "unknown", Int32((object["pid"] as? Int) ?? 0))
    }

    /// How to start the runtime with `arguments` for a command that makes a container (`run`,
    /// `create`). crun refuses a host with hybrid cgroups whose v2
    /// hierarchy has a controller ("cgroups in hybrid mode not supported"), where runc uses the
    /// v1 hierarchies; there crun is started in a mount namespace of its own without the v2
    /// hierarchy, so that it too uses v1. Its `kill` and `delete` work from the host's.
    public func launch(_ arguments: [String]) -> (executable: String, arguments: [String]) {
        guard name == "crun", Self.crunRefusesCgroups, let unshare = ChildProcess.which("unshare") else {
            return (executable, arguments)
        }
        let script = "umount -l /sys/fs/cgroup/unified && exec \"$0\" \"$@\""
        return (unshare, ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, executable] + arguments)
    }

    /// Whether this host mounts cgroups v1 with a v2 hierarchy that has controllers (crun's test).
    static let crunRefusesCgroups: Bool = {
        let mounts = ((try? FileIO.readFile("/proc/self/mountinfo")).map { String(decoding: $0, as: UTF8.self) } ?? "")
        var types: [String: String] = [:]
        for line in mounts.split(separator: "\n") {
            // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - TYPE SOURCE ..."
            let fields = line.split(separator: " ")
            guard fields.count > 4, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count else { continue }
            types[String(fields[4])] = String(fields[dash + 1])
        }
        guard types["/sys/fs/cgroup"] == "tmpfs", types["/sys/fs/cgroup/unified"] == "cgroup2" else { return false }
        let controllers = (try? String(contentsOfFile: "/sys/fs/cgroup/unified/cgroup.controllers", encoding: .utf8)) ?? ""
        return !controllers.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }()
}
