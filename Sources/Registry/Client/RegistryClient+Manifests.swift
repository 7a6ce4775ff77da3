import Foundation
import HTTPCore
import NIOCore
import NIOHTTP1
import OCI

extension RegistryClient {
    /// The media types asked for when fetching manifests: OCI and Docker, images and indexes.
    static let manifestAccept = [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList].joined(separator: ", ")

    /// A fetched manifest or index: its exact bytes and its descriptor.
    public struct FetchedManifest: Sendable {
        public var bytes: Data
        public var descriptor: Descriptor
    }

    /// Fetches the manifest `reference` (a tag or digest) of `repository`, verifying its digest
    /// (against the reference's digest, or the Docker-Content-Digest header) and refusing
    /// anything over 4 MiB.
    public func manifest(_ repository: String, reference: String) async throws -> FetchedManifest {
        let path = "/v2/\(repository)/manifests/\(reference)"
        let response = try await send("fetch manifest", path, scopes: [.pull(repository)], headers: [("Accept", Self.manifestAccept)])
        guard response.status == .ok else {
            throw await failure("fetch manifest", response, url: path, repository: repository, what: "\(repository):\(reference)")
        }
        if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > Self.manifestSizeLimit {
            throw RegistryError.manifestTooLarge(reference: "\(registry)/\(repository):\(reference)", limit: Self.manifestSizeLimit)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await response.body.collect(upTo: Self.manifestSizeLimit)
        } catch HTTPError.bodyTooLarge {
            throw RegistryError.manifestTooLarge(reference: "\(registry)/\(repository):\(reference)", limit: Self.manifestSizeLimit)
        }
        let bytes = Data(buffer.readableBytesView)
        let actual = Digest.compute(bytes)
        let expected = (try? Digest(parsing: reference)) ?? response.headers.first(name: "Docker-Content-Digest").flatMap { try? Digest(parsing: $0) }
        if let expected {
            let check = expected.algorithm == actual.algorithm ? actual : Digest.compute(bytes, algorithm: expected.algorithm)
            guard check == expected else {
                throw OCIError.digestMismatch(expected: expected, actual: check, source: "\(registry)/\(repository)")
            }
        }
        let probe = try CanonicalJSON.decode(MediaTypeProbe.self, from: bytes, what: "manifest \(repository):\(reference) from \(registry)")
        let mediaType = probe.mediaType ?? response.headers.first(name: "Content-Type") ?? probe.inferredMediaType
        return FetchedManifest(bytes: bytes, descriptor: Descriptor(mediaType: mediaType, digest: actual, size: Int64(bytes.count)))
    }

    /// The descriptor of a manifest without fetching its body (HEAD), or nil if absent.
    public func manifestDescriptor(_ repository: String, reference: String) async throws -> Descriptor? {
        let path = "/v2/\(repository)/manifests/\(reference)"
        let response = try await send("check manifest", method: .HEAD, path, scopes: [.pull(repository)], headers: [("Accept", Self.manifestAccept)])
        if response.status == .notFound { return nil }
        guard response.status == .ok,
              let digest = response.headers.first(name: "Docker-Content-Digest").flatMap({ try? Digest(parsing: $0) }),
              let size = response.headers.first(name: "Content-Length").flatMap(Int64.init) else {
            if response.status == .ok { return nil } // no digest header: the caller fetches instead
            throw await failure("check manifest", response, url: path, repository: repository)
        }
        return Descriptor(mediaType: response.headers.first(name: "Content-Type") ?? MediaType.ociManifest, digest: digest, size: size)
    }

    /// Uploads a manifest under `reference` (a tag, or its digest).
    public func putManifest(_ repository: String, reference: String, bytes: Data, mediaType: String) async throws {
        guard bytes.count <= Self.manifestSizeLimit else {
            throw RegistryError.manifestTooLarge(reference: "\(registry)/\(repository):\(reference)", limit: Self.manifestSizeLimit)
        }
        let path = "/v2/\(repository)/manifests/\(reference)"
        let response = try await send("push manifest", method: .PUT, path, scopes: [.push(repository)],
                                      headers: [("Content-Type", mediaType)]) { .bytes(ByteBuffer(bytes: bytes)) }
        guard response.status == .created || response.status == .ok || response.status == .accepted else {
            throw await failure("push manifest", response, url: path, repository: repository)
        }
        await response.drain()
    }

    /// Deletes a manifest by digest (registries refuse deleting by tag).
    public func deleteManifest(_ repository: String, digest: Digest) async throws {
        let path = "/v2/\(repository)/manifests/\(digest)"
        let response = try await send("delete manifest", method: .DELETE, path, scopes: [AuthScope(repository: repository, actions: ["delete", "pull", "push"])])
        guard response.status == .accepted || response.status == .ok else {
            throw await failure("delete manifest", response, url: path, repository: repository)
        }
    }
}
