import Foundation
import HTTPCore
import StackshipTesting
@testable import AWS

/// A temporary HOME and a scrubbed environment (no AWS_* from the machine running the tests,
/// no proxy), removed by `cleanup()`.
struct TestEnvironment {
    let home: String
    var environment: [String: String]

    init(_ extra: [String: String] = [:]) throws {
        home = NSTemporaryDirectory() + "aws-home-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home + "/.aws/sso/cache", withIntermediateDirectories: true)
        environment = ["HOME": home, "PATH": "/usr/bin:/bin"]
        for (k, v) in extra { environment[k] = v }
    }

    /// The moto-pointed environment: endpoint, region and dummy keys.
    static func moto(_ server: MotoServer, keys: Bool = true) throws -> TestEnvironment {
        var env = ["AWS_ENDPOINT_URL": server.endpoint, "AWS_REGION": "us-east-1"]
        if keys {
            env["AWS_ACCESS_KEY_ID"] = "AKIAMOTOTESTKEY00001"
            env["AWS_SECRET_ACCESS_KEY"] = "moto-secret-key-do-not-print"
        }
        return try TestEnvironment(env)
    }

    func write(_ relative: String, _ text: String) throws {
        let path = home + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func client(profile: String? = nil, region: String? = nil) throws -> AWSClient {
        try AWSClient(profile: profile, region: region, environment: environment, home: home)
    }

    /// Runs `body` with a client for this environment, shutting it down however `body` ends.
    func withClient<T>(profile: String? = nil, region: String? = nil, _ body: (AWSClient) async throws -> T) async throws -> T {
        try await client(profile: profile, region: region).withShutdown(body)
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: home) }
}
