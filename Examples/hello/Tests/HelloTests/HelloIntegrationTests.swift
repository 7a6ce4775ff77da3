#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StackshipTesting
import Testing

/// The hello service's tests, run against its real image in a running container (built from
/// Examples/hello/stack.yaml, run under runc by StackshipTesting).
@Suite(.serialized) struct HelloIntegrationTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Builds the image into a fresh store once per test (a no-op rebuild after the first layer).
    func buildImage() throws -> String {
        let binary = Self.example + "/.build/release/hello"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw HelloSetupError("the hello binary is not built: run scripts/build-example (scripts/test does)")
        }
        let store = NSTemporaryDirectory() + "hello-store-\(UUID().uuidString.prefix(8))"
        let stackship = try StackshipTesting.stackshipExecutable()
        let log = store + ".log"
        let status = try runQuietly(stackship, ["build", Self.example + "/stack.yaml", "--store", store], log: log)
        guard status == 0 else {
            throw HelloSetupError("stackship build failed: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        return store
    }

    @Test func answersHelloAndPongThroughThePublishedPort() async throws {
        let store = try buildImage()
        defer { try? FileManager.default.removeItem(atPath: store) }
        let request = ContainerRequest(image: "hello:latest", store: store, exposedPorts: [80],
                                       waitStrategy: .http(path: "/ping", port: 80), startupTimeout: 30)
        try await withContainer(request) { hello in
            let root = try hello.get("/", port: 80)
            #expect(root.status == 200)
            #expect(root.body == "Hello, world.")
            let ping = try hello.get("/ping", port: 80)
            #expect(ping.status == 200)
            #expect(ping.body == "pong")
            let missing = try hello.get("/nope", port: 80)
            #expect(missing.status == 404)
            #expect(hello.logs().contains("listening on 0.0.0.0:80"))
        }
    }

    @Test func thePortComesFromHTTP_PORT() async throws {
        let store = try buildImage()
        defer { try? FileManager.default.removeItem(atPath: store) }
        let request = ContainerRequest(image: "hello:latest", store: store, environment: ["HTTP_PORT": "8080"], exposedPorts: [8080],
                                       waitStrategy: .all([.port(8080), .log("listening on 0.0.0.0:8080")]), startupTimeout: 30)
        try await withContainer(request) { hello in
            let ping = try hello.get("/ping", port: 8080)
            #expect(ping.body == "pong")
        }
    }

    @Test func aBadPortIsRefusedWithAClearMessage() async throws {
        let store = try buildImage()
        defer { try? FileManager.default.removeItem(atPath: store) }
        let request = ContainerRequest(image: "hello:latest", store: store, environment: ["HTTP_PORT": "eighty"],
                                       waitStrategy: .port(80), startupTimeout: 30)
        do {
            _ = try await StackshipTesting.start(request)
            Issue.record("the service started with HTTP_PORT=eighty")
        } catch let error as ContainerTestError {
            #expect(error.message.contains("exited (code 2)"))
            #expect(error.logTail.contains("HTTP_PORT must be a port number"))
        }
    }
}

struct HelloSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Runs a program with its output in a file (not a pipe: see the fixtures' notes on Process).
func runQuietly(_ program: String, _ args: [String], log: String) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: program)
    p.arguments = args
    FileManager.default.createFile(atPath: log, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    p.standardOutput = handle
    p.standardError = handle
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus
}
