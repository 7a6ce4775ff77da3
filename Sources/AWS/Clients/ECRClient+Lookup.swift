import Foundation

extension ECRClient {
    /// The repository named `name`, or nil when there is none (RepositoryNotFoundException).
    public func repository(named name: String) async throws -> Repository? {
        do {
            return try await describeRepositories(names: [name]).first
        } catch let error as AWSError where error.serviceCode == "RepositoryNotFoundException" {
            return nil
        }
    }

    /// ListTagsForResource: the tags of a repository (by ARN), key → value.
    public func tags(ofRepository arn: String) async throws -> [String: String] {
        try await Self.listTags(client, service: .ecr, targetPrefix: Self.target, arn: arn)
    }

    /// ListTagsForResource as private ECR and ECR Public both spell it.
    static func listTags(_ client: AWSClient, service: AWSService, targetPrefix: String, arn: String) async throws -> [String: String] {
        struct Input: Encodable { var resourceArn: String }
        struct Tag: Decodable { var Key: String; var Value: String }
        struct Output: Decodable { var tags: [Tag]? }
        let out = try await AWSJSONProtocol.call(client, service: service, targetPrefix: targetPrefix, operation: "ListTagsForResource",
                                                 input: Input(resourceArn: arn), as: Output.self)
        var tags: [String: String] = [:]
        for tag in out.tags ?? [] { tags[tag.Key] = tag.Value }
        return tags
    }

    /// The manifest digest of `repository`'s image with `tag` (DescribeImages), or nil when the
    /// repository has no such tag. A missing repository throws, naming it.
    public func digest(repository: String, tag: String) async throws -> String? {
        try await describe(repository: repository, ImageID(imageTag: tag))
    }

    /// Whether `repository` holds the image with manifest digest `digest`.
    public func contains(repository: String, digest: String) async throws -> Bool {
        try await describe(repository: repository, ImageID(imageDigest: digest)) != nil
    }

    private func describe(repository: String, _ id: ImageID) async throws -> String? {
        struct Input: Encodable { var repositoryName: String; var imageIds: [ImageID] }
        struct Detail: Decodable { var imageDigest: String? }
        struct Output: Decodable { var imageDetails: [Detail]? }
        do {
            let out = try await AWSJSONProtocol.call(client, service: .ecr, targetPrefix: Self.target, operation: "DescribeImages",
                                                     input: Input(repositoryName: repository, imageIds: [id]), as: Output.self)
            return out.imageDetails?.first?.imageDigest
        } catch let error as AWSError where error.serviceCode == "ImageNotFoundException" {
            return nil
        }
    }
}
