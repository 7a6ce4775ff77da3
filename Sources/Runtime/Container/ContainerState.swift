import Foundation
import OCI

/// What Stackship records about one container (`containers/<id>/state.json` under the store).
public struct ContainerState: Codable, Hashable, Sendable {
    public enum Status: String, Codable, Sendable {
        /// Set up, not started yet (or its start failed).
        case created
        case running
        case exited
    }

    public var id: String
    public var name: String
    /// The reference the user gave, and the manifest digest it resolved to.
    public var image: String
    public var imageDigest: String
    public var command: [String]
    public var created: Date
    public var status: Status
    /// The container's init process (host pid) while it runs.
    public var pid: Int32?
    /// The stackship monitor that waits for it and serves its published ports.
    public var monitorPid: Int32?
    public var exitCode: Int32?
    public var startedAt: Date?
    public var finishedAt: Date?
    public var ports: [PortMapping]
    public var network: NetworkMode
    /// The OCI runtime executable (runc or crun) it was created with.
    public var runtime: String
    public var autoRemove: Bool
    public var labels: [String: String]
    public var stopSignal: String?
    /// Why it could not start, when it did not.
    public var error: String?

    /// docker ps' status column: "Up 3 minutes", "Exited (0) 2 seconds ago", "Created".
    public func statusText(now: Date = Date()) -> String {
        switch status {
        case .created: return error == nil ? "Created" : "Failed: \(error!)"
        case .running: return "Up \(Self.duration(now.timeIntervalSince(startedAt ?? created)))"
        case .exited:
            return "Exited (\(exitCode ?? -1)) \(Self.duration(now.timeIntervalSince(finishedAt ?? created))) ago"
        }
    }

    static func duration(_ seconds: TimeInterval) -> String {
        let s = Int(max(0, seconds))
        if s < 60 { return s == 1 ? "1 second" : "\(s) seconds" }
        if s < 3600 { return s / 60 == 1 ? "About a minute" : "\(s / 60) minutes" }
        if s < 86400 { return s / 3600 == 1 ? "About an hour" : "\(s / 3600) hours" }
        return "\(s / 86400) days"
    }
}

extension ContainerState {
    /// `state.json`, written by hand (see JSONValue) and read back with Codable (`.iso8601`
    /// dates); ContainerTests checks the round trip with every field set.
    public var json: JSONValue {
        .members([
            ("id", .string(id)),
            ("name", .string(name)),
            ("image", .string(image)),
            ("imageDigest", .string(imageDigest)),
            ("command", .strings(command)),
            ("created", .iso8601(created)),
            ("status", .string(status.rawValue)),
            ("pid", pid.map { .int(Int64($0)) }),
            ("monitorPid", monitorPid.map { .int(Int64($0)) }),
            ("exitCode", exitCode.map { .int(Int64($0)) }),
            ("startedAt", startedAt.map { .iso8601($0) }),
            ("finishedAt", finishedAt.map { .iso8601($0) }),
            ("ports", .array(ports.map {
                .members([("hostIP", .string($0.hostIP)), ("hostPort", .int(Int64($0.hostPort))), ("containerPort", .int(Int64($0.containerPort)))])
            })),
            ("network", .string(network.rawValue)),
            ("runtime", .string(runtime)),
            ("autoRemove", .bool(autoRemove)),
            ("labels", .object(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("stopSignal", stopSignal.map { .string($0) }),
            ("error", error.map { .string($0) }),
        ])
    }
}

/// What the monitor reports to `run` once the container runs, as the line
/// `ok PID MONITOR-PID STARTED-AT` (seconds since 1970): `run` applies it to its own copy of the
/// state, as the monitor did before recording it, and so reads nothing back.
public struct ContainerStart: Equatable, Sendable {
    public var pid: Int32
    public var monitorPid: Int32
    public var startedAt: Date

    public var word: String { "ok \(pid) \(monitorPid) \(startedAt.timeIntervalSince1970)\n" }

    public init(pid: Int32, monitorPid: Int32, startedAt: Date) {
        self.pid = pid
        self.monitorPid = monitorPid
        self.startedAt = startedAt
    }

    /// Parses `word`; nil when it is not an `ok` line (a failure message, say).
    public init?(word: String) {
        let fields = word.split(separator: " ")
        guard fields.count == 4, fields[0] == "ok", word.hasSuffix("\n"),
              let pid = Int32(fields[1]), let monitor = Int32(fields[2]),
              let seconds = Double(fields[3].dropLast()) else { return nil }
        self.init(pid: pid, monitorPid: monitor, startedAt: Date(timeIntervalSince1970: seconds))
    }
}

extension ContainerState {
    /// The container runs: what the monitor records, and what `run` returns.
    public mutating func start(_ started: ContainerStart) {
        status = .running
        pid = started.pid
        monitorPid = started.monitorPid
        startedAt = started.startedAt
    }
}
