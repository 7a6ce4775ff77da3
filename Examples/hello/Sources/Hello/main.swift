import Foundation
import Hummingbird

/// The port comes from HTTP_PORT (default 80); the address from HTTP_HOST (default all interfaces).
let environment = ProcessInfo.processInfo.environment
let portText = environment["HTTP_PORT"] ?? "80"
guard let port = Int(portText), (1...65535).contains(port) else {
    FileHandle.standardError.write(Data("hello: HTTP_PORT must be a port number from 1 to 65535, not \"\(portText)\"\n".utf8))
    exit(2)
}
let host = environment["HTTP_HOST"] ?? "0.0.0.0"

let router = Router()
router.get("/") { _, _ in "Hello, world." }
router.get("/ping") { _, _ in "pong" }

let app = Application(
    router: router,
    configuration: .init(address: .hostname(host, port: port), serverName: "hello")
)
// Written unbuffered, so `stackship logs` shows it at once even when stdout is a file.
FileHandle.standardOutput.write(Data("hello: listening on \(host):\(port)\n".utf8))
try await app.runService()
