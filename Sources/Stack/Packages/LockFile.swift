import Foundation
import Support
import OCI

/// `stack.lock`: every package's input hash and every image digest a stack resolved to, so a
/// review shows what a change rebuilds and `cache gc` knows what is still referenced.
///
/// It is canonical JSON (sorted keys), written atomically beside the stack file.
public struct LockFile: Codable, Sendable, Equatable {
    /// One package's entry.
    public struct Package: Codable, Sendable, Equatable {
        /// The input hash (64 hex digits).
        public var hash: String
        /// `version:` as written.
        public var version: String
        /// Everything it depends on (build and run), by name.
        public var dependencies: [String]
        /// The artifact's layer digest, once built or fetched.
        public var artifact: String?

        /// Creates an entry.
        public init(hash: String, version: String, dependencies: [String], artifact: String? = nil) {
            self.hash = hash
            self.version = version
            self.dependencies = dependencies
            self.artifact = artifact
        }
    }

    /// The lock format; 1.
    public var lockVersion: Int
    /// The builder image's manifest digest, when script packages build in a container.
    public var builder: String?
    /// Packages by name.
    public var packages: [String: Package]
    /// Image manifest digests by image name, once built.
    public var images: [String: String]

    enum CodingKeys: String, CodingKey {
        case lockVersion = "lock_version", builder, packages, images
    }

    /// Creates a lock.
    public init(builder: String?, packages: [String: Package], images: [String: String] = [:]) {
        self.lockVersion = 1
        self.builder = builder
        self.packages = packages
        self.images = images
    }

    /// The lock file beside `stack`: `stack.lock` next to `stack.yaml` (`X.lock` for `X.yaml`).
    public static func path(for stack: StackFile) -> String {
        let file = (stack.path as NSString).lastPathComponent
        let base = (file as NSString).deletingPathExtension
        return stack.directory + "/" + (base.isEmpty ? "stack" : base) + ".lock"
    }

    /// Reads a lock file; nil when there is none.
    ///
    /// - Throws: ``PackageBuildError/lockFile(path:reason:)`` when it exists but is not a lock.
    public static func read(_ path: String) throws -> LockFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try JSONDecoder().decode(LockFile.self, from: data)
        } catch {
            throw PackageBuildError.lockFile(path: path, reason: "it is not a stackship lock file (\(error)); delete it and run `stackship lock`")
        }
    }

    /// The hashes this lock references (packages), for `cache gc`.
    public var referencedHashes: Set<String> { Set(packages.values.map(\.hash)) }

    /// Writes the lock atomically.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        try AtomicFileWriter.write(data, to: path)
    }
}
