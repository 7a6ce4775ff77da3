import Foundation
import Support
import OCI

/// Opens what an `ImageLocation` names as a source or a destination of `ImageCopier`: the
/// store, an OCI layout directory, an archive, a registry repository. Registry clients are
/// made once per registry and closed by `shutdown`.
public final class ImageEndpoints: @unchecked Sendable {
    private let openStore: () throws -> OCILayoutStore
    private let makeClient: (String) throws -> RegistryClient
    private var clients: [String: RegistryClient] = [:]
    private var store: OCILayoutStore?
    private let lock = NSLock()

    /// `store` opens (creating) the local store when a location names it; `client` makes a
    /// client for a registry, with the caller's credentials and TLS settings.
    public init(store: @escaping () throws -> OCILayoutStore, client: @escaping (String) throws -> RegistryClient) {
        self.openStore = store
        self.makeClient = client
    }

    /// Closes every client made.
    public func shutdown() async {
        for client in lock.withLock({ Array(clients.values) }) { await client.shutdown() }
    }

    func theStore() throws -> OCILayoutStore {
        if let store = lock.withLock({ store }) { return store }
        let opened = try openStore()
        lock.withLock { store = opened }
        return opened
    }

    func client(for registry: String) throws -> RegistryClient {
        if let client = lock.withLock({ clients[registry] }) { return client }
        let made = try makeClient(registry)
        lock.withLock { clients[registry] = made }
        return made
    }

    /// Where archives are unpacked to and gathered in: the store when the copy involves it (so
    /// blobs are linked, not copied), else a layout directory of the copy, else the temporary
    /// directory.
    public func scratchDirectory(_ locations: [ImageLocation]) throws -> String {
        for location in locations {
            if case .store = location { return try theStore().root }
        }
        for location in locations {
            if case let .layout(path, _) = location {
                try FileIO.makeDirectories(path)
                return path
            }
        }
        return FileManager.default.temporaryDirectory.path
    }

    /// The image(s) `location` names. With `all`, an archive or a layout without a reference
    /// gives every image it holds (`load`); otherwise one image, which the location must name
    /// when there are several.
    public func sources(_ location: ImageLocation, all: Bool = false, scratch: String) throws -> [ImageSource] {
        switch location {
        case .registry(let reference):
            return [RegistryImageSource(client: try client(for: reference.registry), reference: reference)]
        case .store(let reference):
            return [try LayoutSource(layout: try theStore(), selector: .store(reference), name: "store:\(reference)")]
        case let .layout(path, reference):
            let layout = try OCILayoutStore(root: path, create: false)
            if all && reference == nil {
                return try layout.entries().map { entry in
                    let references = entry.name.map { LayoutSource.references(fromRefName: $0, container: path) } ?? []
                    return try LayoutSource(layout: layout, selector: .descriptor(entry.descriptor, references: references),
                                            name: "oci:\(path)\(entry.name.map { ":\($0)" } ?? "")")
                }
            }
            return [try LayoutSource(layout: layout, selector: .refName(reference))]
        case let .ociArchive(path, reference), let .dockerArchive(path, reference):
            let contents = try ArchiveContents(path: path, scratchParent: scratch)
            if all && reference == nil { return try contents.sources() }
            return [try contents.source(reference)]
        }
    }

    /// A destination for `location`. `naming` names what lands in the store when the location
    /// does not (`store:` alone): the source's names for `load`, none for a build's base.
    public func destination(_ location: ImageLocation, scratch: String,
                            storeNaming: LayoutDestination.Naming = .fromSource) throws -> ImageDestination {
        switch location {
        case .registry(let reference):
            return RegistryImageDestination(client: try client(for: reference.registry), reference: reference)
        case .store(let reference):
            let naming: LayoutDestination.Naming = reference.isEmpty ? storeNaming : .reference(try ImageReference(parsing: reference))
            return try LayoutDestination(layout: try theStore(), naming: naming, name: location.description)
        case let .layout(path, reference):
            let layout = try OCILayoutStore(root: path, create: true)
            return try LayoutDestination(layout: layout, naming: reference.map { .refName($0) } ?? .untagged, name: location.description)
        case let .ociArchive(path, reference):
            return try ArchiveDestination(path: path, format: .oci, names: reference.map { [$0] }, scratchParent: scratch)
        case let .dockerArchive(path, reference):
            return try ArchiveDestination(path: path, format: .docker, names: reference.map { [$0] }, scratchParent: scratch)
        }
    }
}
