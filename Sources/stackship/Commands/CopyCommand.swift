import ArgumentParser
import Foundation
import OCI
import Registry

/// Where an image is, in skopeo's transport syntax.
enum ImageLocation {
    case registry(ImageReference)
    case store(String)
    case ociArchive(path: String, reference: String?)
    case dockerArchive(path: String, reference: String?)

    /// Parses `docker://REF` (or a bare REF), `store:REF`, `oci-archive:PATH[:REF]`, `docker-archive:PATH[:REF]`.
    init(parsing text: String) throws {
        func split(_ rest: Substring) -> (String, String?) {
            guard let colon = rest.firstIndex(of: ":") else { return (CLI.absolute(String(rest)), nil) }
            return (CLI.absolute(String(rest[..<colon])), String(rest[rest.index(after: colon)...]))
        }
        if text.hasPrefix("docker://") {
            self = .registry(try ImageReference(parsing: String(text.dropFirst("docker://".count))))
        } else if text.hasPrefix("store:") {
            self = .store(String(text.dropFirst("store:".count)))
        } else if text.hasPrefix("oci-archive:") {
            let (path, ref) = split(text.dropFirst("oci-archive:".count))
            self = .ociArchive(path: path, reference: ref)
        } else if text.hasPrefix("docker-archive:") {
            let (path, ref) = split(text.dropFirst("docker-archive:".count))
            self = .dockerArchive(path: path, reference: ref)
        } else if let colon = text.firstIndex(of: ":"), text[..<colon].allSatisfy({ $0.isLetter || $0 == "-" }), text[text.index(after: colon)...].hasPrefix("/") == false,
                  ["oci", "dir", "containers-storage", "docker-daemon"].contains(String(text[..<colon])) {
            throw ValidationError("the transport '\(text[..<colon])' is not supported; use docker://, store:, oci-archive: or docker-archive:")
        } else {
            self = .registry(try ImageReference(parsing: text))
        }
    }
}

struct CopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy an image between registries, the local store and archive files.",
        discussion: """
        SRC and DEST use skopeo's syntax: docker://REF (or a bare REF) for a registry, \
        store:REF for the local store, oci-archive:PATH[:REF] and docker-archive:PATH[:REF] for \
        archive files. Registry to registry streams blobs through without a local copy (and \
        mounts them when both are on one registry).

        Examples:
          stackship copy docker://localhost:5000/a:1 docker://localhost:5000/b:1
          stackship copy ghcr.io/o/app:2 registry.internal/app:2 --all
          stackship copy store:hello oci-archive:hello.tar
          stackship copy docker-archive:hello.tar localhost:5000/hello:1
        """
    )

    @Argument(help: "Where the image is.")
    var source: String

    @Argument(help: "Where to put it.")
    var destination: String

    @OptionGroup var platformOptions: PlatformOptions
    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        let source = source, destination = destination, platformOptions = platformOptions
        let registryOptions = registryOptions, storeOptions = storeOptions
        try AsyncCLI.run {
            let from = try ImageLocation(parsing: source)
            let to = try ImageLocation(parsing: destination)
            let options = try platformOptions.transfer(jobs: registryOptions.jobs)
            let view = TransferView(verb: "copy")
            let events: ImageTransfer.Events = { view.handle($0) }

            if case let .registry(src) = from, case let .registry(dst) = to {
                let digest = try await registryOptions.withClient(for: src.registry) { sourceClient in
                    try await registryOptions.withClient(for: dst.registry) { client in
                        try await ImageTransfer.copy(src, from: sourceClient, to: dst, client: client, options: options, events: events).digest
                    }
                }
                print("\(dst.familiar)@\(digest)")
                return
            }
            // Every other route goes through the local store.
            let store = try storeOptions.open(create: true)
            let image: (descriptor: Descriptor, name: ImageReference?) = try await store.withAsyncWriteSession {
                switch from {
                case let .registry(src):
                    let d = try await registryOptions.withClient(for: src.registry) { client in
                        try await ImageTransfer.pull(src, client: client, into: store, options: options, events: events)
                    }
                    return (d, src.tag != nil ? src : nil)
                case let .store(ref):
                    let entry = try store.resolve(ref)
                    return (entry.descriptor, entry.matchedReference ?? entry.name.flatMap { try? ImageReference(parsing: $0) })
                case let .ociArchive(path, ref), let .dockerArchive(path, ref):
                    let loaded = try ImageArchive.load(path, into: store).images
                    let pick = ref.flatMap { r in loaded.first { $0.refNames.contains(r) || $0.references.contains { $0.familiar == r || $0.description == r } } }
                        ?? (loaded.count == 1 ? loaded.first : nil)
                    guard let pick else {
                        throw OCIError.archive(path: path, reason: "name the image to copy as \(path):REF (it holds \(loaded.count))")
                    }
                    try store.updateIndex { index in
                        if !index.manifests.contains(where: { $0.digest == pick.descriptor.digest }) { index.manifests.append(pick.descriptor) }
                    }
                    return (pick.descriptor, pick.references.first)
                }
            }
            switch to {
            case let .registry(dst):
                let pushed = try await registryOptions.withClient(for: dst.registry) { client in
                    try await ImageTransfer.push(image.descriptor, from: store, to: dst, client: client, options: options, events: events)
                }
                print("\(dst.familiar)@\(pushed.digest)")
            case let .store(ref):
                try store.tag(image.descriptor, as: try ImageReference(parsing: ref))
                print("\(ref): \(image.descriptor.digest)")
            case let .ociArchive(path, ref), let .dockerArchive(path, ref):
                let format: ArchiveFormat = if case .ociArchive = to { .oci } else { .docker }
                let name = try ref.map { try ImageReference(parsing: $0) } ?? image.name
                try ImageArchive.save([ArchiveImage(descriptor: image.descriptor, references: name.map { [$0] } ?? [])], from: store, format: format, to: path)
                print("\(path): \(image.descriptor.digest)")
            }
        }
    }
}
