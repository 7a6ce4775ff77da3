import BuildCache
import Foundation
import OCI
import Pipelines

/// A stack file turned into the Pipelines target's ``PlanInput``: package hashes and
/// dependencies from ``StackPackages``, `cached` from a binary cache, `changedSinceBase` from
/// the hashes the stack file and sources at a git ref give, images with their packages, test
/// and tags, and the CI settings the reader read from `ci:`.
///
/// Pipelines plans and emits from a `PlanInput` alone (its tests and benchmark make one by
/// hand), so it does not import Stack; this translation lives beside the model it reads.
public struct StackPlanning: Sendable {
    /// What ``planInput(cache:since:)`` gives.
    public struct Result: Sendable {
        /// The plan input.
        public var input: PlanInput
        /// Warnings for the user, such as a base ref whose hashes could not be computed.
        public var notes: [String]
    }

    /// The stack file.
    public let stack: StackFile
    /// The stack file as the user named it: jobs pass it on unchanged, so it stays relative.
    public let stackPath: String
    /// The store builder images the stack defines are assembled into.
    public let store: OCILayoutStore

    /// Plans `stack`, whose jobs name it `stackPath` (default: the path it was loaded from).
    public init(stack: StackFile, stackPath: String? = nil, store: OCILayoutStore) {
        self.stack = stack
        self.stackPath = stackPath ?? stack.path
        self.store = store
    }

    /// The plan input. `cache` answers which packages are cached (nil: none is); with `since`,
    /// each package records whether its hash differs from its hash at that git ref.
    ///
    /// - Throws: ``StackFileError``, ``PlanningError``, and the store's and cache's errors.
    public func planInput(cache: BinaryCache?, since: String?) async throws -> Result {
        var notes: [String] = []
        let hashes = try Self.hashes(of: stack, store: store)
        var cached = Set<String>()
        if let cache { cached = try await Self.cachedPackages(hashes: hashes, in: cache) }
        let changed = try since.map { try changedPackages(since: $0, current: hashes, notes: &notes) }
        let builders = Set(StackPackages.builderImages(of: stack).map(\.name))
        let publish = stack.ci.publish.map(Set.init)
        let graph = try PackageGraph(stack.packages)
        let packages = stack.packages.map { spec in
            PlanInput.Package(name: spec.name, hash: hashes[spec.name] ?? "",
                              dependencies: spec.allDependencies.sorted(),
                              cached: cached.contains(spec.name),
                              changedSinceBase: changed?[spec.name])
        }
        let images = stack.images.map { image -> PlanInput.Image in
            let published = publish.map { $0.contains(image.name) } ?? !builders.contains(image.name)
            return PlanInput.Image(name: image.name, packages: graph.runtimeClosure(of: image.packages),
                                   tests: image.test != nil,
                                   publishTags: published ? image.tags.map(\.familiar) : [],
                                   bases: stack.baseImage(of: image).map { [$0.name] } ?? [])
        }
        let input = PlanInput(stackName: stack.ci.name ?? Self.defaultName(stack), stackFile: stackPath,
                              packages: packages, images: images, settings: Self.fromRepositoryRoot(try Self.settings(stack), stackPath: stackPath))
        return Result(input: input, notes: notes)
    }

    /// The stack's name when `ci: name:` is absent: the folder holding the stack file.
    public static func defaultName(_ stack: StackFile) -> String {
        let folder = (stack.directory as NSString).lastPathComponent
        return folder.isEmpty || folder == "/" ? "stack" : folder
    }

    /// The pipeline settings: each `ci:` key given, the pipeline's default for the others
    /// (cache, registry, role and region have none: absent, they stay nil).
    public static func settings(_ ci: CISettings) -> PlanInput.Settings {
        var settings = PlanInput.Settings()
        // Given or absent, never invented: the plan and emitters name what they miss.
        settings.cacheURL = ci.cacheURL
        settings.registry = ci.registry
        settings.awsRoleARN = ci.awsRoleARN
        settings.awsRegion = ci.awsRegion
        let strings: [(String?, WritableKeyPath<PlanInput.Settings, String>)] = [
            (ci.signingKeySecret, \.signingKeySecret), (ci.toolVersion, \.toolVersion),
            (ci.githubRunner, \.githubRunner), (ci.gitlabImage, \.gitlabImage), (ci.codebuildImage, \.codebuildImage),
            (ci.codebuildComputeType, \.codebuildComputeType), (ci.publishBranch, \.publishBranch),
        ]
        for case let (value?, path) in strings { settings[keyPath: path] = value }
        if let value = ci.installCommand { settings.installCommand = value }
        settings.install = ci.install
        settings.trustedKeys = ci.trustedKey.map { [$0] } ?? []
        settings.setup = ci.setup
        if let value = ci.codebuildImageComputeType { settings.codebuildImageComputeType = value }
        if let value = ci.codebuildMaxBuildsPerBatch { settings.codebuildMaxBuildsPerBatch = value }
        if let value = ci.gitlabMaxNeeds { settings.gitlabMaxNeeds = value }
        return settings
    }

    /// `settings` with the stack file's paths (a release artifact in the repository, the trusted
    /// key) made relative to the folder the jobs run in, which is where the stack file is named
    /// from (`stackPath`, as the user gave it: the repository root when generating CI files).
    public static func fromRepositoryRoot(_ settings: PlanInput.Settings, stackPath: String) -> PlanInput.Settings {
        let folder = (stackPath as NSString).deletingLastPathComponent
        func relocate(_ path: String) -> String {
            guard !path.hasPrefix("/"), !folder.isEmpty, folder != "." else { return path }
            return StackPaths.normalise(folder + "/" + path)
        }
        var settings = settings
        settings.trustedKeys = settings.trustedKeys.map(relocate)
        if case let .release(url, sum)? = settings.install, !PlanInput.Settings.Install.isRemote(url) {
            settings.install = .release(url: relocate(url), sha256: sum)
        }
        return settings
    }

    /// The pipeline settings of `stack`: its `ci:` keys, and where the file also describes the
    /// CodeBuild CI project (`aws.ci_build`), that project's batch limits, so that the batch
    /// buildspecs and the project CodeBuild runs them in agree: a batch never holds more builds,
    /// nor uses another compute type, than the project allows.
    ///
    /// - Throws: ``StackFileError`` at the `ci:` key when an explicit `ci:` value exceeds what
    ///   `aws.ci_build.batch` allows.
    public static func settings(_ stack: StackFile) throws -> PlanInput.Settings {
        var settings = settings(stack.ci)
        guard let project = stack.aws?.ciBuild else { return settings }
        let place = stack.ciLocation ?? SourceLocation(file: stack.path, line: 1, column: 1)
        let batch = project.batch
        if let given = stack.ci.codebuildMaxBuildsPerBatch {
            guard given <= batch.maxBuilds else {
                throw StackFileError(location: place, message: "`ci.codebuild_max_builds_per_batch` is \(given), more than the CI project allows (`aws.ci_build.batch.max_builds`: \(batch.maxBuilds)); CodeBuild would refuse such a batch",
                                     hint: "lower it, raise `max_builds` (at most 100), or remove the ci key to use the project's")
            }
        } else {
            settings.codebuildMaxBuildsPerBatch = batch.maxBuilds
        }
        let allowed = batch.computeTypes.isEmpty ? [project.environment.computeType] : batch.computeTypes
        if stack.ci.codebuildComputeType == nil { settings.codebuildComputeType = project.environment.computeType }
        for (key, type) in [("codebuild_compute_type", Optional(settings.codebuildComputeType)), ("codebuild_image_compute_type", settings.codebuildImageComputeType)] {
            guard let type, !allowed.contains(type) else { continue }
            throw StackFileError(location: place, message: "`ci.\(key)` is \(type), which the CI project does not allow (it allows \(allowed.joined(separator: ", ")))",
                                 hint: "use one of those, or list it under `aws.ci_build.batch.compute_types`")
        }
        return settings
    }

    /// Every package's input hash. A builder image the stack defines itself is assembled into
    /// `store` first (as a build does), because package hashes cover its digest.
    public static func hashes(of stack: StackFile, store: OCILayoutStore) throws -> [String: String] {
        guard !stack.packages.isEmpty else { return [:] }
        let options = AssemblyOptions(epoch: try LayerOptions.sourceDateEpoch())
        for spec in StackPackages.builderImages(of: stack) {
            _ = try ImageAssembler.build(spec, stack: stack, store: store, options: options)
        }
        return try StackPackages(stack: stack, store: store).hashes
    }

    /// The packages (by name) whose hash `cache` holds.
    public static func cachedPackages(hashes: [String: String], in cache: BinaryCache) async throws -> Set<String> {
        var names = Set<String>()
        for (name, hash) in hashes {
            if try await cache.contains(try PackageHash(hash)) { names.insert(name) }
        }
        return names
    }

    /// For each package: whether its hash differs from its hash at `ref` (true for a package the
    /// stack at `ref` lacks). The stack file and sources at `ref` come from `git archive`, into a
    /// temporary folder with its own store, so this store's tags are left alone.
    public func changedPackages(since ref: String, current: [String: String], notes: inout [String]) throws -> [String: Bool] {
        let git = try GitTree(directory: stack.directory)
        let top = try git.topLevel()
        let absolute = StackPaths.absolute(stack.path, relativeTo: FileManager.default.currentDirectoryPath)
        let fileReal = URL(fileURLWithPath: absolute).resolvingSymlinksInPath().path
        guard fileReal.hasPrefix(top + "/") else { throw PlanningError.notInWorkTree(file: fileReal, workTree: top) }
        let relative = String(fileReal.dropFirst(top.count + 1))
        let temp = NSTemporaryDirectory() + "stackship-since-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp + "/tree", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        try git.unpack(ref, into: temp + "/tree", scratch: temp)
        let basePath = temp + "/tree/" + relative
        guard FileManager.default.fileExists(atPath: basePath) else {
            notes.append("\(ref): the stack file \(relative) does not exist there; every package counts as changed")
            return current.mapValues { _ in true }
        }
        let base = try StackFile.load(path: basePath, sections: .build)
        let baseHashes: [String: String]
        do {
            baseHashes = try Self.hashes(of: base, store: try OCILayoutStore(root: temp + "/store", create: true))
        } catch {
            // A builder pulled into this store (not built by the stack) is only found here.
            do {
                baseHashes = try StackPackages(stack: base, store: store).hashes
            } catch {
                notes.append("\(ref): could not hash the packages there (\(error)); no package is left out as unchanged")
                return [:]
            }
        }
        return current.reduce(into: [:]) { out, pair in out[pair.key] = baseHashes[pair.key] != pair.value }
    }
}
