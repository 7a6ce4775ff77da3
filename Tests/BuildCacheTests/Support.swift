#if canImport(Glibc)
import Glibc
#endif
import AWS
import BuildCache
import Foundation
import OCI
import StackshipTesting
import Testing

/// Makes a fresh, empty backend for one test. Every behavioural test is parameterised over
/// `BackendFactory.all`, so a new backend (S3 against moto_server, say) gets the whole suite by
/// adding its factory here.
struct BackendFactory: Sendable, CustomTestStringConvertible, CustomStringConvertible {
    var name: String
    /// A new empty backend, and what removes it afterwards.
    var make: @Sendable () async throws -> (backend: any CacheBackend, cleanup: @Sendable () -> Void)

    var testDescription: String { name }
    var description: String { name }

    static let directory = BackendFactory(name: "directory") {
        let dir = Scratch.makeDirectory()
        return (try DirectoryBackend(root: dir + "/cache", create: true), { Scratch.remove(dir) })
    }

    /// A new bucket on the test process's shared moto_server (S3 API on loopback), reached
    /// through the S3 endpoint setting as a user's S3-compatible cache would be.
    static let s3 = BackendFactory(name: "s3") {
        let client = try await S3TestClient.shared()
        let bucket = "cache-" + UUID().uuidString.lowercased().prefix(18)
        try await S3Client(client: client).createBucket(String(bucket))
        return (S3Backend(S3Location(bucket: String(bucket), prefix: "team/cache/"), client: client), {})
    }

    static let all: [BackendFactory] = [.directory, .s3]
}

/// One AWS client for the test process, pointed at the shared moto_server with test keys
/// (kept for the process's life, as the CLI keeps its own).
enum S3TestClient {
    static func shared() async throws -> AWSClient {
        let moto = try await MotoServer.shared()
        return box.lock.withLock {
            if let client = box.client { return client }
            let environment = ["S3_ENDPOINT_URL": moto.endpoint, "AWS_REGION": "us-east-1",
                               "AWS_ACCESS_KEY_ID": "AKIAMOTOTESTKEY00001", "AWS_SECRET_ACCESS_KEY": "moto-secret",
                               "HOME": NSTemporaryDirectory()]
            let client = try! AWSClient(environment: environment, home: NSTemporaryDirectory())
            box.client = client
            return client
        }
    }

    private final class Box: @unchecked Sendable {
        let lock = NSLock()
        var client: AWSClient?
    }
    private static let box = Box()
}

/// Scratch directories under the temporary directory.
enum Scratch {
    static func makeDirectory() -> String {
        let path = NSTemporaryDirectory() + "/stackship-buildcache-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return (path as NSString).standardizingPath
    }

    static func remove(_ path: String) {
        // Read-only directories from artifacts must be made writable to be removed.
        if let e = FileManager.default.enumerator(atPath: path) {
            for case let rel as String in e { chmod(path + "/" + rel, 0o755) }
        }
        try? FileManager.default.removeItem(atPath: path)
    }

    static func write(_ path: String, _ text: String, mode: Int = 0o644) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    static func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    /// Every path under `dir` (relative), sorted.
    static func listing(_ dir: String) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: dir)) ?? []).sorted()
    }
}

/// A test environment: a backend, a scratch directory, a signing key.
final class Env: @unchecked Sendable {
    let backend: any CacheBackend
    let cache: PackageCache
    let dir: String
    let key = SigningKey()
    private let cleanupBackend: @Sendable () -> Void

    init(_ factory: BackendFactory) async throws {
        let made = try await factory.make()
        backend = made.backend
        cleanupBackend = made.cleanup
        cache = PackageCache(backend)
        dir = Scratch.makeDirectory()
    }

    deinit {
        cleanupBackend()
        Scratch.remove(dir)
    }

    /// A binary cache reading and pushing this environment's cache, trusting its key.
    func binary(allowUnsigned: Bool = false, signed: Bool = true) -> BinaryCache {
        BinaryCache(caches: [cache], signingKey: signed ? key : nil, allowUnsigned: allowUnsigned)
    }

    /// A package tree with a few kinds of entry, packed as an artifact; returns its path.
    func makeArtifact(_ name: String, content: String = "", compression: Compression = .zstd) throws -> String {
        let tree = dir + "/trees/\(name)-\(UUID().uuidString)"
        try Scratch.write(tree + "/bin/\(name)", "#!/bin/sh\necho \(name) \(content)\n", mode: 0o755)
        try Scratch.write(tree + "/share/\(name)/README", "the \(name) package \(content)\n")
        try FileManager.default.createSymbolicLink(atPath: tree + "/bin/\(name)-link", withDestinationPath: name)
        let out = dir + "/artifacts/\(name)-\(UUID().uuidString).\(PackageMetadata.artifactExtension(compression))"
        try FileManager.default.createDirectory(atPath: dir + "/artifacts", withIntermediateDirectories: true)
        _ = try ArtifactBuilder.make(from: tree, to: out, compression: compression)
        return out
    }

    /// Pushes a package named `name` (hash derived from the name and `salt`) with `deps`.
    @discardableResult
    func push(_ name: String, deps: [PackageHash] = [], salt: String = "", to target: PackageCache? = nil,
              signer: SigningKey? = nil, unsigned: Bool = false) async throws -> PushResult {
        let artifact = try makeArtifact(name, content: salt)
        let info = PackageInfo(hash: hash(name, salt), name: name, version: "1.0", dependencies: deps, platform: "linux/amd64")
        let s: SigningKey? = unsigned ? nil : (signer ?? key)
        return try await (target ?? cache).push(artifact: artifact, info: info, signer: s)
    }

    /// A fresh destination path (not created) beside which nothing else lives.
    func destination() -> String {
        let parent = dir + "/install-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        return parent + "/prefix"
    }
}

/// A deterministic package hash for a test package name.
func hash(_ name: String, _ salt: String = "") -> PackageHash {
    try! PackageHash(Digest.compute(Data((name + "|" + salt).utf8)).encoded)
}

/// Asserts that `body` throws a BuildCacheError matching `matches`, and returns it.
@discardableResult
func expectCacheError(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation,
                      _ matches: (BuildCacheError) -> Bool) async -> BuildCacheError? {
    do {
        try await body()
        Issue.record("expected an error, but it succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as BuildCacheError {
        #expect(matches(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
