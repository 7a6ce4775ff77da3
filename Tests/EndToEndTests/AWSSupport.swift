#if canImport(Glibc)
import Glibc
#endif
import AWS
import Foundation
import HTTPCore
import Runtime
import StackshipTesting
import Testing
import Support

/// A scratch project for the `stackship aws` tests: a folder with a stack file, a private HOME
/// and docker config, and an environment scrubbed of the machine's AWS_* and proxy variables.
final class AWSProject: @unchecked Sendable {
    let path: String
    var environment: [String: String]

    /// Fake but recognisable secrets: no output, log or generated file may contain them.
    static let secretAccessKey = "SECRETKEY/do-not-print-0123456789abcdefXYZ"
    static let sessionToken = "SESSIONTOKEN-do-not-print-FwoGZXIvYXdzEJr"
    static let accessKeyID = "AKIASTACKSHIPTEST001"

    init(endpoint: String?, credentials: Bool = true) throws {
        path = NSTemporaryDirectory() + "stackship-aws-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path + "/home/.docker", withIntermediateDirectories: true)
        environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": path + "/home",
            "DOCKER_CONFIG": path + "/home/.docker",
            "CI": "true",
            "AWS_REGION": "us-east-1",
            "STACKSHIP_AWS_POLL_SECONDS": "0.05",
            // Containers and the per-user store of this project alone, never the machine's.
            "STACKSHIP_STATE": path + "/state",
        ]
        if let endpoint { environment["AWS_ENDPOINT_URL"] = endpoint }
        if credentials {
            environment["AWS_ACCESS_KEY_ID"] = Self.accessKeyID
            environment["AWS_SECRET_ACCESS_KEY"] = Self.secretAccessKey
            environment["AWS_SESSION_TOKEN"] = Self.sessionToken
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ relative: String, _ text: String) throws {
        let p = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: p))
    }

    /// Runs `stackship ARGS` in the project through ChildProcess (not Foundation's Process,
    /// whose children inherit blocked signals), stdout and stderr to separate files.
    @discardableResult
    func stackship(_ args: [String], env extra: [String: String] = [:]) throws -> Result {
        var env = environment
        for (k, v) in extra { env[k] = v }
        let outPath = path + "/.out-\(UUID().uuidString)", errPath = path + "/.err-\(UUID().uuidString)"
        let out = open(outPath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        let err = open(errPath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(out); close(err); close(null); unlink(outPath); unlink(errPath) }
        let pid = try ChildProcess.spawn(try stackshipBinary(), args, environment: env, fds: [null, out, err], directory: path)
        let status = ChildProcess.wait(pid)
        return Result(status: status, out: String(decoding: ChildProcess.readFromStart(out), as: UTF8.self),
                      err: String(decoding: ChildProcess.readFromStart(err), as: UTF8.self))
    }

    /// Every regular file under the project (templates, stack file, home), as text.
    func allFiles() -> [(path: String, text: String)] {
        var files: [(String, String)] = []
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let rel = enumerator?.nextObject() as? String {
            let full = path + "/" + rel
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue,
                  let data = FileManager.default.contents(atPath: full) else { continue }
            files.append((full, String(decoding: data, as: UTF8.self)))
        }
        return files
    }

    /// An AWS client against `endpoint` with the test keys.
    static func client(_ endpoint: String) -> AWSClient {
        AWSClient(credentials: AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey)),
                  region: "us-east-1", endpoint: endpoint, options: TransportOptions(environment: [:]))
    }
}

/// Runs `body` with a client for `endpoint`, shut down however it ends.
func withAWS<T>(_ endpoint: String, _ body: (AWSClient) async throws -> T) async throws -> T {
    try await AWSProject.client(endpoint).withShutdown(body)
}

/// Stack files for the AWS tests.
enum AWSStackFiles {
    static let digest = "sha256:" + String(repeating: "0123456789abcdef", count: 4)

    /// Every stack kind, with the common options.
    static let everyKind = """
        aws:
          project: hello
          tags: {team: web}
          source_credentials:
            - server_type: GITHUB
              secret: ci/github
          ci_build:
            source:
              type: GITHUB
              location: https://github.com/acme/hello.git
            artifacts: {expire_after_days: 14, versioning: true}
            ecr_repositories: [hello]
          release_build:
            source:
              location: https://github.com/acme/hello.git
              version: main
            ecr_repositories: [hello]
          registry:
            github_repository: acme/hello
          service:
            image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/hello@\(digest)
            port: 8080
          event_job:
            image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/hello-job@\(digest)
        """

    /// Only a registry section.
    static let registryOnly = """
        aws:
          project: hello
          registry:
            github_repository: acme/hello
        """
}
