import AWS
import AWSTemplates
import Foundation
import OCI
import Registry
import Stack

/// `aws deploy|render|validate service --image REF`: the image the service runs, resolved to
/// the digest the template is pinned to, so no digest is ever copied by hand.
///
/// - `REPO@sha256:…` is taken as it is (with a registry host) or looked up in the store.
/// - A tag in private ECR (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG`) is resolved with
///   ECR's DescribeImages, with the AWS credentials the command already has.
/// - A tag in any other registry is resolved with a manifest HEAD (docker's config and
///   `stackship login` credentials, as `pull` uses).
/// - A name without a registry host (`hello:latest`, as `images` lists it) is an image in the
///   store: its digest is pinned in the registry stack's repository, and it must be there
///   already (a push keeps the manifest's bytes, so the digest is the same); if not, the error
///   gives the push command.
enum ServiceImage {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The settings with the service's image pinned to `reference`'s digest.
    static func pin(_ reference: String, in settings: AWSSettings, aws: AWSOptions, client: AWSClient, store: StoreOptions) async throws -> AWSSettings {
        guard settings.service != nil else {
            throw Failure(description: "--image sets the service stack's image, but the stack file has no aws.service section; add one, or drop --image")
        }
        var pinned = settings
        let image = try await resolve(reference, settings: settings, aws: aws, client: client, store: store)
        pinned.service?.image = image
        FileHandle.standardError.write(Data("service: image \(reference) is \(image)\n".utf8))
        return pinned
    }

    /// `REGISTRY/REPO@sha256:…` for `reference`.
    static func resolve(_ reference: String, settings: AWSSettings, aws: AWSOptions, client: AWSClient, store: StoreOptions) async throws -> String {
        guard hasRegistryHost(reference) else {
            return try await fromStore(reference, settings: settings, client: client, store: store)
        }
        let ref: ImageReference
        do { ref = try ImageReference(parsing: reference) } catch {
            throw Failure(description: "--image '\(reference)' is not an image reference: \(error)")
        }
        if let digest = ref.digest { return "\(ref.name)@\(digest)" }
        let tag = ref.tag ?? "latest"
        if let ecr = ECRHost(ref.registry) {
            // The registry's own region, whatever region the command runs in.
            let digest: String?
            if ecr.region == client.region {
                digest = try await ECRClient(client: client).digest(repository: ref.repository, tag: tag)
            } else {
                digest = try await AWSClient(profile: aws.profile, region: ecr.region, endpoint: aws.endpointURL)
                    .withShutdown { try await ECRClient(client: $0).digest(repository: ref.repository, tag: tag) }
            }
            guard let digest else {
                throw Failure(description: "ECR repository \(ref.repository) has no image tagged '\(tag)'; push it first (stackship push IMAGE \(ref.name):\(tag))")
            }
            return "\(ref.name)@\(digest)"
        }
        let descriptor = try await RegistryAccess().withClient(for: ref.registry) { registry -> Descriptor? in
            if let head = try await registry.manifestDescriptor(ref.repository, reference: tag) { return head }
            return try? await registry.manifest(ref.repository, reference: tag).descriptor
        }
        guard let descriptor else {
            throw Failure(description: "\(ref.registry)/\(ref.repository) has no image tagged '\(tag)'; push it first (stackship push IMAGE \(ref.name):\(tag))")
        }
        return "\(ref.name)@\(descriptor.digest)"
    }

    /// An image in the store, pinned in the registry stack's repository where it must be pushed.
    static func fromStore(_ reference: String, settings: AWSSettings, client: AWSClient, store: StoreOptions) async throws -> String {
        let entry: OCILayoutStore.Entry
        do {
            entry = try store.open(create: false).resolve(reference)
        } catch {
            throw Failure(description: "--image '\(reference)' names no registry, and the store has no such image: \(error)")
        }
        let digest = entry.descriptor.digest
        guard let registry = settings.registry else {
            throw Failure(description: "--image '\(reference)' is an image in the store (\(digest)), but ECS pulls from a registry and the stack file has no aws.registry; push it (stackship push \(reference) REGISTRY/REPOSITORY:TAG) and give that reference to --image")
        }
        let ecr = ECRClient(client: client)
        let name = registry.repositoryName(project: settings.project)
        guard let found = try await ecr.repository(named: name), let uri = found.repositoryUri, !uri.isEmpty else {
            throw Failure(description: "--image '\(reference)' is an image in the store, to be pinned in the registry stack's repository \(name), which does not exist; run 'stackship aws deploy registry', push the image there, then deploy the service")
        }
        guard try await ecr.contains(repository: name, digest: digest.description) else {
            throw Failure(description: "image \(reference) (\(digest)) is in the store but not in \(uri); push it first: stackship push \(reference) \(uri):\(entry.matchedReference?.tag ?? "latest")")
        }
        return "\(uri)@\(digest)"
    }

    /// Whether the first path component names a registry, as docker decides: it has a dot or
    /// a port, or is `localhost`.
    static func hasRegistryHost(_ reference: String) -> Bool {
        guard let slash = reference.firstIndex(of: "/") else { return false }
        let first = reference[..<slash]
        return first.contains(".") || first.contains(":") || first == "localhost"
    }
}

/// A private ECR registry host, `ACCOUNT.dkr.ecr.REGION.amazonaws.com` (or `.com.cn`).
struct ECRHost {
    var account: String
    var region: String

    init?(_ host: String) {
        let parts = host.split(separator: ".").map(String.init)
        guard parts.count >= 6, parts[1] == "dkr", parts[2] == "ecr", parts[4] == "amazonaws",
              parts[0].count == 12, parts[0].allSatisfy(\.isNumber) else { return nil }
        account = parts[0]
        region = parts[3]
    }
}
