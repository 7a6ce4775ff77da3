import Foundation

extension S3Client {
    /// One version (or delete marker) of an object, from ListObjectVersions.
    public struct ObjectVersion: Sendable, Equatable {
        /// The key.
        public var key: String
        /// The version id ("null" for objects written before versioning was enabled).
        public var versionID: String
        /// True for a delete marker rather than data.
        public var isDeleteMarker: Bool
    }

    /// Every version and delete marker in `bucket` (all pages). Works on unversioned buckets
    /// too, where each object has the version id "null".
    public func listAllObjectVersions(bucket: String) async throws -> [ObjectVersion] {
        var all: [ObjectVersion] = []
        var keyMarker: String?
        var versionMarker: String?
        repeat {
            var query = [("versions", "")]
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let versionMarker { query.append(("version-id-marker", versionMarker)) }
            let response = try await client.send(request("ListObjectVersions", .GET, bucket: bucket, key: nil, query: query))
            let xml: AWSXMLElement
            do { xml = try AWSXMLElement.parse(bytes: response.body) } catch {
                throw AWSError.unexpectedResponse(operation: "S3.ListObjectVersions", detail: "\(error)")
            }
            for child in xml.children {
                guard child.name == "Version" || child.name == "DeleteMarker", let key = child.string("Key") else { continue }
                all.append(ObjectVersion(key: key, versionID: child.string("VersionId") ?? "null", isDeleteMarker: child.name == "DeleteMarker"))
            }
            if xml.string("IsTruncated") == "true" {
                keyMarker = xml.string("NextKeyMarker")
                versionMarker = xml.string("NextVersionIdMarker")
                if keyMarker == nil { break }
            } else {
                keyMarker = nil
            }
        } while keyMarker != nil
        return all
    }

    /// DeleteObject of one version (or delete marker): removes it for good.
    public func deleteObjectVersion(bucket: String, key: String, versionID: String) async throws {
        _ = try await client.send(request("DeleteObject", .DELETE, bucket: bucket, key: key, query: [("versionId", versionID)]))
    }

    /// Deletes every object version and delete marker in `bucket`, so that the bucket can be
    /// deleted and nothing in it keeps costing. Returns how many were deleted; a missing bucket
    /// counts as already empty.
    @discardableResult
    public func emptyBucket(_ bucket: String) async throws -> Int {
        let versions: [ObjectVersion]
        do {
            versions = try await listAllObjectVersions(bucket: bucket)
        } catch let error as AWSError where error.serviceCode == "NoSuchBucket" {
            return 0
        }
        for version in versions {
            try await deleteObjectVersion(bucket: bucket, key: version.key, versionID: version.versionID)
        }
        return versions.count
    }
}

extension S3Client {
    /// PutBucketVersioning: turns versioning on (`enabled`) or suspends it.
    public func putBucketVersioning(_ bucket: String, enabled: Bool) async throws {
        let body = "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>\(enabled ? "Enabled" : "Suspended")</Status></VersioningConfiguration>"
        _ = try await client.send(request("PutBucketVersioning", .PUT, bucket: bucket, key: nil, query: [("versioning", "")], body: .data(Data(body.utf8))))
    }
}
