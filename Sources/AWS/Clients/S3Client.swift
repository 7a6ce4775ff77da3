import Crypto
import Foundation
import HTTPCore
import Support
import NIOCore
import NIOHTTP1

/// Amazon S3 (and S3 look-alikes through a custom endpoint): objects streamed from and to
/// files with their SHA-256 signed, listing by prefix with pagination, buckets.
///
/// Addressing is virtual-hosted (`bucket.s3.region.amazonaws.com`) on AWS for DNS-safe names
/// without dots, and path-style (`endpoint/bucket/key`) for custom endpoints (AWS_ENDPOINT_URL_S3,
/// S3_ENDPOINT_URL, …) and other names.
public struct S3Client: Sendable {
    /// The shared client.
    public let client: AWSClient

    /// An S3 client over `client`.
    public init(client: AWSClient) { self.client = client }

    /// An object's metadata, from HEAD, GET or a listing.
    public struct ObjectInfo: Sendable, Equatable {
        /// The key.
        public var key: String
        /// The size in bytes.
        public var size: Int64
        /// The ETag, quotes removed.
        public var eTag: String?
        /// When it was last written.
        public var lastModified: Date?
    }

    /// One page of ListObjectsV2.
    public struct ListPage: Sendable {
        /// The objects, in key order.
        public var objects: [ObjectInfo]
        /// With a delimiter: the "directories".
        public var commonPrefixes: [String]
        /// Pass this to get the next page; nil on the last page.
        public var nextContinuationToken: String?
    }

    // MARK: - Objects

    /// PutObject from memory. With `ifNoneMatch`, the write happens only if the key does not
    /// exist yet (`If-None-Match: *`); otherwise S3 answers 412 (`AWSError.isPreconditionFailed`).
    /// Returns the ETag.
    @discardableResult
    public func putObject(bucket: String, key: String, data: Data, contentType: String? = nil, ifNoneMatch: Bool = false) async throws -> String? {
        let response = try await client.send(request("PutObject", .PUT, bucket: bucket, key: key,
                                                     headers: putHeaders(contentType: contentType, ifNoneMatch: ifNoneMatch), body: .data(data)))
        return response.headers.first(name: "ETag").map(Self.unquote)
    }

    /// PutObject streamed from the file at `path` (up to 5 GiB, S3's single-PUT limit). The file
    /// is read twice: once to hash it (the hash is signed, so S3 rejects a corrupted upload), once
    /// to send it. `ifNoneMatch` as in `putObject(data:)`. Returns the ETag.
    @discardableResult
    public func putObject(bucket: String, key: String, file path: String, contentType: String? = nil, ifNoneMatch: Bool = false) async throws -> String? {
        let (size, sha256) = try Self.hashFile(path)
        guard size <= 5 << 30 else {
            throw AWSError.invalidArgument("\(path) is \(size) bytes; single S3 uploads are limited to 5 GiB (multipart upload is not implemented).")
        }
        let response = try await client.send(request("PutObject", .PUT, bucket: bucket, key: key,
                                                     headers: putHeaders(contentType: contentType, ifNoneMatch: ifNoneMatch),
                                                     body: .file(path: path, size: size, sha256: sha256)))
        return response.headers.first(name: "ETag").map(Self.unquote)
    }

    /// GetObject into memory (at most `limit` bytes).
    public func getObject(bucket: String, key: String, limit: Int = 256 << 20) async throws -> Data {
        try await client.send(request("GetObject", .GET, bucket: bucket, key: key), limit: limit).body
    }

    /// GetObject streamed to the file at `path`, written atomically: the object appears there
    /// whole (its length checked against Content-Length) or the file is left as it was.
    @discardableResult
    public func getObject(bucket: String, key: String, to path: String) async throws -> ObjectInfo {
        try await client.stream(request("GetObject", .GET, bucket: bucket, key: key)) { response in
            let expected = response.headers.first(name: "Content-Length").flatMap { Int64($0) }
            let writer: AtomicFileWriter
            do { writer = try AtomicFileWriter(destination: path) } catch {
                throw AWSError.fileWriteFailed(path: path, reason: "\(error)")
            }
            var received: Int64 = 0
            do {
                for try await buffer in response.body {
                    try buffer.withUnsafeReadableBytes { try writer.write($0) }
                    received += Int64(buffer.readableBytes)
                }
            } catch {
                writer.abort()
                if error is SupportError { throw AWSError.fileWriteFailed(path: path, reason: "\(error)") }
                throw error
            }
            if let expected, expected != received {
                writer.abort()
                throw AWSError.incompleteDownload(bucket: bucket, key: key, expected: expected, received: received)
            }
            do { try writer.commit() } catch {
                throw AWSError.fileWriteFailed(path: path, reason: "\(error)")
            }
            return ObjectInfo(key: key, size: received, eTag: response.headers.first(name: "ETag").map(Self.unquote),
                              lastModified: response.headers.first(name: "Last-Modified").flatMap(Self.parseHTTPDate))
        }
    }

    /// HeadObject; nil when the object does not exist.
    public func headObject(bucket: String, key: String) async throws -> ObjectInfo? {
        do {
            let response = try await client.send(request("HeadObject", .HEAD, bucket: bucket, key: key))
            return ObjectInfo(key: key, size: response.headers.first(name: "Content-Length").flatMap { Int64($0) } ?? 0,
                              eTag: response.headers.first(name: "ETag").map(Self.unquote),
                              lastModified: response.headers.first(name: "Last-Modified").flatMap(Self.parseHTTPDate))
        } catch let AWSError.service(error) where error.status == 404 {
            return nil
        }
    }

    /// DeleteObject (succeeds when the object does not exist, as S3 does).
    public func deleteObject(bucket: String, key: String) async throws {
        _ = try await client.send(request("DeleteObject", .DELETE, bucket: bucket, key: key))
    }

    /// One page of ListObjectsV2 under `prefix`.
    public func listObjectsV2(bucket: String, prefix: String = "", delimiter: String? = nil,
                              continuationToken: String? = nil, maxKeys: Int? = nil) async throws -> ListPage {
        var query = [("list-type", "2")]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        if let delimiter { query.append(("delimiter", delimiter)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        if let maxKeys { query.append(("max-keys", String(maxKeys))) }
        let response = try await client.send(request("ListObjectsV2", .GET, bucket: bucket, key: nil, query: query))
        let xml: AWSXMLElement
        do { xml = try AWSXMLElement.parse(bytes: response.body) } catch {
            throw AWSError.unexpectedResponse(operation: "S3.ListObjectsV2", detail: "\(error)")
        }
        let objects = xml.children("Contents").map { c in
            ObjectInfo(key: c.string("Key") ?? "", size: Int64(c.string("Size") ?? "") ?? 0,
                       eTag: c.string("ETag").map(Self.unquote), lastModified: c.string("LastModified").flatMap(AWSDate.parse))
        }
        let truncated = xml.string("IsTruncated") == "true"
        return ListPage(objects: objects, commonPrefixes: xml.children("CommonPrefixes").compactMap { $0.string("Prefix") },
                        nextContinuationToken: truncated ? xml.string("NextContinuationToken") : nil)
    }

    /// Every object under `prefix`, following continuation tokens.
    public func listAllObjects(bucket: String, prefix: String = "", pageSize: Int? = nil) async throws -> [ObjectInfo] {
        var all: [ObjectInfo] = []
        var token: String?
        repeat {
            let page = try await listObjectsV2(bucket: bucket, prefix: prefix, continuationToken: token, maxKeys: pageSize)
            all += page.objects
            token = page.nextContinuationToken
        } while token != nil
        return all
    }

    // MARK: - Buckets

    /// CreateBucket in the client's region.
    public func createBucket(_ bucket: String) async throws {
        var body = Data()
        if client.region != "us-east-1" {
            body = Data("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(Escaping.xml(client.region))</LocationConstraint></CreateBucketConfiguration>".utf8)
        }
        _ = try await client.send(request("CreateBucket", .PUT, bucket: bucket, key: nil, body: body.isEmpty ? .empty : .data(body)))
    }

    /// DeleteBucket (it must be empty).
    public func deleteBucket(_ bucket: String) async throws {
        _ = try await client.send(request("DeleteBucket", .DELETE, bucket: bucket, key: nil))
    }

    // MARK: - Helpers

    func request(_ operation: String, _ method: HTTPMethod, bucket: String, key: String?, query: [(String, String)] = [],
                 headers: HTTPHeaders = HTTPHeaders(), body: AWSRequestBody = .empty) throws -> AWSRequest {
        guard Self.isValidBucketName(bucket) else {
            throw AWSError.invalidArgument("'\(bucket)' is not a valid S3 bucket name (3-63 characters: lower-case letters, digits, '.', '-').")
        }
        let endpoint = try client.endpoint(for: .s3)
        let virtualHost = !endpoint.isCustom && !bucket.contains(".")
        let keyPath = key.map { "/" + AWSURIEncoding.encodeKey($0) } ?? (virtualHost ? "/" : "")
        return AWSRequest(service: .s3, operation: operation, method: method,
                          path: virtualHost ? keyPath : "/\(bucket)\(keyPath)", query: query, headers: headers, body: body,
                          hostPrefix: virtualHost ? "\(bucket)." : "")
    }

    func putHeaders(contentType: String?, ifNoneMatch: Bool) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType ?? "application/octet-stream")
        if ifNoneMatch { headers.add(name: "If-None-Match", value: "*") }
        return headers
    }

    /// Size and hex SHA-256 of a file, read in 1 MiB blocks.
    static func hashFile(_ path: String) throws -> (Int64, String) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AWSError.fileUnreadable(path: path, reason: "missing or unreadable")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch {
                throw AWSError.fileUnreadable(path: path, reason: "\(error)")
            }
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
            size += Int64(chunk.count)
        }
        return (size, SigV4Signer.hex(hasher.finalize()))
    }

    /// S3's bucket naming rules (the parts that matter for addressing).
    public static func isValidBucketName(_ name: String) -> Bool {
        guard (3...63).contains(name.count), let first = name.first, let last = name.last,
              first.isLetter || first.isNumber, last.isLetter || last.isNumber else { return false }
        return name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "." } && !name.contains("..")
    }

    static func unquote(_ s: String) -> String { s.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }

    static func parseHTTPDate(_ s: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: s)
    }
}

extension AWSError {
    /// The AWS error code when this is a service error.
    public var serviceCode: String? {
        if case let .service(e) = self { return e.code }
        return nil
    }

    /// The HTTP status when this is a service error.
    public var httpStatus: Int? {
        if case let .service(e) = self { return e.status }
        return nil
    }

    /// True for S3's answer to a conditional write whose condition failed (412, or 409
    /// ConditionalRequestConflict for a concurrent conditional write).
    public var isPreconditionFailed: Bool {
        httpStatus == 412 || serviceCode == "PreconditionFailed" || serviceCode == "ConditionalRequestConflict"
    }

    /// True when the thing asked for does not exist (404 / NoSuchKey / NoSuchBucket / *NotFound*).
    public var isNotFound: Bool {
        guard case let .service(e) = self else { return false }
        return e.status == 404 || e.code.hasPrefix("NoSuch") || e.code.contains("NotFound")
    }
}
