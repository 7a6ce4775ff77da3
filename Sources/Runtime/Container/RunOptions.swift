import Support
import OCI

/// A published port: connections to `hostIP:hostPort` on the host reach `containerPort`
/// inside the container (`-p [IP:]HOST:CONTAINER[/tcp]`, docker's syntax).
public struct PortMapping: Codable, Hashable, Sendable, CustomStringConvertible {
    public var hostIP: String
    /// 0 asks for any free port (`-p CONTAINER` or `-p IP::CONTAINER`); the bound one is recorded.
    public var hostPort: Int
    public var containerPort: Int

    public init(hostIP: String = "0.0.0.0", hostPort: Int, containerPort: Int) {
        self.hostIP = hostIP
        self.hostPort = hostPort
        self.containerPort = containerPort
    }

    /// Parses docker's `-p` forms: `8080:80`, `127.0.0.1:8080:80`, `127.0.0.1::80`, `80`, with
    /// an optional `/tcp`.
    public init(parsing text: String) throws {
        var body = Substring(text)
        if let slash = body.lastIndex(of: "/") {
            let proto = body[body.index(after: slash)...]
            guard !proto.isEmpty else {
                throw RuntimeError.badOption(option: "-p \(text)", reason: "nothing follows the '/'; write the protocol (tcp) or drop the '/', e.g. -p 8090:80")
            }
            guard proto == "tcp" else {
                throw RuntimeError.badOption(option: "-p \(text)", reason: "only TCP ports can be published (\(proto) is not supported)")
            }
            body = body[..<slash]
        }
        let parts = body.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func port(_ s: String, allowZero: Bool) throws -> Int {
            if s.isEmpty && allowZero { return 0 }
            // Digits only: Int("+80") would take a sign docker refuses.
            guard !s.isEmpty, s.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  let n = Int(s), (allowZero ? 0 : 1)...65535 ~= n else {
                throw RuntimeError.badOption(option: "-p \(text)", reason: "'\(s)' is not a port number (1-65535); the form is [IP:]HOST:CONTAINER, e.g. -p 8090:80")
            }
            return n
        }
        switch parts.count {
        case 1: self.init(hostPort: 0, containerPort: try port(parts[0], allowZero: false))
        case 2: self.init(hostPort: try port(parts[0], allowZero: true), containerPort: try port(parts[1], allowZero: false))
        case 3:
            guard IPv4.parse(parts[0]) != nil else {
                throw RuntimeError.badOption(option: "-p \(text)", reason: "'\(parts[0])' is not an IPv4 address")
            }
            self.init(hostIP: parts[0], hostPort: try port(parts[1], allowZero: true), containerPort: try port(parts[2], allowZero: false))
        default:
            throw RuntimeError.badOption(option: "-p \(text)", reason: "the form is [IP:]HOST:CONTAINER, e.g. -p 8090:80")
        }
    }

    public var description: String { "\(hostIP):\(hostPort)->\(containerPort)/tcp" }
}

/// A bind mount from the host (`-v HOST:CONTAINER[:ro]`).
public struct VolumeMount: Codable, Hashable, Sendable {
    public var source: String
    public var destination: String
    public var readOnly: Bool

    public init(source: String, destination: String, readOnly: Bool = false) {
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
    }

    /// Parses `-v HOST:CONTAINER[:ro|rw]`; a relative host path is taken from `directory`.
    public init(parsing text: String, relativeTo directory: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, parts[1].hasPrefix("/") else {
            throw RuntimeError.badOption(option: "-v \(text)", reason: "the form is HOST:CONTAINER[:ro] with an absolute container path, e.g. -v ./data:/data:ro")
        }
        guard parts[0].hasPrefix("/") || parts[0].hasPrefix(".") else {
            throw RuntimeError.badOption(option: "-v \(text)", reason: "'\(parts[0])' looks like a named volume, which Stackship does not manage; give a host path (absolute, or starting with ./)")
        }
        guard PathText.normalized(parts[1]) != "/" else {
            throw RuntimeError.badOption(option: "-v \(text)", reason: "the container path cannot be '/', the container's root; mount at a folder such as /data")
        }
        var readOnly = false
        if parts.count == 3 {
            switch parts[2] {
            case "ro": readOnly = true
            case "rw": readOnly = false
            case "":
                throw RuntimeError.badOption(option: "-v \(text)", reason: "nothing follows the last ':'; write ro or rw there, or drop the ':'")
            default:
                throw RuntimeError.badOption(option: "-v \(text)", reason: "unknown mode '\(parts[2])'; use ro or rw")
            }
        }
        let source = parts[0].hasPrefix("/") ? parts[0] : directory + "/" + parts[0]
        self.init(source: PathText.normalized(source), destination: PathText.normalized(parts[1]), readOnly: readOnly)
    }
}

/// How a container reaches the network.
public enum NetworkMode: String, Codable, Hashable, Sendable {
    /// Its own network namespace with only loopback; published ports are relayed into it.
    case isolated
    /// The host's network namespace (`--network host`).
    case host
    /// Its own namespace with loopback only and no published ports (`--network none`).
    case none
}

/// Everything `run` can set beyond the image's own config, with docker's meaning.
public struct RunOptions: Sendable {
    public var name: String?
    /// Replaces the image's Cmd (the arguments after the image reference).
    public var command: [String]?
    /// Replaces the image's Entrypoint (and drops its Cmd, as docker does).
    public var entrypoint: [String]?
    /// `-e NAME=VALUE` and `--env-file` lines, applied over the image's Env in order.
    public var environment: [String] = []
    public var workdir: String?
    public var user: String?
    public var hostname: String?
    public var readOnlyRoot = false
    public var volumes: [VolumeMount] = []
    public var ports: [PortMapping] = []
    public var network: NetworkMode = .isolated
    public var autoRemove = false
    public var labels: [String: String] = [:]
    /// `-i`: the container's stdin is this process's descriptor 0 (without `tty`), or what the
    /// caller relays into its terminal (with it).
    public var interactive = false
    /// `-t`: the process gets a terminal; runc hands its master to `consoleSocket`.
    public var tty = false
    /// With `tty`, the listening unix socket (see ``ConsoleSocket``) runc sends the master to.
    public var consoleSocket: String?
    /// With `tty`, the terminal's size when it starts (rows, columns): the caller's own, so a
    /// program that asks at once sees it before the relay follows later changes.
    public var consoleSize: (rows: UInt16, columns: UInt16)?

    public init() {}
}

enum PathText {
    /// `/a/./b/../c/` → `/a/c`, and `a/b` → `/a/b` (lexically; no file system access).
    static func normalized(_ path: String) -> String { FileIO.standardize("/" + path) }
}

enum IPv4 {
    static func parse(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for p in parts {
            guard let b = UInt8(p) else { return nil }
            value = value << 8 | UInt32(b)
        }
        return value
    }
}
