#if canImport(Glibc)
import Glibc
#endif
import Dockerfile
import Foundation
import OCI
import Runtime
import Support

/// Builds a Dockerfile into the store, with no daemon: bases come from the store (pulled by the
/// fetcher the caller gives, by the pull policy), COPY and ADD write their files as a change set,
/// RUN executes under runc or crun on an overlay of the stage's root (``BuildStepRunner``), and
/// every layer is reproducible (owners kept as set, mtimes clamped to the epoch, entries sorted).
///
/// Each step that makes a layer is cached (``StepCache``): a rebuild with nothing changed runs
/// nothing, and a changed COPY source re-runs only the steps from that COPY on. Kept with the
/// store, under `<store>/runtime/`:
///
///     runtime/roots/<chainID>/rootfs    base images unpacked for RUN steps
///     runtime/build/layers/<diffID>/     each built layer's files, the lower layers of later steps
///     runtime/build/scratch/             steps in progress, read-only views of stage roots
///     runtime/build/cache-mounts/        RUN --mount=type=cache directories
///     runtime/oci/                       the runtime's state for RUN steps (its --root)
///
/// Containers moved to the host's state directory (``HostState``), but a build's scratch stays
/// here, on purpose: it belongs to this store. The layer directories are the files of the
/// store's blobs that the step records in `<store>/build-cache` name; the store's `gc` deletes
/// them with those records, under the store's `.gc.lock`, which every build holds shared. In a
/// directory shared by every store, one store's `gc --build-cache` could delete what another
/// store's build is reading, and deleting a project's store would leave its scratch behind.
/// (A RUN step's container is no container of `ps`: docker's build containers are not either.)
public final class DockerfileBuilder: @unchecked Sendable {
    public let store: OCILayoutStore
    let runtimeName: String?
    let fetchBase: BaseImageFetcher
    let fetchURL: URLFetcher?
    let cache: StepCache
    private var runner: BuildStepRunner?

    var buildDirectory: String { store.root + "/runtime/build" }
    var layersDirectory: String { buildDirectory + "/layers" }
    var scratchDirectory: String { buildDirectory + "/scratch" }
    var rootsDirectory: String { store.root + "/runtime/roots" }

    /// `runtime`: runc or crun (nil: found as `stackship run` finds it). `fetchBase` pulls a
    /// base image into the store; `fetchURL` downloads ADD's URLs (nil: ADD of a URL fails).
    public init(store: OCILayoutStore, runtime: String? = nil, fetchBase: @escaping BaseImageFetcher, fetchURL: URLFetcher? = nil) {
        self.store = store
        self.runtimeName = runtime
        self.fetchBase = fetchBase
        self.fetchURL = fetchURL
        self.cache = StepCache(store: store)
    }

    // MARK: The build

    /// Builds `request` and tags the result. Nothing is tagged unless every step succeeded.
    public func build(_ request: DockerfileBuildRequest,
                      events: @escaping @Sendable (DockerfileBuildEvent) -> Void = { _ in }) async throws -> DockerfileBuildResult {
        let file = request.dockerfile
        let text: String
        do {
            text = String(decoding: try FileIO.readFile(file), as: UTF8.self)
        } catch {
            throw DockerfileBuildError.dockerfileMissing(path: file, hint: "give its path with -f, or run the build in the folder that holds it")
        }
        let dockerfile: Dockerfile
        let plan: BuildPlan
        do {
            dockerfile = try Dockerfile.parse(text)
            plan = try BuildPlan(dockerfile, options: request.options)
        } catch {
            throw DockerfileBuildError.dockerfile(file: file, error)
        }
        for warning in dockerfile.warnings { events(.warning("\(file):\(warning)")) }
        if !plan.unusedBuildArguments.isEmpty {
            events(.warning("build arguments not used by the Dockerfile: \(plan.unusedBuildArguments.joined(separator: ", "))"))
        }
        var ignore: DockerIgnore?
        do {
            ignore = try DockerIgnore.load(dockerfile: file, contextDirectory: request.contextDirectory) { path in
                (try? FileIO.readFile(path)).map { String(decoding: $0, as: UTF8.self) }
            }?.rules
        } catch {
            throw DockerfileBuildError.dockerfile(file: request.contextDirectory + "/.dockerignore", error)
        }
        guard let context = SourceTree.realPath(request.contextDirectory), FileIO.isDirectory(context) else {
            throw DockerfileBuildError.dockerfileMissing(path: request.contextDirectory,
                                                         hint: "the build context must be a folder; give the folder COPY reads from as the last argument")
        }

        return try await store.withAsyncWriteSession {
            // The store (and the .stackship folder holding it) is never part of the context,
            // which is where it lies by default.
            var hidden: Set<String> = []
            if let store = SourceTree.realPath(store.root), SourceTree.isInside(store, root: context) {
                hidden.insert(store)
                let parent = FileIO.split(store).directory
                if FileIO.split(parent).name == ".stackship", SourceTree.isInside(parent, root: context) { hidden.insert(parent) }
            }
            var session = BuildSession(builder: self, request: request, plan: plan, file: file,
                                       context: SourceRoot(path: context, ignore: ignore, keepsOwners: false, label: "the build context", hidden: hidden),
                                       events: events)
            try await session.prepareBases()
            if let triggered = try session.planWithOnBuildTriggers() {
                session.plan = triggered
                try await session.prepareBases()
            }
            let stages: [ResolvedStage]
            do {
                stages = try session.plan.resolve { session.baseEnvironment($0) }
            } catch let error as DockerfileError {
                throw DockerfileBuildError.dockerfile(file: file, error)
            }
            for stage in stages {
                try await session.build(stage)
            }
            return try session.finish()
        }
    }

    // MARK: Layers kept for later steps

    func layerDirectory(_ diffID: Digest) -> String {
        layersDirectory + "/" + diffID.algorithm.rawValue + "-" + diffID.encoded
    }

    /// The lowerdirs (top first) that make a stage's root: the kept directories of its top
    /// layers, and below them the rest unpacked into one root (cached by chain ID, as `run`'s).
    func lowers(layers: [Descriptor], diffIDs: [Digest], platform: Platform) throws -> [String] {
        var dirs: [String] = []
        var index = diffIDs.count - 1
        while index >= 0, FileIO.exists(layerDirectory(diffIDs[index])) {
            dirs.append(layerDirectory(diffIDs[index]))
            index -= 1
        }
        if dirs.count > 20 { index = diffIDs.count - 1; dirs = [] }
        if index >= 0 {
            let config = ImageConfig(platform: platform, created: nil, config: nil, diffIDs: Array(diffIDs[0...index]), history: nil)
            let manifest = Manifest(config: Descriptor(mediaType: MediaType.ociConfig, digest: Digest.compute(Data()), size: 0),
                                    layers: Array(layers[0...index]))
            dirs.append(try ImageUnpacker.cachedRoot(manifest, config: config, from: store, cacheDirectory: rootsDirectory).path)
        }
        if dirs.isEmpty {
            let empty = buildDirectory + "/empty"
            try FileIO.makeDirectories(empty, mode: 0o755)
            dirs.append(empty)
        }
        return dirs
    }

    /// Keeps a step's change set as the directory of its layer (moved; a kept one wins).
    func keep(_ upper: String, as diffID: Digest) throws {
        try FileIO.makeDirectories(layersDirectory, mode: 0o700)
        let target = layerDirectory(diffID)
        if FileIO.exists(target) { return }
        if rename(upper, target) != 0 && errno != EEXIST && errno != ENOTEMPTY {
            throw OCIError.io(path: target, operation: "keep the layer directory at", errno: errno)
        }
    }

    func makeScratch(_ prefix: String) throws -> String {
        try FileIO.makeDirectories(scratchDirectory, mode: 0o700)
        return try FileIO.makeUniqueDirectory(in: scratchDirectory, prefix: prefix + "-")
    }

    func stepRunner() throws -> BuildStepRunner {
        if let runner { return runner }
        let made = try BuildStepRunner(runtime: OCIRuntime.locate(runtimeName, stateRoot: store.root + "/runtime/oci"),
                                       scratchDirectory: scratchDirectory, cacheDirectory: buildDirectory + "/cache-mounts")
        runner = made
        return made
    }
}

extension FileIO {
    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
}
