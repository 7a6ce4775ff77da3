import Foundation
import OCI
import Runtime

/// A stack's packages made ready to build: graph, builder image, hashes and the lock that
/// records them; everything `build`, `lock` and the CI plan need before anything runs.
public struct StackPackages: Sendable {
    /// The stack.
    public let stack: StackFile
    /// Its dependency graph.
    public let graph: PackageGraph
    /// Each package's input hash.
    public let hashes: [String: String]
    /// The builder image, when a package builds in a container.
    public let builder: PackageBuilder.BuilderImage?
    /// How hashes were computed (host or container per package).
    public let hasher: InputHasher
    /// Where sources, work folders and logs live (`.stackship` beside the stack file).
    public let stateDirectory: String

    /// Resolves the builder, fetches git sources and hashes every package.
    ///
    /// - Parameters:
    ///   - forceHost: run every script build on this machine (`--host`); their hashes then say
    ///     `host` instead of the builder's digest.
    /// - Throws: ``PackageBuildError``.
    public init(stack: StackFile, store: OCILayoutStore, forceHost: Bool = false, stateDirectory: String? = nil) throws {
        self.stack = stack
        self.graph = try PackageGraph(stack.packages)
        self.stateDirectory = stateDirectory ?? stack.directory + "/.stackship"
        let sources = PackageSources(mirrors: self.stateDirectory + "/sources")
        let probe = InputHasher(sources: sources, builderDigest: nil, forceHost: forceHost)
        let needsBuilder = stack.packages.contains(where: probe.buildsInContainer)
        self.builder = needsBuilder ? try PackageBuilder.resolveBuilder(stack, store: store) : nil
        self.hasher = InputHasher(sources: sources, builderDigest: builder?.digest.description, forceHost: forceHost)
        self.hashes = try hasher.hashes(for: stack, graph: graph)
    }

    /// The lock for these hashes, with artifact digests from `layers` and image digests from `images`.
    public func lock(layers: [String: PackageLayer] = [:], images: [String: String] = [:], keeping old: LockFile? = nil) -> LockFile {
        var packages: [String: LockFile.Package] = [:]
        for name in graph.order {
            let spec = graph.packages[name]!
            let hash = hashes[name]!
            var artifact = layers[name]?.layer.digest.description
            if artifact == nil, let previous = old?.packages[name], previous.hash == hash { artifact = previous.artifact }
            packages[name] = LockFile.Package(hash: hash, version: spec.version, dependencies: spec.allDependencies.sorted(), artifact: artifact)
        }
        var allImages = old?.images ?? [:]
        for (name, digest) in images { allImages[name] = digest }
        allImages = allImages.filter { name, _ in stack.images.contains { $0.name == name } }
        return LockFile(builder: builder?.digest.description, packages: packages, images: allImages)
    }

    /// A builder for single packages; `engine` runs container builds.
    public func builder(store: OCILayoutStore, engine: ContainerEngine?, epoch: Int64 = 0) -> PackageBuilder {
        PackageBuilder(stack: stack, graph: graph, hashes: hashes, store: store, sources: hasher.sources,
                       workRoot: stateDirectory + "/work", logRoot: stateDirectory + "/logs", engine: engine,
                       builder: builder, hasher: hasher, epoch: epoch)
    }

    /// The packages `images` need at run time, in build order.
    public func packages(for images: [ImageSpec]) -> [String] {
        graph.runtimeClosure(of: images.flatMap(\.packages))
    }

    /// The images of `stack` that the builder image is, when `bases: builder:` names a tag that
    /// one of the stack's own images (one without packages) is built as: those are built first.
    public static func builderImages(of stack: StackFile) -> [ImageSpec] {
        guard case let .store(text)? = stack.bases.builder, let reference = try? ImageReference(parsing: text) else { return [] }
        return stack.images.filter { $0.packages.isEmpty && $0.tags.contains(reference) }
    }

    /// Whether any package builds in a container (so a container engine is needed).
    public var needsContainers: Bool { stack.packages.contains(where: hasher.buildsInContainer) }
}
