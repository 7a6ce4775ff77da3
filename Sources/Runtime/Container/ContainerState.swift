import Foundation
import OCI

/// What Stackship records about one container (`containers/<id>/state.json` in the host's state
/// directory, see ``HostState``).
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
    /// The entrypoint part of `command` (the image's, or --entrypoint), for docker's
    /// `Config.Entrypoint` and `Config.Cmd` in `inspect`; nil in a state written before it was recorded.
    public var entrypoint: [String]? = nil
    /// The user as given (-u, else the image's User), for docker's `Config.User`.
    public var user: String? = nil
    /// Whether stdin is attached (-i) and whether the process has a terminal (-t).
    public var interactive: Bool? = nil
    public var tty: Bool? = nil
    /// With -t, the unix socket runc hands the terminal's master to (`--console-socket`).
    public var consoleSocket: String? = nil
    /// The store the image was taken from, so that `inspect` from another folder still finds
    /// its config; nil in a state written before it was recorded.
    public var imageStore: String? = nil

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
            ("entrypoint", entrypoint.map { .strings($0) }),
            ("user", user.map { .string($0) }),
            ("interactive", interactive.map { .bool($0) }),
            ("tty", tty.map { .bool($0) }),
            ("consoleSocket", consoleSocket.map { .string($0) }),
            ("imageStore", imageStore.map { .string($0) }),
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

extension ContainerState {
    /// `state.json` as `json` writes it, read without JSONDecoder (see JSONReader), or nil for
    /// anything else: `ContainerEngine.load` then decodes it with Codable, which decides.
    init?(reading data: Data) {
        guard let json = JSONReader.parse(data), let state = try? ContainerState(json: json) else { return nil }
        self = state
    }

    private init(json: JSONValue) throws {
        let o = try json.object()
        func date(_ key: String) throws -> Date? { try o[key].map { try Self.date(try $0.string()) } }
        guard let status = Status(rawValue: try o.required("status").string()),
              let network = NetworkMode(rawValue: try o.required("network").string()) else { throw JSONReader.Declined() }
        var ports: [PortMapping] = []
        for item in try o.required("ports").array() {
            let p = try item.object()
            ports.append(PortMapping(hostIP: try p.required("hostIP").string(), hostPort: try p.required("hostPort").int(),
                                     containerPort: try p.required("containerPort").int()))
        }
        self.init(id: try o.required("id").string(), name: try o.required("name").string(), image: try o.required("image").string(),
                  imageDigest: try o.required("imageDigest").string(), command: try o.required("command").strings(),
                  created: try Self.date(try o.required("created").string()), status: status,
                  pid: try o["pid"]?.int32(), monitorPid: try o["monitorPid"]?.int32(), exitCode: try o["exitCode"]?.int32(),
                  startedAt: try date("startedAt"), finishedAt: try date("finishedAt"), ports: ports, network: network,
                  runtime: try o.required("runtime").string(), autoRemove: try o.required("autoRemove").bool(),
                  labels: try o.required("labels").stringMap(), stopSignal: try o["stopSignal"]?.string(), error: try o["error"]?.string(),
                  entrypoint: try o["entrypoint"]?.strings(), user: try o["user"]?.string(),
                  interactive: try o["interactive"]?.bool(), tty: try o["tty"]?.bool(),
                  consoleSocket: try o["consoleSocket"]?.string(), imageStore: try o["imageStore"]?.string())
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, the one form `JSONValue.iso8601` writes.
    static func date(_ text: String) throws -> Date {
        let b = Array(text.utf8)
        guard b.count == 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"), b[19] == UInt8(ascii: "Z") else { throw JSONReader.Declined() }
        func number(_ range: Range<Int>) throws -> Int32 {
            var n: Int32 = 0
            for i in range {
                guard b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") else { throw JSONReader.Declined() }
                n = n * 10 + Int32(b[i] - UInt8(ascii: "0"))
            }
            return n
        }
        var parts = tm()
        parts.tm_year = try number(0..<4) - 1900
        parts.tm_mon = try number(5..<7) - 1
        parts.tm_mday = try number(8..<10)
        parts.tm_hour = try number(11..<13)
        parts.tm_min = try number(14..<16)
        parts.tm_sec = try number(17..<19)
        guard (0...11).contains(parts.tm_mon), (1...31).contains(parts.tm_mday), parts.tm_hour < 24, parts.tm_min < 60, parts.tm_sec < 60 else {
            throw JSONReader.Declined()
        }
        let seconds = timegm(&parts)
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}
