import Foundation

extension ECRClient {
    /// An image in a repository: its manifest digest and the tag, if any.
    public struct ImageID: Sendable, Equatable, Codable {
        /// The manifest digest (sha256:…).
        public var imageDigest: String?
        /// The tag.
        public var imageTag: String?

        /// An image id from its parts.
        public init(imageDigest: String? = nil, imageTag: String? = nil) {
            self.imageDigest = imageDigest
            self.imageTag = imageTag
        }
    }

    /// ListImages: every image of `repository` (all pages).
    public func listImages(repository: String) async throws -> [ImageID] {
        struct Input: Encodable { var repositoryName: String; var nextToken: String? }
        struct Output: Decodable { var imageIds: [ImageID]?; var nextToken: String? }
        var all: [ImageID] = []
        var token: String?
        repeat {
            let out = try await AWSJSONProtocol.call(client, service: .ecr, targetPrefix: Self.target, operation: "ListImages",
                                                     input: Input(repositoryName: repository, nextToken: token), as: Output.self)
            all += out.imageIds ?? []
            token = out.nextToken
        } while token != nil
        return all
    }

    /// BatchDeleteImage, in batches of 100 (the API's limit). Returns how many were deleted.
    @discardableResult
    public func batchDeleteImages(repository: String, images: [ImageID]) async throws -> Int {
        struct Input: Encodable { var repositoryName: String; var imageIds: [ImageID] }
        struct Output: Decodable { var imageIds: [ImageID]? }
        var deleted = 0
        var start = 0
        while start < images.count {
            let batch = Array(images[start..<min(start + 100, images.count)])
            let out = try await AWSJSONProtocol.call(client, service: .ecr, targetPrefix: Self.target, operation: "BatchDeleteImage",
                                                     input: Input(repositoryName: repository, imageIds: batch), as: Output.self)
            deleted += out.imageIds?.count ?? 0
            start += 100
        }
        return deleted
    }

    /// Deletes every image of `repository`; a missing repository counts as empty. Returns how
    /// many image ids (tagged or untagged) were deleted.
    ///
    /// Each listed id is deleted as listed (digest and tag together), and the listing is repeated
    /// until it comes back empty: ECR removes a manifest with its last tag, and moto gives
    /// different manifests the same digest, so one pass by digest alone would not empty it.
    @discardableResult
    public func emptyRepository(_ repository: String) async throws -> Int {
        var deleted = 0
        for _ in 0..<10 {
            let images: [ImageID]
            do {
                images = try await listImages(repository: repository)
            } catch let error as AWSError where error.serviceCode == "RepositoryNotFoundException" {
                return deleted
            }
            guard !images.isEmpty else { return deleted }
            let n = try await batchDeleteImages(repository: repository, images: images)
            deleted += n
            if n == 0 { break }
        }
        let left = try await listImages(repository: repository)
        guard left.isEmpty else {
            throw AWSError.unexpectedResponse(operation: "ECR.BatchDeleteImage", detail: "\(left.count) image(s) of \(repository) could not be deleted")
        }
        return deleted
    }
}

extension ECRClient {
    /// PutImage: records `manifest` (its JSON text) in `repository` under `tag`. Pushing layers
    /// goes through the registry API; this is for manifests whose blobs are already there.
    /// `digest` is the manifest's digest, when the caller knows it (ECR computes it otherwise).
    public func putImage(repository: String, manifest: String, mediaType: String? = nil, tag: String? = nil, digest: String? = nil) async throws -> ImageID {
        struct Input: Encodable { var repositoryName: String; var imageManifest: String; var imageManifestMediaType: String?; var imageTag: String?; var imageDigest: String? }
        struct Image: Decodable { var imageId: ImageID? }
        struct Output: Decodable { var image: Image? }
        let out = try await AWSJSONProtocol.call(client, service: .ecr, targetPrefix: Self.target, operation: "PutImage",
                                                 input: Input(repositoryName: repository, imageManifest: manifest, imageManifestMediaType: mediaType, imageTag: tag, imageDigest: digest),
                                                 as: Output.self)
        return out.image?.imageId ?? ImageID(imageTag: tag)
    }
}
