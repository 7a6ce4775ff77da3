import AWS
import Foundation

/// Turns a cache location as a user writes it (a path, `file://…`, `s3://bucket/prefix`) into a backend.
public enum CacheLocation {
    /// The backend for `location`: a directory path or a `file://` URL. `create` makes a
    /// missing directory; otherwise a missing one throws `BuildCacheError.cacheMissing`.
    /// `s3://bucket/prefix` is an S3 cache reached the AWS CLI's way (credential chain, region,
    /// AWS_ENDPOINT_URL_S3 / S3_ENDPOINT_URL / AWS_ENDPOINT_URL for S3 that is not AWS); the
    /// bucket must exist (`create` does not make buckets).
    public static func backend(_ location: String, create: Bool) throws -> any CacheBackend {
        if location.hasPrefix("file://") {
            guard let url = URL(string: location), url.isFileURL, !url.path.isEmpty else {
                throw BuildCacheError.unsupportedCacheLocation(location, reason: "not a valid file:// URL; write file:///absolute/path or just the path")
            }
            return try DirectoryBackend(root: url.path, create: create)
        }
        if location.hasPrefix("s3://") {
            let parsed: S3Location
            do { parsed = try S3Location(url: location) } catch {
                throw BuildCacheError.unsupportedCacheLocation(location, reason: "not a valid S3 URL; write s3://BUCKET or s3://BUCKET/PREFIX (bucket names: 3-63 lower-case letters, digits, '.', '-')")
            }
            return S3Backend(parsed, client: try SharedAWSClient.get())
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

/// One AWS client per process for S3 caches, made on first use and kept for the process's
/// life (its connections are pooled across every cache and command that reads one).
enum SharedAWSClient {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var client: AWSClient?

    static func get() throws -> AWSClient {
        try lock.withLock {
            if let client { return client }
            let environment = ProcessInfo.processInfo.environment
            let made: AWSClient
            do {
                made = try AWSClient(environment: environment)
            } catch AWSError.noRegion {
                // S3 answers in any region for a custom endpoint; AWS itself redirects with a
                // clear error naming the bucket's region.
                made = try AWSClient(region: "us-east-1", environment: environment)
            }
            client = made
            return made
        }
    }
}
