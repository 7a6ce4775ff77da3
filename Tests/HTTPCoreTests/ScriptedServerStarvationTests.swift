#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StackshipTesting
import Testing

/// The scripted server answers from its event loop, not the cooperative pool: end-to-end tests
/// wait synchronously for a CLI child, and with two cores a few of them hold every pool thread.
/// (CI failed this way: the server's answer never came, the client timed out on plain HTTP and
/// then reported the TLS error of its HTTPS attempt.)
@Suite struct ScriptedServerStarvationTests {
    @Test func itAnswersWhileEveryCooperativeThreadIsBlocked() async throws {
        try await ScriptedServer.with([.init(status: 503, body: "down")]) { server in
            let release = DispatchSemaphore(value: 0)
            let blockers = ProcessInfo.processInfo.activeProcessorCount + 1
            for _ in 0..<blockers { Task.detached { release.wait() } }
            usleep(300_000)  // let the blockers take the pool's other threads
            // This thread blocks too, in a plain socket read: nothing in the pool can move.
            let status = Self.blockingGet(port: server.port, path: "/v2/", timeoutSeconds: 10)
            for _ in 0..<blockers { release.signal() }
            #expect(status == "HTTP/1.1 503 Service Unavailable", "the status line, or why none came: \(status)")
        }
    }

    /// `GET path` on 127.0.0.1:port with blocking calls; the response's status line, or what failed.
    static func blockingGet(port: Int, path: String, timeoutSeconds: Int) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "socket: errno \(errno)" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return "connect: errno \(errno)" }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { return "send: errno \(errno)" }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !received.contains(0x0A) {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return n == 0 ? "closed after \(received.count) bytes" : "recv: errno \(errno) (no answer in \(timeoutSeconds) s)" }
            received += buffer[0..<n]
        }
        return String(decoding: received.prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
    }
}
