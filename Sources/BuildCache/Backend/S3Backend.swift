import AWS
import Foundation
import OCI

/// A cache in S3 (or anything that speaks S3, through `S3_ENDPOINT_URL`/`AWS_ENDPOINT_URL_S3`):
/// each object is `s3://bucket/prefix/key`.
///
/// S3 already has what the cache needs: a PUT replaces an object whole, `If-None-Match: *`
/// makes create-only writes atomic (so of two racing index pushes one wins), and listing is
/// by key prefix. Uploads carry their signed SHA-256, so a corrupted upload is refused by S3.
public struct S3Backend: CacheBackend {
    /// Where the cache lives.
    public let bucketLocation: S3Location
    /// The S3 client.
    public let s3: S3Client

    /// A cache at `location` (`s3://bucket/prefix`) reached through `client`.
    public init(_ location: S3Location, client: AWSClient) {
        bucketLocation = location
        s3 = S3Client(client: client)
    }

    /// `s3://bucket/prefix/`; never contains credentials.
    public var location: String { bucketLocation.description }

    public func put(_ key: String, fromFile path: String) async throws {
        try CacheKey.validate(key)
        try await translating(key) { _ = try await s3.putObject(bucket: bucketLocation.bucket, key: bucketLocation.key(key), file: path) }
    }

    public func putIfAbsent(_ key: String, fromFile path: String) async throws -> Bool {
        try CacheKey.validate(key)
        do {
            _ = try await s3.putObject(bucket: bucketLocation.bucket, key: bucketLocation.key(key), file: path, ifNoneMatch: true)
            return true
        } catch let error as AWSError where error.isPreconditionFailed {
            return false
        } catch let AWSError.service(error) where error.status == 409 {
            // ConditionalRequestConflict: another create-only write of this key is in flight.
            return false
        } catch {
            throw translate(error, key: key)
        }
    }

    public func get(_ key: String, toFile path: String) async throws {
        try CacheKey.validate(key)
        do {
            _ = try await s3.getObject(bucket: bucketLocation.bucket, key: bucketLocation.key(key), to: path)
        } catch let AWSError.service(error) where error.status == 404 {
            throw BuildCacheError.objectNotFound(key: key, backend: location)
        } catch {
            throw translate(error, key: key)
        }
    }

    public func head(_ key: String) async throws -> CacheObject? {
        try CacheKey.validate(key)
        return try await translating(key) {
            guard let info = try await s3.headObject(bucket: bucketLocation.bucket, key: bucketLocation.key(key)) else { return nil }
            return CacheObject(key: key, size: info.size, modified: info.lastModified ?? Date())
        }
    }

    public func list(prefix: String) async throws -> [CacheObject] {
        try await translating(prefix) {
            let objects = try await s3.listAllObjects(bucket: bucketLocation.bucket, prefix: bucketLocation.key(prefix))
            return objects.compactMap { object -> CacheObject? in
                guard object.key.hasPrefix(bucketLocation.prefix) else { return nil }
                let key = String(object.key.dropFirst(bucketLocation.prefix.count))
                // Keys no cache writes (a stray upload, a temporary name) are not the cache's.
                guard (try? CacheKey.validate(key)) != nil else { return nil }
                return CacheObject(key: key, size: object.size, modified: object.lastModified ?? Date())
            }.sorted { $0.key < $1.key }
        }
    }

    public func delete(_ key: String) async throws {
        try CacheKey.validate(key)
        try await translating(key) { try await s3.deleteObject(bucket: bucketLocation.bucket, key: bucketLocation.key(key)) }
    }

    private func translating<T>(_ key: String, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw translate(error, key: key) }
    }

    /// AWS errors keep their own text (it names the fix: credentials, permissions, region);
    /// a missing bucket says which bucket and how to make it.
    private func translate(_ error: Error, key: String) -> Error {
        if case let AWSError.service(service) = error, service.code == "NoSuchBucket" {
            return BuildCacheError.unsupportedCacheLocation(location, reason: """
                bucket '\(bucketLocation.bucket)' does not exist (at \(s3.client.endpointDescription)); create it \
                (`aws s3 mb s3://\(bucketLocation.bucket)`) or check the bucket name and S3_ENDPOINT_URL
                """)
        }
        return error
    }
}

extension AWSClient {
    /// The S3 endpoint as a URL for messages, or the region when it cannot be resolved.
    var endpointDescription: String {
        (try? endpoint(for: .s3))?.description ?? "S3 in \(region)"
    }
}
