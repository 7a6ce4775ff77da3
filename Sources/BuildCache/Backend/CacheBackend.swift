import Foundation

/// What a backend knows about one stored object.
public struct CacheObject: Sendable, Hashable {
    /// The object's key, such as `index/<hash>.json`.
    public var key: String
    /// Its size in bytes.
    public var size: Int64
    /// When it was last written, by the backend's clock.
    public var modified: Date

    /// An object's facts.
    public init(key: String, size: Int64, modified: Date) {
        self.key = key
        self.size = size
        self.modified = modified
    }
}

/// Object-store primitives a binary cache is built on: a local directory, S3, anything that can
/// store whole objects under `/`-separated keys.
///
/// The protocol is the intersection of a file system and S3: no rename, no locks, no appends,
/// listing by key prefix. Every write replaces an object whole (a reader sees the old object or
/// the new one, never part of one); that is all `PackageCache` relies on for concurrency.
///
/// Keys are relative, `/`-separated, with no empty, `.` or `..` components, and no component
/// starting with `.tmp-` (reserved for a backend's temporary files); see `CacheKey.validate`.
public protocol CacheBackend: Sendable {
    /// Where the objects live, for messages (a path, a URL); never contains credentials.
    var location: String { get }

    /// Stores the file at `path` under `key`, replacing any object there, atomically: until the
    /// whole object is stored, readers see the previous object (or none).
    func put(_ key: String, fromFile path: String) async throws

    /// Stores the file at `path` under `key` only if no object is there (create-only, atomic
    /// with respect to other writers); returns false, writing nothing, if one already was.
    func putIfAbsent(_ key: String, fromFile path: String) async throws -> Bool

    /// Downloads the object at `key` into a new file at `path` (replaced atomically).
    /// Throws `BuildCacheError.objectNotFound` if there is none.
    func get(_ key: String, toFile path: String) async throws

    /// The object's size and modification time, or nil if there is none.
    func head(_ key: String) async throws -> CacheObject?

    /// Every object whose key starts with `prefix` (a plain string prefix, as S3 lists), sorted by key.
    func list(prefix: String) async throws -> [CacheObject]

    /// Deletes the object at `key`; deleting a missing object is not an error.
    func delete(_ key: String) async throws
}

extension CacheBackend {
    /// Stores small bytes under `key` (through a temporary file).
    public func put(_ key: String, data: Data) async throws {
        let temp = try TemporaryFile(contents: data)
        defer { temp.remove() }
        try await put(key, fromFile: temp.path)
    }

    /// Stores small bytes under `key` only if no object is there; false if one was.
    public func putIfAbsent(_ key: String, data: Data) async throws -> Bool {
        let temp = try TemporaryFile(contents: data)
        defer { temp.remove() }
        return try await putIfAbsent(key, fromFile: temp.path)
    }

    /// Reads a small object whole, or nil if there is none (refusing anything over `limit`).
    public func getData(_ key: String, limit: Int64 = 16 << 20) async throws -> Data? {
        let temp = TemporaryFile()
        defer { temp.remove() }
        do {
            try await get(key, toFile: temp.path)
        } catch BuildCacheError.objectNotFound {
            return nil
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: temp.path))
        guard Int64(data.count) <= limit else {
            throw BuildCacheError.malformed(what: "cache object \(key) in \(location)", detail: "\(data.count) bytes where a small document of at most \(limit) was expected")
        }
        return data
    }
}

/// Object keys: validation shared by every backend.
public enum CacheKey {
    /// Throws `BuildCacheError.invalidObjectKey` unless `key` is a relative `/`-separated key
    /// with no empty, `.`, `..` or `.tmp-` components.
    public static func validate(_ key: String) throws {
        guard !key.isEmpty else { throw BuildCacheError.invalidObjectKey(key, reason: "it is empty") }
        guard !key.hasPrefix("/") else { throw BuildCacheError.invalidObjectKey(key, reason: "it starts with '/'; keys are relative") }
        guard !key.utf8.contains(0) else { throw BuildCacheError.invalidObjectKey(key, reason: "it contains a NUL byte") }
        for component in key.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { throw BuildCacheError.invalidObjectKey(key, reason: "it has an empty component ('//' or a trailing '/')") }
            if component == "." || component == ".." { throw BuildCacheError.invalidObjectKey(key, reason: "it has a '\(component)' component") }
            if component.hasPrefix(".tmp-") { throw BuildCacheError.invalidObjectKey(key, reason: "'.tmp-' names are reserved for temporary files") }
        }
    }
}

/// A uniquely named file in the temporary directory, removed by `remove()`.
struct TemporaryFile {
    let path: String

    init(in directory: String? = nil) {
        let dir = directory ?? NSTemporaryDirectory()
        path = (dir as NSString).appendingPathComponent("stackship-cache-\(UUID().uuidString)")
    }

    init(contents: Data) throws {
        self.init()
        do {
            try contents.write(to: URL(fileURLWithPath: path))
        } catch {
            throw BuildCacheError.malformed(what: "temporary file \(path)", detail: "cannot be written: \(error.localizedDescription)")
        }
    }

    func remove() { unlink(path) }
}
