import Foundation
import OCI

/// What happens during a build, for the CLI to show; the library never prints.
public enum BuildEvent: Sendable {
    case imageStarted(name: String, layers: Int)
    case baseResolved(name: String, base: String, digest: Digest?)
    case layerStarted(name: String, index: Int, total: Int, source: String)
    case layerProgress(name: String, index: Int, LayerProgress)
    case layerFinished(name: String, index: Int, BuiltLayer)
    case imageFinished(BuiltImage)
}

/// An image written to the store.
public struct BuiltImage: Sendable, Hashable {
    public var name: String
    /// The manifest's descriptor in the store.
    public var manifest: Descriptor
    /// The config descriptor (its digest is docker's image ID).
    public var config: Descriptor
    /// The references tagged in the store.
    public var tags: [ImageReference]
    /// The layers this build added (base layers are not listed).
    public var layers: [BuiltLayer]
}

/// Options that apply to every image of a build.
public struct AssemblyOptions: Sendable {
    /// mtimes are clamped to this and `created` is set to it (SOURCE_DATE_EPOCH, 0 by default).
    public var epoch: Int64
    /// Compression threads (0: one per core); never changes the output.
    public var threads: Int
    /// Compression level override; nil for each algorithm's default.
    public var level: Int?

    public init(epoch: Int64 = 0, threads: Int = 0, level: Int? = nil) {
        self.epoch = epoch
        self.threads = threads
        self.level = level
    }
}

/// Assembles images from a stack file into a store: base, one layer per `layers` entry,
/// then config, manifest and tags. The same inputs always give the same manifest digest.
public enum ImageAssembler {
    /// Builds `image` into `store`. Layers land atomically as they are built; the tags move
    /// only once the whole image is written, so a killed build leaves the store consistent.
    ///
    /// An image with `packages:` gets one layer per package of their runtime closure, taken
    /// from `packageLayers` (built or fetched before), after the base and before `layers:`; it
    /// starts from `bases: runtime:` unless it names a base, and each package's `bin` folder
    /// goes on its PATH.
    public static func build(_ image: ImageSpec, stack: StackFile, store: OCILayoutStore, options: AssemblyOptions,
                             packageLayers: [String: PackageLayer] = [:],
                             events: (BuildEvent) -> Void = { _ in }) throws -> BuiltImage {
        var image = image
        var packages: [PackageLayer] = []
        if !image.packages.isEmpty {
            let graph = try PackageGraph(stack.packages)
            for name in graph.runtimeClosure(of: image.packages) {
                guard let layer = packageLayers[name] else {
                    throw PackageBuildError.notBuilt(package: name, hash: "unknown")
                }
                packages.append(layer)
            }
            if image.base == .scratch { image.base = stack.bases.runtime }
        }
        return try store.withWriteSession {
            events(.imageStarted(name: image.name, layers: image.layers.count))
            let base = try resolveBase(image, store: store)
            events(.baseResolved(name: image.name, base: base.label, digest: base.manifestDigest))

            var built: [BuiltLayer] = []
            for (i, layer) in image.layers.enumerated() {
                let shown = displayPath(layer.source, stack: stack)
                events(.layerStarted(name: image.name, index: i, total: image.layers.count, source: shown))
                let result: BuiltLayer
                do {
                    result = try LayerBuilder.build(
                        try layerSources(layer, image: image, context: stack.context),
                        options: LayerOptions(compression: image.compression, level: options.level, threads: options.threads, epoch: options.epoch),
                        into: store
                    ) { events(.layerProgress(name: image.name, index: i, $0)) }
                } catch let OCIError.sourceOutside(path, resolved, root) {
                    throw StackBuildError.sourceOutsideContext(image: image.name, layer: layer.sourceLocation ?? layer.location,
                                                               path: path, resolved: resolved, context: root)
                }
                events(.layerFinished(name: image.name, index: i, result))
                built.append(result)
            }

            let created = rfc3339(options.epoch)
            var history = base.config?.history ?? []
            for package in packages {
                let version = package.version.isEmpty ? "" : " \(package.version)"
                history.append(ImageConfig.History(created: created, createdBy: "stackship: package \(package.name)\(version) (\(package.hash.prefix(12)))"))
            }
            for (layer, _) in zip(image.layers, built) {
                let what = layer.kind == .executable ? "executable " : ""
                history.append(ImageConfig.History(created: created, createdBy: "stackship: add \(what)\(displayPath(layer.source, stack: stack)) \(layer.destination)", comment: layer.comment))
            }
            var config = ImageConfig(
                platform: image.platform,
                created: created,
                config: withPackagePaths(merge(base: base.config?.config, with: image.config), packages: packages, prefix: stack.prefix),
                diffIDs: (base.config?.rootfs.diff_ids ?? []) + packages.map(\.diffID) + built.map(\.diffID),
                history: history.isEmpty ? nil : history
            )
            if let base = base.config {
                // What the base says of itself survives, but for Docker's record of how the base was built.
                config.osVersion = base.osVersion
                config.osFeatures = base.osFeatures
                config.unknown = base.unknown.filter { !["container", "container_config", "docker_version"].contains($0.key) }
            }
            let configDescriptor = try store.writeJSON(config, mediaType: MediaType.ociConfig)
            var annotations = image.annotations
            if let name = base.referenceName { annotations[AnnotationKey.baseName] = name }
            if let digest = base.manifestDigest { annotations[AnnotationKey.baseDigest] = digest.description }
            let manifest = Manifest(config: configDescriptor, layers: base.layers + packages.map(\.layer) + built.map(\.descriptor),
                                    annotations: annotations.isEmpty ? nil : annotations)
            var manifestDescriptor = try store.writeJSON(manifest, mediaType: MediaType.ociManifest)
            manifestDescriptor.platform = image.platform
            for tag in image.tags { try store.tag(manifestDescriptor, as: tag) }
            let result = BuiltImage(name: image.name, manifest: manifestDescriptor, config: configDescriptor, tags: image.tags, layers: built)
            events(.imageFinished(result))
            return result
        }
    }

    /// What goes into the layer for `layer`: its source as it is, or for an executable, the
    /// program with its interpreter and shared libraries (see ``ELFDependencies``).
    ///
    /// - Throws: ``StackBuildError/executableLayer(image:layer:_:)`` when the program's needs
    ///   cannot be met, ``StackBuildError/executablePlatformMismatch(image:layer:executable:architecture:wanted:)``
    ///   when it is for another architecture than the image.
    ///
    /// The source (for an executable, the program only) and every symlink the walk follows
    /// must stay inside `context`, the stack's build context (nil: anywhere).
    static func layerSources(_ layer: LayerSpec, image: ImageSpec, context: String? = nil) throws -> [LayerSource] {
        switch layer.kind {
        case .tree:
            return [LayerSource(source: layer.source, destination: layer.destination, mode: layer.mode,
                                followSymlinks: layer.followSymlinks, exclude: layer.exclude, confinement: context)]
        case .executable:
            let dependencies: ELFDependencies
            do {
                dependencies = try ELFDependencies.resolve(executable: layer.source, destination: layer.destination)
            } catch let error as ELFDependencyError {
                throw StackBuildError.executableLayer(image: image.name, layer: layer.location, error)
            }
            if let architecture = dependencies.architecture, architecture != image.platform.architecture {
                throw StackBuildError.executablePlatformMismatch(image: image.name, layer: layer.location, executable: layer.source,
                                                                 architecture: architecture, wanted: image.platform.description)
            }
            return dependencies.layerSources(mode: layer.mode, confinement: context)
        }
    }

    /// Puts each package's `bin` folder in front of PATH (the image's own PATH, or the usual one).
    static func withPackagePaths(_ config: ImageConfig.Config, packages: [PackageLayer], prefix: String) -> ImageConfig.Config {
        guard !packages.isEmpty else { return config }
        var config = config
        var env = config.Env ?? []
        let existing = env.firstIndex { $0.hasPrefix("PATH=") }
        let current = existing.map { String(env[$0].dropFirst(5)) } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        let value = "PATH=" + (packages.reversed().map { prefix + "/" + $0.name + "/bin" } + [current]).joined(separator: ":")
        if let existing { env[existing] = value } else { env.insert(value, at: 0) }
        config.Env = env
        return config
    }

    struct ResolvedBase {
        var label: String
        var referenceName: String?
        var manifestDigest: Digest?
        var config: ImageConfig?
        var layers: [Descriptor]
    }

    static func resolveBase(_ image: ImageSpec, store: OCILayoutStore) throws -> ResolvedBase {
        try resolveBase(image.base, for: image.name, platform: image.platform, store: store)
    }

    /// Resolves `base` (an image's, or the stack's builder) in `store`, loading archives into it.
    static func resolveBase(_ base: BaseSpec, for name: String, platform: Platform, store: OCILayoutStore) throws -> ResolvedBase {
        let descriptor: Descriptor
        let label: String
        var referenceName: String?
        switch base {
        case .scratch:
            return ResolvedBase(label: "scratch", referenceName: nil, manifestDigest: nil, config: nil, layers: [])
        case .store(let ref):
            do {
                descriptor = try store.resolve(ref).descriptor
            } catch OCIError.imageNotFound {
                throw StackBuildError.baseNotFound(image: name, base: ref, store: store.root)
            }
            label = ref
            referenceName = (try? ImageReference(parsing: ref))?.description
        case .ociArchive(let path, let ref), .dockerArchive(let path, let ref):
            let loaded = try ImageArchive.load(path, into: store).images
            label = "\(path)\(ref.map { ":\($0)" } ?? "")"
            if let ref {
                guard let hit = select(ref, from: loaded) else {
                    throw StackBuildError.baseNotInArchive(image: name, archive: path, reference: ref,
                                                           available: loaded.flatMap(\.references).map(\.familiar))
                }
                descriptor = hit.descriptor
                referenceName = hit.references.first?.description
            } else {
                guard loaded.count == 1 else {
                    throw StackBuildError.baseNotInArchive(image: name, archive: path, reference: nil,
                                                           available: loaded.flatMap(\.references).map(\.familiar))
                }
                descriptor = loaded[0].descriptor
                referenceName = loaded[0].references.first?.description
            }
        }
        let manifest = try store.manifest(for: descriptor, platform: platform)
        let config = try store.config(of: manifest)
        guard config.platform.matches(platform) || (config.os == platform.os && config.architecture == platform.architecture) else {
            throw StackBuildError.platformMismatch(image: name, base: label, basePlatform: config.platform.description, wanted: platform.description)
        }
        let layers = try manifest.layers.map { layer -> Descriptor in
            guard let compression = MediaType.layerCompression(layer.mediaType) else {
                throw OCIError.unknownLayerType(layer: "layer \(layer.digest) of base \(label)", mediaType: layer.mediaType)
            }
            var l = layer
            if !l.mediaType.hasPrefix("application/vnd.oci.") { l.mediaType = MediaType.ociLayer(compression) }
            return l
        }
        return ResolvedBase(label: label, referenceName: referenceName, manifestDigest: descriptor.digest, config: config, layers: layers)
    }

    /// Picks an archive's image as skopeo does: `@N` is the N-th image (docker archives), an
    /// OCI ref.name matches as written (`latest`), and a reference matches once normalised.
    static func select(_ selector: String, from loaded: [LoadedImage]) -> LoadedImage? {
        if selector.hasPrefix("@"), let n = Int(selector.dropFirst()) {
            return loaded.indices.contains(n) ? loaded[n] : nil
        }
        if let hit = loaded.first(where: { $0.refNames.contains(selector) }) { return hit }
        guard let wanted = try? ImageReference(parsing: selector) else { return nil }
        return loaded.first { $0.references.contains { $0.name == wanted.name && $0.tag == wanted.tag } }
    }

    /// Applies the stack file's config over the base's, as a Dockerfile would: lists replace,
    /// env and labels merge by key, ports and volumes add up; a new entrypoint clears the
    /// base's cmd unless cmd is given too.
    static func merge(base: ImageConfig.Config?, with spec: ConfigSpec) -> ImageConfig.Config {
        var c = base ?? ImageConfig.Config()
        if let entrypoint = spec.entrypoint {
            c.Entrypoint = entrypoint
            if spec.cmd == nil { c.Cmd = nil }
        }
        if let cmd = spec.cmd { c.Cmd = cmd }
        if !spec.env.isEmpty {
            var env = c.Env ?? []
            for variable in spec.env {
                let line = "\(variable.name)=\(variable.value)"
                if let i = env.firstIndex(where: { $0.split(separator: "=", maxSplits: 1).first.map(String.init) == variable.name }) {
                    env[i] = line
                } else {
                    env.append(line)
                }
            }
            c.Env = env
        }
        if let workdir = spec.workdir { c.WorkingDir = workdir }
        if let user = spec.user { c.User = user }
        if !spec.exposedPorts.isEmpty {
            var ports = c.ExposedPorts ?? [:]
            for p in spec.exposedPorts { ports[p] = EmptyObject() }
            c.ExposedPorts = ports
        }
        if !spec.labels.isEmpty { c.Labels = (c.Labels ?? [:]).merging(spec.labels) { $1 } }
        if let signal = spec.stopSignal { c.StopSignal = signal }
        if !spec.volumes.isEmpty {
            var volumes = c.Volumes ?? [:]
            for v in spec.volumes { volumes[v] = EmptyObject() }
            c.Volumes = volumes
        }
        return c
    }

    /// A path as the stack file's reader knows it: relative to the stack file's directory,
    /// so history (and so the digest) does not depend on where the checkout lives.
    static func displayPath(_ path: String, stack: StackFile) -> String {
        let dir = stack.directory.hasSuffix("/") ? stack.directory : stack.directory + "/"
        if path.hasPrefix(dir) { return String(path.dropFirst(dir.count)) }
        if path == stack.directory { return "." }
        return (path as NSString).lastPathComponent
    }

    /// `1970-01-01T00:00:00Z` style, for `created`.
    public static func rfc3339(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}

/// Errors of assembling images from a stack file.
public enum StackBuildError: Error, CustomStringConvertible, LocalizedError, Equatable {
    case baseNotFound(image: String, base: String, store: String)
    /// A base the store lacks, with pulling turned off (`--pull never`).
    case baseNotPulled(usedBy: String, base: String, store: String)
    /// A base that could not be fetched from its registry.
    case basePullFailed(usedBy: String, base: String, reason: String)
    case baseNotInArchive(image: String, archive: String, reference: String?, available: [String])
    case platformMismatch(image: String, base: String, basePlatform: String, wanted: String)
    /// An `executable:` layer (at `layer` in the stack file) whose program or libraries are unusable.
    case executableLayer(image: String, layer: SourceLocation, ELFDependencyError)
    /// An `executable:` layer whose program is for `architecture` while the image is for `wanted`.
    case executablePlatformMismatch(image: String, layer: SourceLocation, executable: String, architecture: String, wanted: String)
    /// A layer source at `layer`, or a symlink followed under it (`path`), that resolves to
    /// `resolved`, outside the stack's build `context`.
    case sourceOutsideContext(image: String, layer: SourceLocation, path: String, resolved: String, context: String)

    public var description: String {
        switch self {
        case let .baseNotFound(image, base, store):
            return "image '\(image)': base '\(base)' is not in the store at \(store); build, pull or load it first (`stackship pull \(base)`, `stackship load FILE`), or use an oci-archive: or docker-archive: base"
        case let .baseNotPulled(usedBy, base, store):
            return "\(usedBy): base '\(base)' is not in the store at \(store), and --pull never forbids fetching it; pull it first (`stackship pull \(base)`), load it (`stackship load FILE`), or build with --pull missing"
        case let .basePullFailed(usedBy, base, reason):
            return "\(usedBy): cannot pull base '\(base)': \(reason)"
        case let .baseNotInArchive(image, archive, reference, available):
            let names = available.isEmpty ? "no named images" : available.joined(separator: ", ")
            if let reference {
                return "image '\(image)': \(archive) has no image '\(reference)' (it has \(names))"
            }
            return "image '\(image)': \(archive) holds several images (\(names)); name one as ARCHIVE:REFERENCE"
        case let .platformMismatch(image, base, basePlatform, wanted):
            return "image '\(image)': base '\(base)' is for \(basePlatform) but the image is for \(wanted); set platform: \(basePlatform) or pick a base for \(wanted)"
        case let .executableLayer(image, layer, error):
            return "\(layer): image '\(image)': \(error)"
        case let .executablePlatformMismatch(image, layer, executable, architecture, wanted):
            return "\(layer): image '\(image)': \(executable) is a program for \(architecture) but the image is for \(wanted); set platform: linux/\(architecture) or build the program for \(wanted)"
        case let .sourceOutsideContext(image, layer, path, resolved, context):
            return "\(layer): image '\(image)': \(path) resolves through a symlink to \(resolved), outside the build context \(context); point the link inside, exclude it, set follow_symlinks: false, or set `context:` to a folder that holds its target"
        }
    }

    public var errorDescription: String? { description }
}
