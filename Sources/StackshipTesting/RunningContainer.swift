#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Runtime
import Support

/// A started container: its ports, output, and a way to run commands in it and stop it.
public final class RunningContainer: Sendable {
    public let id: String
    public let name: String
    let engine: ContainerEngine
    let state: ContainerState

    init(engine: ContainerEngine, state: ContainerState) {
        self.engine = engine
        self.state = state
        self.id = state.id
        self.name = state.name
    }

    /// Where published ports are reachable from the test.
    public var host: String { "127.0.0.1" }

    /// The host port a container port is published on.
    public func hostPort(_ containerPort: Int) throws -> Int {
        if state.network == .host { return containerPort }
        guard let mapping = state.ports.first(where: { $0.containerPort == containerPort }) else {
            throw ContainerTestError(message: "container port \(containerPort) is not published; add it to the request's exposedPorts (published: \(state.ports.map(\.containerPort)))", logTail: "")
        }
        return mapping.hostPort
    }

    /// `http://127.0.0.1:HOSTPORT/path` for a published container port.
    public func url(port containerPort: Int, path: String = "/") throws -> URL {
        URL(string: "http://\(host):\(try hostPort(containerPort))\(path.hasPrefix("/") ? path : "/" + path)")!
    }

    /// The container's output so far.
    public func logs() -> String {
        (try? String(contentsOfFile: engine.logPath(of: id), encoding: .utf8)) ?? ""
    }

    /// Whether its process still runs.
    public var isRunning: Bool { ((try? engine.load(id))?.status) == .running }

    /// The exit code, once it has exited.
    public var exitCode: Int32? { (try? engine.load(id))?.exitCode }

    /// Runs a command inside; returns its exit code and output.
    public func exec(_ command: [String]) throws -> (status: Int32, output: String) {
        let path = NSTemporaryDirectory() + "stackship-exec-\(UUID().uuidString)"
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ContainerTestError(message: "cannot create \(path)", logTail: "") }
        unlink(path)
        defer { close(fd) }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        let status = try engine.exec(id, command: command, stdio: [null, fd, fd])
        return (status, String(decoding: ChildProcess.readFromStart(fd), as: UTF8.self))
    }

    /// An HTTP GET of `path` on a container port, through its published host port (or inside its
    /// network namespace when the port is not published). For simple checks in tests.
    public func get(_ path: String, port containerPort: Int, timeout: Double = 5) throws -> HTTPResponse {
        let fd = try connect(containerPort, throughHost: true)
        defer { close(fd) }
        return try MiniHTTP.get(fd: fd, path: path, timeout: timeout)
    }

    func connect(_ containerPort: Int, throughHost: Bool) throws -> Int32 {
        if throughHost, let mapping = state.ports.first(where: { $0.containerPort == containerPort }) {
            return try NetworkNamespace.connect(namespace: nil, port: mapping.hostPort)
        }
        return try NetworkNamespace.connect(namespace: engine.networkNamespace(of: state), port: containerPort)
    }

    /// Stops it (stop signal, then SIGKILL after `timeout` seconds).
    public func stop(timeout: Double = 10) throws {
        _ = try engine.stop(id, timeout: timeout)
    }

    /// Stops and removes it, with everything it set up.
    public func remove() throws {
        try engine.remove(id, force: true)
    }
}

/// A response from `RunningContainer.get`.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: String
}

enum MiniHTTP {
    static func get(fd: Int32, path: String, timeout: Double) throws -> HTTPResponse {
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let request = "GET \(path) HTTP/1.1\r\nHost: localhost\r\nUser-Agent: StackshipTesting\r\nConnection: close\r\n\r\n"
        let sent = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        guard sent == request.utf8.count else { throw ContainerTestError(message: "could not send the HTTP request for \(path)", logTail: "") }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while data.count < 16 << 20 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw ContainerTestError(message: "reading the HTTP response for \(path): \(String(cString: strerror(errno)))", logTail: "") }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return try parse(data, path: path)
    }

    static func parse(_ data: Data, path: String) throws -> HTTPResponse {
        let text = String(decoding: data, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n") else {
            throw ContainerTestError(message: "no HTTP response for \(path) (the connection closed after \(data.count) bytes)", logTail: "")
        }
        let lines = text[..<headEnd.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/"), let status = Int(statusParts[1]) else {
            throw ContainerTestError(message: "malformed HTTP status line for \(path): \(lines[0])", logTail: "")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = String(text[headEnd.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    static func dechunk(_ body: String) -> String {
        var out = ""
        var rest = Substring(body)
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound].split(separator: ";")[0], radix: 16), size > 0 {
            let start = lineEnd.upperBound
            let end = rest.utf8.index(start, offsetBy: size, limitedBy: rest.endIndex) ?? rest.endIndex
            out += rest[start..<end]
            rest = rest[end...].dropFirst(2)
        }
        return out
    }
}
