import Foundation

/// Amazon ECR Public: registry login tokens for `public.ecr.aws` and its repositories.
///
/// ECR Public's API exists only in us-east-1: give this client an ``AWSClient`` whose region is
/// ``region`` (``ECRPublicClient/init(client:)`` refuses any other, so a request is never signed
/// for a region the service will not answer in).
public struct ECRPublicClient: Sendable {
    /// The shared client (region us-east-1).
    public let client: AWSClient
    /// The JSON 1.1 target prefix of ECR Public's operations.
    static let target = "SpencerFrontendService"
    /// The only region ECR Public's API is in.
    public static let region = "us-east-1"
    /// The registry every public repository is pushed to.
    public static let registryHost = "public.ecr.aws"

    /// An ECR Public client over `client`; throws `AWSError.invalidArgument` unless its region is us-east-1.
    public init(client: AWSClient) throws {
        guard client.region == Self.region else {
            throw AWSError.invalidArgument("ECR Public's API exists only in \(Self.region), not \(client.region); use --region \(Self.region) (or leave the region out: public.ecr.aws logins use \(Self.region))")
        }
        self.client = client
    }

    /// GetAuthorizationToken: the login for `public.ecr.aws`, valid 12 hours. Needs
    /// `ecr-public:GetAuthorizationToken` and `sts:GetServiceBearerToken`.
    public func getAuthorizationToken() async throws -> ECRClient.AuthorizationToken {
        struct Output: Decodable {
            struct Data: Decodable { var authorizationToken: String?; var expiresAt: Double? }
            var authorizationData: Data?
        }
        let operation = "ECRPublic.GetAuthorizationToken"
        let out = try await AWSJSONProtocol.call(client, service: .ecrPublic, targetPrefix: Self.target, operation: "GetAuthorizationToken",
                                                 input: AWSEmptyJSON(), as: Output.self)
        guard let token = out.authorizationData?.authorizationToken else {
            throw AWSError.unexpectedResponse(operation: operation, detail: "no authorizationData.authorizationToken in the answer")
        }
        guard let decoded = Data(base64Encoded: token), let text = String(data: decoded, encoding: .utf8),
              let colon = text.firstIndex(of: ":"), colon != text.startIndex, text.index(after: colon) != text.endIndex else {
            throw AWSError.unexpectedResponse(operation: operation, detail: "the token is not base64 of user:password")
        }
        return ECRClient.AuthorizationToken(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]),
                                            proxyEndpoint: "https://\(Self.registryHost)",
                                            expiresAt: out.authorizationData?.expiresAt.map { Date(timeIntervalSince1970: $0) })
    }

    /// A public repository.
    public struct Repository: Sendable, Equatable, Decodable {
        /// The name, e.g. "hello".
        public var repositoryName: String
        /// The ARN, arn:aws:ecr-public::ACCOUNT:repository/NAME.
        public var repositoryArn: String?
        /// Where to push: public.ecr.aws/ALIAS/NAME.
        public var repositoryUri: String?
        /// The owning account.
        public var registryId: String?
    }

    /// DescribeRepositories for the named repositories (an unknown one throws
    /// RepositoryNotFoundException), every page.
    public func describeRepositories(names: [String]) async throws -> [Repository] {
        struct Input: Encodable { var repositoryNames: [String]?; var nextToken: String? }
        struct Output: Decodable { var repositories: [Repository]?; var nextToken: String? }
        var all: [Repository] = []
        var token: String?
        repeat {
            let out = try await AWSJSONProtocol.call(client, service: .ecrPublic, targetPrefix: Self.target, operation: "DescribeRepositories",
                                                     input: Input(repositoryNames: names.isEmpty ? nil : names, nextToken: token), as: Output.self)
            all += out.repositories ?? []
            token = out.nextToken
        } while token != nil
        return all
    }
}

extension ECRPublicClient {
    /// The repository named `name`, or nil when there is none (RepositoryNotFoundException).
    public func repository(named name: String) async throws -> Repository? {
        do {
            return try await describeRepositories(names: [name]).first
        } catch let error as AWSError where error.serviceCode == "RepositoryNotFoundException" {
            return nil
        }
    }

    /// ListTagsForResource: a public repository's tags (by ARN), key → value.
    public func tags(ofRepository arn: String) async throws -> [String: String] {
        try await ECRClient.listTags(client, service: .ecrPublic, targetPrefix: Self.target, arn: arn)
    }

    /// DeleteRepository; with `force`, its images go too.
    public func deleteRepository(name: String, force: Bool) async throws {
        struct Input: Encodable { var repositoryName: String; var force: Bool }
        _ = try await AWSJSONProtocol.call(client, service: .ecrPublic, targetPrefix: Self.target, operation: "DeleteRepository",
                                           input: Input(repositoryName: name, force: force), as: AWSEmptyJSON.self)
    }
}
