import AWS
import Foundation
import Stack

/// A registry stack's repository, in private ECR or ECR Public, as `destroy --purge` and
/// `deploy` handle it: stacks retain their repositories (DeletionPolicy: Retain), so these
/// find, empty and delete them.
struct StackRepository {
    enum Kind { case privateECR, publicECR }

    var name: String
    var kind: Kind

    /// The repositories among a stack's resources.
    static func among(_ resources: [CloudFormationClient.StackResource]) -> [StackRepository] {
        resources.compactMap { r in
            guard let name = r.physicalResourceID, !name.isEmpty else { return nil }
            switch r.resourceType {
            case "AWS::ECR::Repository": return StackRepository(name: name, kind: .privateECR)
            case "AWS::ECR::PublicRepository": return StackRepository(name: name, kind: .publicECR)
            default: return nil
            }
        }
    }

    /// The repository the settings' registry stack creates.
    static func of(_ registry: RegistrySettings, project: String) -> StackRepository {
        StackRepository(name: registry.repositoryName(project: project), kind: registry.isPublic ? .publicECR : .privateECR)
    }

    var label: String { kind == .publicECR ? "public repository \(name)" : "repository \(name)" }

    /// The repository's tags when it exists, nil when it does not.
    func existingTags(_ client: AWSClient) async throws -> [String: String]? {
        switch kind {
        case .privateECR:
            let ecr = ECRClient(client: client)
            guard let found = try await ecr.repository(named: name) else { return nil }
            guard let arn = found.repositoryArn else { return [:] }
            return try await ecr.tags(ofRepository: arn)
        case .publicECR:
            let ecr = try ECRPublicClient(client: client)
            guard let found = try await ecr.repository(named: name) else { return nil }
            guard let arn = found.repositoryArn else { return [:] }
            return try await ecr.tags(ofRepository: arn)
        }
    }

    /// Deletes every image; returns how many, or nil where the images go with the repository
    /// (ECR Public's forced delete).
    func empty(_ client: AWSClient) async throws -> Int? {
        guard kind == .privateECR else { return nil }
        return try await ECRClient(client: client).emptyRepository(name)
    }

    /// Deletes the repository with whatever images are left; false when it was already gone.
    func delete(_ client: AWSClient) async throws -> Bool {
        do {
            switch kind {
            case .privateECR: try await ECRClient(client: client).deleteRepository(name: name, force: true)
            case .publicECR: try await ECRPublicClient(client: client).deleteRepository(name: name, force: true)
            }
            return true
        } catch let error as AWSError where error.serviceCode == "RepositoryNotFoundException" {
            return false
        }
    }
}
