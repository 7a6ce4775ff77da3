import Foundation

/// Amazon ECR: registry login tokens and repositories.
public struct ECRClient: Sendable {
    /// The shared client.
    public let client: AWSClient
    static let target = "AmazonEC2ContainerRegistry_V20150921"

    /// An ECR client over `client`.
    public init(client: AWSClient) { self.client = client }

    /// A registry login: the decoded user name and password for `proxyEndpoint`. The password is
    /// a secret; `description` redacts it.
    public struct AuthorizationToken: Sendable, CustomStringConvertible {
        /// Always "AWS" for ECR.
        public var username: String
        /// The registry password (secret).
        public var password: String
        /// The registry URL, e.g. https://123456789012.dkr.ecr.eu-west-1.amazonaws.com.
        public var proxyEndpoint: String
        /// When the token stops working (12 hours after issue).
        public var expiresAt: Date?

        /// The registry host (proxyEndpoint without its scheme).
        public var registryHost: String {
            var host = proxyEndpoint
            for scheme in ["https://", "http://"] where host.hasPrefix(scheme) { host = String(host.dropFirst(scheme.count)) }
            while host.hasSuffix("/") { host.removeLast() }
            return host
        }

        public var description: String {
            "ECR.AuthorizationToken(username: \(username), password: <redacted>, proxyEndpoint: \(proxyEndpoint))"
        }
    }

    /// GetAuthorizationToken for the account's default registry.
    public func getAuthorizationToken() async throws -> AuthorizationToken {
        struct Output: Decodable {
            struct Data: Decodable { var authorizationToken: String; var proxyEndpoint: String?; var expiresAt: Double? }
            var authorizationData: [Data]
        }
        let out = try await AWSJSONProtocol.call(client, service: .ecr, targetPrefix: Self.target, operation: "GetAuthorizationToken",
                                                 input: AWSEmptyJSON(), as: Output.self)
        guard let first = out.authorizationData.first, let decoded = Data(base64Encoded: first.authorizationToken),
              let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":") else {
            throw AWSError.unexpectedResponse(operation: "ECR.GetAuthorizationToken", detail: "the token is not base64 of user:password")
        }
        return AuthorizationToken(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]),
                                  proxyEndpoint: first.proxyEndpoint ?? "", expiresAt: first.expiresAt.map { Date(timeIntervalSince1970: $0) })
    }

    /// A repository.
    public struct Repository: Sendable, Equatable, Decodable {
        /// The name, e.g. "team/app".
        public var repositoryName: String
        /// The ARN.
        public var repositoryArn: String?
        /// The URI to push to: ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME.
        public var repositoryUri: String?
        /// The owning account.
        public var registryId: String?
    }

    /// CreateRepository; `scanOnPush` and `immutableTags` set the repository's options.
    public func createRepository(name: String, scanOnPush: Bool = false, immutableTags: Bool = false, tags: [String: String] = [:]) async throws -> Repository {
        struct Tag: Encodable { var Key: String; var Value: String }
        struct Scan: Encodable { var scanOnPush: Bool }
        struct Input: Encodable {
            var repositoryName: String
            var imageScanningConfiguration: Scan
            var imageTagMutability: String
            var tags: [Tag]?
        }
        struct Output: Decodable { var repository: Repository }
        let input = Input(repositoryName: name, imageScanningConfiguration: Scan(scanOnPush: scanOnPush),
                          imageTagMutability: immutableTags ? "IMMUTABLE" : "MUTABLE",
                          tags: tags.isEmpty ? nil : tags.sorted { $0.key < $1.key }.map { Tag(Key: $0.key, Value: $0.value) })
        return try await AWSJSONProtocol.call(client, service: .ecr, targetPrefix: Self.target, operation: "CreateRepository",
                                              input: input, as: Output.self).repository
    }

    /// DescribeRepositories: the named ones (an unknown name throws RepositoryNotFoundException),
    /// or all of them (every page) when `names` is empty.
    public func describeRepositories(names: [String] = []) async throws -> [Repository] {
        struct Input: Encodable { var repositoryNames: [String]?; var nextToken: String? }
        struct Output: Decodable { var repositories: [Repository]; var nextToken: String? }
        var all: [Repository] = []
        var token: String?
        repeat {
            let out = try await AWSJSONProtocol.call(client, service: .ecr, targetPrefix: Self.target, operation: "DescribeRepositories",
                                                     input: Input(repositoryNames: names.isEmpty ? nil : names, nextToken: token), as: Output.self)
            all += out.repositories
            token = out.nextToken
        } while token != nil
        return all
    }

    /// DeleteRepository; with `force`, its images are deleted too.
    public func deleteRepository(name: String, force: Bool = false) async throws {
        struct Input: Encodable { var repositoryName: String; var force: Bool }
        _ = try await AWSJSONProtocol.call(client, service: .ecr, targetPrefix: Self.target, operation: "DeleteRepository",
                                           input: Input(repositoryName: name, force: force), as: AWSEmptyJSON.self)
    }
}
