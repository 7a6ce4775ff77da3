import Foundation
import StackshipTesting
import Testing
@testable import AWS

/// What `stackship aws destroy --purge` relies on, against moto: every version and delete
/// marker of a versioned bucket listed (across pages) and deleted, and every image of an ECR
/// repository deleted; missing buckets and repositories count as empty.
@Suite struct PurgeIntegrationTests {
    @Test func emptyBucketDeletesEveryVersionAndDeleteMarker() async throws {
        try await MotoServer.with { moto in
            let env = try TestEnvironment.moto(moto)
            defer { env.cleanup() }
            try await env.withClient { client in
                let s3 = S3Client(client: client)
                let bucket = "purge-versions"
                try await s3.createBucket(bucket)
                try await s3.putBucketVersioning(bucket, enabled: true)
                for n in 0..<3 { try await s3.putObject(bucket: bucket, key: "a/same key", data: Data("v\(n)".utf8)) }
                try await s3.putObject(bucket: bucket, key: "b", data: Data("b".utf8))
                try await s3.deleteObject(bucket: bucket, key: "b")
                let versions = try await s3.listAllObjectVersions(bucket: bucket)
                #expect(versions.count == 5)
                #expect(versions.filter(\.isDeleteMarker).map(\.key) == ["b"])
                let deleted = try await s3.emptyBucket(bucket)
                #expect(deleted == 5)
                let after = try await s3.listAllObjectVersions(bucket: bucket)
                #expect(after.isEmpty)
                try await s3.deleteBucket(bucket)
                let missing = try await s3.emptyBucket(bucket)
                #expect(missing == 0)
            }
        }
    }

    @Test func emptyRepositoryDeletesEveryImage() async throws {
        try await MotoServer.with { moto in
            let env = try TestEnvironment.moto(moto)
            defer { env.cleanup() }
            try await env.withClient { client in
                let ecr = ECRClient(client: client)
                _ = try await ecr.createRepository(name: "purge/app")
                for tag in ["v1", "v2"] {
                    let manifest = #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":\#(tag.count),"digest":"sha256:\#(String(repeating: tag == "v1" ? "a" : "b", count: 64))"},"layers":[]}"#
                    _ = try await ecr.putImage(repository: "purge/app", manifest: manifest, tag: tag)
                }
                let images = try await ecr.listImages(repository: "purge/app")
                #expect(images.count == 2)
                let deleted = try await ecr.emptyRepository("purge/app")
                #expect(deleted == 2)
                let after = try await ecr.listImages(repository: "purge/app")
                #expect(after.isEmpty)
                try await ecr.deleteRepository(name: "purge/app")
                let missing = try await ecr.emptyRepository("purge/app")
                #expect(missing == 0)
            }
        }
    }
}
