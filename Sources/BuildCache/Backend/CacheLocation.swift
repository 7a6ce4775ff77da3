import Foundation

/// Turns a cache location as a user writes it (a path, `file://…`, later `s3://…`) into a backend.
public enum CacheLocation {
    /// The backend for `location`: a directory path or a `file://` URL. `create` makes a
    /// missing directory; otherwise a missing one throws `BuildCacheError.cacheMissing`.
    /// `s3://` is not supported yet and throws `unsupportedCacheLocation`.
    public static func backend(_ location: String, create: Bool) throws -> any CacheBackend {
        if location.hasPrefix("file://") {
            guard let url = URL(string: location), url.isFileURL, !url.path.isEmpty else {
                throw BuildCacheError.unsupportedCacheLocation(location, reason: "not a valid file:// URL; write file:///absolute/path or just the path")
            }
            return try DirectoryBackend(root: url.path, create: create)
        }
        if location.hasPrefix("s3://") {
            throw BuildCacheError.unsupportedCacheLocation(location, reason: "S3 caches are not supported yet; use a directory path (or file:// URL) for now")
        }
        if let scheme = location.range(of: "://") {
            throw BuildCacheError.unsupportedCacheLocation(location, reason: "unknown scheme '\(location[..<scheme.lowerBound])'; use a directory path or a file:// URL")
        }
        guard !location.isEmpty else {
            throw BuildCacheError.unsupportedCacheLocation(location, reason: "the location is empty; give a directory path")
        }
        return try DirectoryBackend(root: location, create: create)
    }
}
