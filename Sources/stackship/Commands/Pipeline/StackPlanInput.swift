#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BuildCache
import Foundation
import OCI
import Pipelines
import Runtime
import Stack
import Yams

/// Builds the Pipelines target's `PlanInput` from a stack file: package hashes and dependencies
/// from `StackPackages`, `cached` from the binary cache, `changedSinceBase` from the hashes the
/// stack file and sources at a git ref give, images with their packages, test and tags, and CI
/// settings from the stack file's top-level `ci:` section.
struct StackPlanInput {
    /// The stack file as the user named it: jobs pass it on unchanged, so it stays relative.
    var stackPath: String
    var cacheOptions: CacheLocationOptions
    var storeOptions: StoreOptions
    /// A git ref to compare package hashes with (`--since`).
    var since: String?

    /// Warnings for the user (a base ref whose hashes could not be computed, …).
    final class Notes: @unchecked Sendable {
        var lines: [String] = []
    }

    func make(notes: Notes = Notes()) throws -> PlanInput {
        let file = try StackFile.load(path: stackPath)
        let settings = try CISettings.read(stackFile: file.path)
        let store = try storeOptions.open(beside: file.directory, create: true)
        let hashes = try Self.hashes(of: file, store: store)
        let cached = try cachedPackages(hashes: hashes, directory: file.directory)
        var changed: [String: Bool]?
        if let since {
            changed = try changedPackages(since: since, current: hashes, stack: file, store: store, notes: notes)
        }
        let builders = Set(StackPackages.builderImages(of: file).map(\.name))
        let publish = settings.publish.map(Set.init)
        if let publish {
            for name in publish.sorted() where !file.images.contains(where: { $0.name == name }) {
                throw CIConfigError(key: "ci.publish", problem: "names image '\(name)', which the stack does not define",
                                    fix: "list images from `images:` (\(file.images.map(\.name).joined(separator: ", ")))")
            }
        }
        let graph = try PackageGraph(file.packages)
        let packages = file.packages.map { spec in
            PlanInput.Package(name: spec.name, hash: hashes[spec.name] ?? "",
                              dependencies: spec.allDependencies.sorted(),
                              cached: cached.contains(spec.name),
                              changedSinceBase: changed?[spec.name])
        }
        let images = file.images.map { image -> PlanInput.Image in
            let published = publish.map { $0.contains(image.name) } ?? !builders.contains(image.name)
            return PlanInput.Image(name: image.name, packages: graph.runtimeClosure(of: image.packages),
                                   tests: image.test != nil,
                                   publishTags: published ? image.tags.map(\.familiar) : [])
        }
        let name = settings.name ?? Self.defaultName(file)
        return PlanInput(stackName: name, stackFile: stackPath, packages: packages, images: images, settings: settings.settings)
    }

    /// The stack's name: the folder holding the stack file.
    static func defaultName(_ file: StackFile) -> String {
        let folder = (file.directory as NSString).lastPathComponent
        return folder.isEmpty || folder == "/" ? "stack" : folder
    }

    /// Every package's input hash. A builder image the stack defines itself is assembled into
    /// the store first (as `build` does), because package hashes cover its digest.
    static func hashes(of file: StackFile, store: OCILayoutStore) throws -> [String: String] {
        guard !file.packages.isEmpty else { return [:] }
        let options = AssemblyOptions(epoch: try LayerOptions.sourceDateEpoch())
        for spec in StackPackages.builderImages(of: file) {
            _ = try ImageAssembler.build(spec, stack: file, store: store, options: options)
        }
        return try StackPackages(stack: file, store: store).hashes
    }

    /// The packages some read cache holds. With no cache configured and no default cache folder
    /// yet, nothing is cached; a cache named with --cache or STACKSHIP_CACHE must exist.
    func cachedPackages(hashes: [String: String], directory: String) throws -> Set<String> {
        let explicit = !cacheOptions.caches.isEmpty || !(ProcessInfo.processInfo.environment["STACKSHIP_CACHE"] ?? "").isEmpty
        let locations = cacheOptions.locations()
        if !explicit && !FileManager.default.fileExists(atPath: locations[0]) { return [] }
        let cache = BinaryCache(caches: try cacheOptions.readCaches())
        let box = SetBox()
        let pairs = hashes
        try AsyncCLI.runThrowing {
            for (name, hash) in pairs {
                if try await cache.contains(try PackageHash(hash)) { box.insert(name) }
            }
        }
        return box.values
    }

    /// For each package: whether its hash differs from its hash at `ref` (true for a package the
    /// stack at `ref` lacks). The stack file and sources at `ref` come from `git archive`, into a
    /// temporary folder with its own store, so the real store's tags are left alone.
    func changedPackages(since ref: String, current: [String: String], stack: StackFile, store: OCILayoutStore,
                         notes: Notes) throws -> [String: Bool] {
        let git = try Git(directory: stack.directory)
        let top = try git.run(["rev-parse", "--show-toplevel"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let topReal = URL(fileURLWithPath: top).resolvingSymlinksInPath().path
        let fileReal = URL(fileURLWithPath: stack.path.hasPrefix("/") ? stack.path : CLI.absolute(stack.path)).resolvingSymlinksInPath().path
        guard fileReal.hasPrefix(topReal + "/") else {
            throw ValidationError("--since needs the stack file inside a git work tree; \(fileReal) is not under \(topReal)")
        }
        let relative = String(fileReal.dropFirst(topReal.count + 1))
        _ = try git.run(["rev-parse", "--verify", "--quiet", ref + "^{commit}"], failure: "--since \(ref): no such commit in \(top); fetch it (git fetch origin \(ref)) or give another ref")
        let temp = NSTemporaryDirectory() + "stackship-since-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp + "/tree", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        // Source hashes cover file modes; git keeps only the executable bit, so the tree at REF
        // gets the modes a checkout here would (this process's umask), not git archive's 002.
        let mask = umask(0)
        umask(mask)
        _ = try git.run(["-c", "tar.umask=0" + String(mask, radix: 8), "archive", "--format=tar", "-o", temp + "/tree.tar", ref])
        guard let tar = ChildProcess.which("tar") else { throw ValidationError("--since needs `tar` on PATH (apt-get install tar)") }
        let untar = try ChildProcess.run(tar, ["-xf", temp + "/tree.tar", "-C", temp + "/tree"])
        guard untar.status == 0 else { throw ValidationError("--since \(ref): could not unpack the tree: \(untar.output)") }
        let basePath = temp + "/tree/" + relative
        guard FileManager.default.fileExists(atPath: basePath) else {
            notes.lines.append("--since \(ref): the stack file \(relative) does not exist there; every package counts as changed")
            return current.mapValues { _ in true }
        }
        let base = try StackFile.load(path: basePath)
        let baseHashes: [String: String]
        do {
            baseHashes = try Self.hashes(of: base, store: try OCILayoutStore(root: temp + "/store", create: true))
        } catch {
            // A builder pulled into the real store (not built by the stack) is only found there.
            do {
                baseHashes = try StackPackages(stack: base, store: store).hashes
            } catch {
                notes.lines.append("--since \(ref): could not hash the packages at \(ref) (\(CLI.describe(error))); no package is left out as unchanged")
                return [:]
            }
        }
        return current.reduce(into: [:]) { out, pair in out[pair.key] = baseHashes[pair.key] != pair.value }
    }
}

final class SetBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = Set<String>()
    var values: Set<String> { lock.withLock { stored } }
    func insert(_ value: String) { _ = lock.withLock { stored.insert(value) } }
}

/// Runs git in a folder, through ChildProcess (Foundation's Process passes a blocked signal mask on).
struct Git {
    let directory: String
    let executable: String

    init(directory: String) throws {
        guard let git = ChildProcess.which("git") else { throw ValidationError("--since needs git on PATH (apt-get install git)") }
        self.directory = directory
        self.executable = git
    }

    func run(_ arguments: [String], failure: String? = nil) throws -> String {
        let result = try ChildProcess.run(executable, ["-C", directory] + arguments)
        guard result.status == 0 else {
            throw ValidationError(failure ?? "git \(arguments.joined(separator: " ")) failed in \(directory): \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return result.output
    }
}

/// A wrong `ci:` setting: which key, what is wrong, and how to fix it.
struct CIConfigError: Error, LocalizedError {
    var key: String
    var problem: String
    var fix: String
    var errorDescription: String? { "\(key) \(problem); \(fix)" }
}

/// The stack file's top-level `ci:` section, read with Yams (the stack file parser only lets it
/// through). Keys are snake_case; every one is optional.
struct CISettings {
    var settings = PlanInput.Settings()
    /// The stack's name in pipelines and reports (default: the stack file's folder).
    var name: String?
    /// The images to publish (default: every image that is not the stack's builder image).
    var publish: [String]?

    static var stringKeys: [String: WritableKeyPath<PlanInput.Settings, String>] { [
        "cache": \.cacheURL,
        "signing_key_secret": \.signingKeySecret,
        "registry": \.registry,
        "aws_role_arn": \.awsRoleARN,
        "aws_region": \.awsRegion,
        "tool_version": \.toolVersion,
        "github_runner": \.githubRunner,
        "gitlab_image": \.gitlabImage,
        "codebuild_image": \.codebuildImage,
        "codebuild_compute_type": \.codebuildComputeType,
        "publish_branch": \.publishBranch,
    ] }
    static var intKeys: [String: WritableKeyPath<PlanInput.Settings, Int>] { [
        "codebuild_max_builds_per_batch": \.codebuildMaxBuildsPerBatch,
        "gitlab_max_needs": \.gitlabMaxNeeds,
    ] }
    static var optionalKeys: [String: WritableKeyPath<PlanInput.Settings, String?>] { [
        "install_command": \.installCommand,
        "codebuild_image_compute_type": \.codebuildImageComputeType,
    ] }
    static var allKeys: [String] {
        (Array(stringKeys.keys) + Array(intKeys.keys) + Array(optionalKeys.keys) + ["name", "publish"]).sorted()
    }

    /// Reads `ci:` from the stack file at `stackFile`; no section gives the defaults.
    static func read(stackFile: String) throws -> CISettings {
        let text = try String(contentsOfFile: stackFile, encoding: .utf8)
        return try parse(yaml: text)
    }

    static func parse(yaml: String) throws -> CISettings {
        var out = CISettings()
        guard let root = try Yams.compose(yaml: yaml), let mapping = root.mapping,
              let section = mapping["ci"] else { return out }
        if section.scalar.map({ $0.string.isEmpty || $0.string == "~" || $0.string == "null" }) == true { return out }
        guard let entries = section.mapping else {
            throw CIConfigError(key: "ci", problem: "must be a mapping of settings",
                                fix: "write settings under it, such as `ci: {registry: 123456789012.dkr.ecr.us-east-1.amazonaws.com}`")
        }
        for (keyNode, value) in entries {
            let key = keyNode.string ?? "\(keyNode)"
            let name = "ci.\(key)"
            if let path = stringKeys[key] {
                out.settings[keyPath: path] = try string(value, key: name)
            } else if let path = optionalKeys[key] {
                out.settings[keyPath: path] = try string(value, key: name)
            } else if let path = intKeys[key] {
                guard let text = value.scalar?.string, let number = Int(text), number >= 1 else {
                    throw CIConfigError(key: name, problem: "must be a whole number of at least 1", fix: "write a number, such as `\(key): 50`")
                }
                out.settings[keyPath: path] = number
            } else if key == "name" {
                out.name = try string(value, key: name)
            } else if key == "publish" {
                guard let items = value.sequence else {
                    throw CIConfigError(key: name, problem: "must be a list of image names", fix: "write `publish: [web]`, or `publish: []` to publish nothing")
                }
                out.publish = try items.map { try string($0, key: name) }
            } else {
                let hint = closest(to: key, in: allKeys).map { "did you mean '\($0)'?" } ?? "valid keys are \(allKeys.joined(separator: ", "))"
                throw CIConfigError(key: name, problem: "is not a ci setting", fix: hint)
            }
        }
        return out
    }

    static func string(_ node: Node, key: String) throws -> String {
        guard let scalar = node.scalar, !scalar.string.isEmpty else {
            throw CIConfigError(key: key, problem: "must be a non-empty string", fix: "write it as a plain or quoted string")
        }
        return scalar.string
    }

    /// The candidate nearest to `input` by edit distance (at most 2, or 3 for long keys).
    static func closest(to input: String, in candidates: [String]) -> String? {
        Suggestions.closest(to: input, in: candidates, maxDistance: input.count > 12 ? 3 : 2)
    }
}
