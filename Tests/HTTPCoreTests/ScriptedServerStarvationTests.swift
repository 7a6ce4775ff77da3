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
            // This thread is blocked too while curl runs: nothing in the pool can move.
            let r = try runProgram("curl", ["-s", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                                            server.endpoint + "/v2/"])
            for _ in 0..<blockers { release.signal() }
            #expect(r.out == "503", "curl: status \(r.status), code \(r.out), \(r.err)")
        }
    }
}
