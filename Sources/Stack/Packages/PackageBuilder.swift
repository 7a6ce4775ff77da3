import Foundation
import OCI
import Runtime
import Support

/// Builds one package into a layer in the store.
///
/// A `script:` package runs `sh -ec SCRIPT` inside a build image made of the builder's layers
/// plus the layers of everything it needs (each at its own prefix), with no network, its
/// source copied to `/build/src`, and its prefix (`$PREFIX`) bind-mounted from an empty folder
/// here; only that folder becomes the package. `--host` builds and the other kinds run on this
/// machine. Nothing reaches the store or a cache unless the build succeeds.
public struct PackageBuilder: Sendable {
    /// The stack.
    public var stack: StackFile
    /// Its package graph.
    public var graph: PackageGraph
    /// Every package's hash.
    public var hashes: [String: String]
    /// The store layers go into.
    public var store: OCILayoutStore
    /// Where sources come from.
    public var sources: PackageSources
    /// Scratch space for builds (`.stackship/work`); each build gets its own folder, removed after.
    public var workRoot: String
    /// Per-package logs (`.stackship/logs/NAME.log`).
    public var logRoot: String
    /// The container engine for builds in the builder image; nil when none builds in a container.
    public var engine: ContainerEngine?
    /// The builder's manifest digest and config, resolved once.
    public var builder: BuilderImage?
    /// Decides container or host per package.
    public var hasher: InputHasher
    /// mtimes in layers are clamped to this (SOURCE_DATE_EPOCH).
    public var epoch: Int64
    /// How many CPUs a build may use (`$JOBS`).
    public var cpus: Int
    /// Where `spack:` packages also push Spack's own binary packages (`spack buildcache
    /// push`): the push cache's `spack/` mirror; nil pushes nothing.
    public var spackMirror: String?

    /// The builder image as resolved in the store.
    public struct BuilderImage: Sendable {
        /// Its manifest digest.
        public var digest: Digest
        /// Its layers and config.
        public var layers: [Descriptor]
        public var config: ImageConfig

        public init(digest: Digest, layers: [Descriptor], config: ImageConfig) {
            self.digest = digest
            self.layers = layers
            self.config = config
        }
    }

    /// Creates a builder.
    public init(stack: StackFile, graph: PackageGraph, hashes: [String: String], store: OCILayoutStore, sources: PackageSources,
                workRoot: String, logRoot: String, engine: ContainerEngine?, builder: BuilderImage?, hasher: InputHasher,
                epoch: Int64 = 0, cpus: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.stack = stack
        self.graph = graph
        self.hashes = hashes
        self.store = store
        self.sources = sources
        self.workRoot = workRoot
        self.logRoot = logRoot
        self.engine = engine
        self.builder = builder
        self.hasher = hasher
        self.epoch = epoch
        self.cpus = cpus
    }

    /// Resolves the stack's builder image (loading an archive into the store if need be).
    public static func resolveBuilder(_ stack: StackFile, store: OCILayoutStore) throws -> BuilderImage? {
        guard let base = stack.bases.builder else { return nil }
        let resolved: ImageAssembler.ResolvedBase
        do {
            resolved = try ImageAssembler.resolveBase(base, for: "builder", platform: .host, store: store)
        } catch {
            throw PackageBuildError.builder(reason: "\(error)")
        }
        guard let digest = resolved.manifestDigest, let config = resolved.config else {
            throw PackageBuildError.builder(reason: "`bases: builder:` is scratch, which has no shell; name an image with /bin/sh, such as one built from busybox")
        }
        return BuilderImage(digest: digest, layers: resolved.layers, config: config)
    }

    /// The log file of `package`.
    public func logPath(_ package: String) -> String { logRoot + "/" + package + ".log" }

    /// Builds `name` (its dependencies' layers must be in the store) and records its layer.
    ///
    /// - Throws: ``PackageBuildError`` with the log's tail when the build fails.
    public func build(_ name: String) throws -> PackageLayer {
        let package = graph.packages[name]!
        let hash = hashes[name]!
        let dependencies = graph.buildClosure(of: name)
        let records = PackageLayerRecords(store: store)
        var dependencyLayers: [PackageLayer] = []
        for dependency in dependencies {
            guard let layer = records.layer(for: hashes[dependency]!) else {
                throw PackageBuildError.dependencyFailed(package: name, dependency: dependency)
            }
            dependencyLayers.append(layer)
        }
        try FileManager.default.createDirectory(atPath: logRoot, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: workRoot, withIntermediateDirectories: true)
        let work = workRoot + "/\(name)-\(hash.prefix(12))-\(UUID().uuidString.prefix(8))"
        let sourceDirectory = work + "/src"
        let output = work + "/prefix"
        for directory in [sourceDirectory, output] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        defer { try? FileManager.default.removeItem(atPath: work) }
        let log = logPath(name)
        FileManager.default.createFile(atPath: log, contents: Data("# stackship: building \(name) (\(hash))\n".utf8))

        if let source = package.source, package.recipe.kind != "swift" {
            try sources.materialise(source, package: name, into: sourceDirectory)
        }
        let prefix = stack.prefix + "/" + name
        switch package.recipe {
        case let .script(script, _):
            if hasher.buildsInContainer(package) {
                try buildInContainer(package, script: script, hash: hash, source: sourceDirectory, output: output,
                                     dependencies: dependencyLayers, log: log)
            } else {
                let root = work + "/deps"
                var environment = hostEnvironment()
                var path: [String] = []
                for layer in dependencyLayers {
                    try extract(layer, into: root, package: name)
                    let at = root + stack.prefix + "/" + layer.name
                    environment[Self.prefixVariable(layer.name)] = at
                    path.append(at + "/bin")
                }
                environment["PREFIX"] = output
                environment["PATH"] = (path + [environment["PATH"] ?? "/usr/bin:/bin"]).joined(separator: ":")
                try runLogged(["sh", "-ec", script], directory: sourceDirectory, environment: environment, log: log, package: name)
            }
        case let .files(copies):
            for copy in copies {
                let target = output + "/" + copy.destination
                let parent = copy.destination.hasSuffix("/") || copy.destination.isEmpty ? target : (target as NSString).deletingLastPathComponent
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
                try runLogged(["cp", "-a", copy.source, target], directory: work, environment: hostEnvironment(), log: log, package: name)
                if let mode = copy.mode {
                    var isDirectory: ObjCBool = false
                    let placed = FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) && isDirectory.boolValue
                        ? target + "/" + (copy.source as NSString).lastPathComponent : target
                    chmod(placed, mode_t(mode))
                }
            }
        case let .swift(product):
            guard case let .path(directory)? = package.source else {
                throw PackageBuildError.source(package: name, reason: "a swift build needs a path source holding Package.swift")
            }
            guard ChildProcess.which("swift") != nil else {
                throw PackageBuildError.toolMissing(package: name, tool: "swift", hint: "install Swift from swift.org")
            }
            try runLogged(["swift", "build", "-c", "release", "--product", product, "--static-swift-stdlib"],
                          directory: directory, environment: hostEnvironment(), log: log, package: name)
            let binPath = try ChildRun.run(["swift", "build", "-c", "release", "--show-bin-path"], directory: directory)
            let bin = binPath.output.split(separator: "\n").last.map(String.init) ?? ""
            try FileManager.default.createDirectory(atPath: output + "/bin", withIntermediateDirectories: true)
            try runLogged(["cp", bin + "/" + product, output + "/bin/" + product], directory: work, environment: hostEnvironment(), log: log, package: name)
        case let .spack(recipe):
            guard ChildProcess.which("spack") != nil else {
                throw PackageBuildError.toolMissing(package: name, tool: "spack",
                    hint: "put spack on PATH (git clone https://github.com/spack/spack), or run `stackship dockerfile \(name)` and build that in a container")
            }
            var environment = hostEnvironment()
            environment["PREFIX"] = output
            let specs = recipe.specs.map { "'\($0.replacingOccurrences(of: "'", with: "'\\''"))'" }.joined(separator: " ")
            var script = "spack install --fail-fast \(specs) && spack view --dependencies yes symlink -i \"$PREFIX\" \(specs)"
            if let spackMirror {
                // Spack's own binaries go to the cache's Spack mirror too, so `spack install`
                // elsewhere (and the Dockerfile `stackship dockerfile` writes) finds them. Our
                // artifact is signed with the stack's key; Spack wants GPG, so its copy is unsigned.
                environment["STACKSHIP_SPACK_MIRROR"] = spackMirror
                script += " && spack buildcache push --unsigned --only package \"$STACKSHIP_SPACK_MIRROR\" \(specs)"
            }
            try runLogged(["sh", "-ec", script], directory: work, environment: environment, log: log, package: name)
        }

        let built = try LayerBuilder.build([LayerSource(source: output, destination: prefix)],
                                           options: LayerOptions(compression: .gzip, threads: 1, epoch: epoch), into: store)
        let layer = PackageLayer(name: name, hash: hash, version: package.version,
                                 dependencies: Dictionary(uniqueKeysWithValues: package.allDependencies.map { ($0, hashes[$0]!) }),
                                 layer: built.descriptor, diffID: built.diffID)
        try records.record(layer)
        return layer
    }

    /// `NAME_PREFIX` for a package name (`my-lib` → `MY_LIB_PREFIX`).
    public static func prefixVariable(_ name: String) -> String {
        String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }) + "_PREFIX"
    }

    func hostEnvironment() -> [String: String] {
        let inherited = ProcessInfo.processInfo.environment
        var environment: [String: String] = ["SOURCE_DATE_EPOCH": String(epoch), "JOBS": String(cpus), "LC_ALL": "C"]
        for key in ["PATH", "HOME", "TMPDIR", "SPACK_ROOT"] { if let value = inherited[key] { environment[key] = value } }
        return environment
    }

    func runLogged(_ arguments: [String], directory: String, environment: [String: String], log: String, package: String) throws {
        let result = try ChildRun.run(arguments, directory: directory, environment: environment, logFile: log)
        guard result.status == 0 else {
            throw PackageBuildError.buildFailed(package: package, status: result.status, log: log, tail: Self.tail(of: log))
        }
    }

    static func tail(of path: String, lines: Int = 20) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func extract(_ layer: PackageLayer, into root: String, package: String) throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        // Our own layers, verified by digest when they entered the store; paths start at the root.
        let result = try ChildRun.run(["tar", "-xzf", store.path(of: layer.layer.digest), "-C", root, "--no-same-owner"])
        guard result.status == 0 else {
            throw PackageBuildError.other("cannot unpack the layer of '\(layer.name)' to build '\(package)': \(result.output)")
        }
    }

    func buildInContainer(_ package: PackageSpec, script: String, hash: String, source: String, output: String,
                          dependencies: [PackageLayer], log: String) throws {
        guard let engine else {
            throw PackageBuildError.other("package '\(package.name)' builds in a container, but no container engine was set up")
        }
        guard let builder else {
            throw PackageBuildError.builder(reason: "package '\(package.name)' needs `bases: builder:`")
        }
        // The build image: the builder plus every needed package at its prefix.
        var config = builder.config
        var inner = config.config ?? ImageConfig.Config()
        let builderPath = inner.Env?.first { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        let dependencyBins = dependencies.map { stack.prefix + "/" + $0.name + "/bin" }
        inner.Env = (inner.Env ?? []).filter { !$0.hasPrefix("PATH=") } + ["PATH=" + (dependencyBins + [builderPath]).joined(separator: ":")]
        inner.Entrypoint = nil
        inner.Cmd = nil
        config.config = inner
        config.rootfs.diff_ids += dependencies.map(\.diffID)
        config.history = nil
        let image: Descriptor = try store.withWriteSession {
            let configDescriptor = try store.writeJSON(config, mediaType: MediaType.ociConfig)
            let manifest = Manifest(config: configDescriptor, layers: builder.layers + dependencies.map(\.layer))
            return try store.writeJSON(manifest, mediaType: MediaType.ociManifest)
        }
        var options = RunOptions()
        options.name = "stackship-build-\(package.name)-\(hash.prefix(8))-\(UUID().uuidString.prefix(4).lowercased())"
        options.entrypoint = ["/bin/sh", "-ec", script]
        options.command = []
        options.network = .none
        options.workdir = "/build/src"
        options.environment = ["PREFIX=\(stack.prefix)/\(package.name)", "SOURCE_DATE_EPOCH=\(epoch)", "JOBS=\(cpus)", "LC_ALL=C"]
            + dependencies.map { "\(Self.prefixVariable($0.name))=\(stack.prefix)/\($0.name)" }
        options.volumes = [VolumeMount(source: source, destination: "/build/src", readOnly: false),
                           VolumeMount(source: output, destination: stack.prefix + "/" + package.name, readOnly: false)]
        options.labels = ["org.stackship.build.package": package.name]
        let state = try engine.run(image: "stackship-build/\(package.name)@\(image.digest)", options: options)
        defer { try? engine.remove(state.id, force: true) }
        _ = engine.waitForExit(state, seconds: 24 * 3600)
        let finished = try engine.load(state.id)
        if let data = FileManager.default.contents(atPath: engine.logPath(of: state.id)),
           let handle = FileHandle(forWritingAtPath: log) {
            handle.seekToEndOfFile()
            handle.write(data)
            try? handle.close()
        }
        let status = finished.exitCode ?? -1
        guard status == 0 else {
            throw PackageBuildError.buildFailed(package: package.name, status: status, log: log, tail: Self.tail(of: log))
        }
    }
}
