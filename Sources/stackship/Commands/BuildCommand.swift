import ArgumentParser
import AWS
import BuildCache
import Dockerfile
import Foundation
import OCI
import Registry
import Runtime
import Stack

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a stack file's packages and images, or a Dockerfile, into the local store.",
        discussion: """
        Packages (stack file version 2) are built first, in dependency order, up to --jobs at \
        once: a package whose input hash the store or a cache already holds is not built again. \
        Script packages build inside the stack's builder image with no network (--host runs them \
        here instead). Each package's log is .stackship/logs/NAME.log, and stack.lock records \
        every hash and image digest.

        Binary caches: packages are fetched from --cache (repeatable, or $STACKSHIP_CACHE; \
        default .stackship/cache beside the stack file when it exists), each verified against \
        the trusted keys before use, and packages built here are signed and pushed to \
        --push-cache (default: the first cache) when a signing key is given (--signing-key or \
        $STACKSHIP_SIGNING_KEY; `stackship cache keygen` makes one). --no-cache reads none.

        Each image's layers are written as reproducible tar layers: the same sources give the \
        same digests on any machine (owners 0:0, mtimes clamped to SOURCE_DATE_EPOCH or 0, \
        entries sorted). A package is the same layer in every image that holds it. The store is \
        updated atomically: an interrupted build leaves it as it was.

        A base: named from a registry (base: ubuntu:24.04) is pulled when the store lacks it \
        (--pull missing), every time (--pull always) or never (--pull never), with the \
        credentials `stackship login` saved (or --creds), as docker build does.

        Dockerfiles (docker build's flags): `stackship build -f Dockerfile -t app .`, or \
        `stackship build -t app .` in a folder with a Dockerfile and no stack.yaml. RUN runs under \
        runc or crun on an overlay of the stage's root (root needed); each step's result is cached \
        in the store (a rebuild with nothing changed runs nothing; `stackship gc --build-cache` \
        empties the cache), and layers are reproducible: the same Dockerfile and context give the \
        same digest wherever RUN itself is deterministic.

        Examples:
          stackship build                      # ./stack.yaml, every package and image
          stackship build deploy/stack.yaml --image hello
          stackship build --package zlib -j 4  # one package and what it needs, no images
          stackship build --cache s3://bucket/cache --signing-key ci.key
          SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) stackship build
          stackship build --pull always       # fetch every base again (a moving tag)
          stackship build -t docker-cloud .   # ./Dockerfile, context .
          stackship build -f deploy/Dockerfile --build-arg VERSION=1.2 --target runtime -t app:1.2 .
          stackship build --secret id=token,src=token.txt -t app .
        """
    )

    @Argument(help: ArgumentHelp("The stack file (default stack.yaml), or the build context of a Dockerfile build (default .). A folder with a Dockerfile and no stack.yaml builds the Dockerfile.", valueName: "stack-file-or-context"))
    var path: String?

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp("The Dockerfile to build (as docker build -f); the context is the last argument, default the current folder.", valueName: "Dockerfile"))
    var file: String?

    @Option(name: [.customShort("t"), .customLong("tag")], help: ArgumentHelp("Tag the built image in the store (repeatable): a Dockerfile build's, or the one image of a stack build (choose it with --image).", valueName: "name[:tag]"))
    var tag: [String] = []

    @Option(name: .customLong("build-arg"), help: ArgumentHelp("A Dockerfile ARG's value (repeatable); NAME alone takes it from the environment.", valueName: "NAME=value"))
    var buildArg: [String] = []

    @Option(name: .long, help: ArgumentHelp("The Dockerfile stage to build (default the last).", valueName: "stage"))
    var target: String?

    @Option(name: .long, help: ArgumentHelp("The platform of a Dockerfile build's image (default this host's).", valueName: "os/arch[/variant]"))
    var platform: String?

    @Option(name: .long, help: ArgumentHelp("A secret for RUN --mount=type=secret (repeatable): id=ID,src=FILE or id=ID,env=VARIABLE. Never stored in the image or shown in the log.", valueName: "id=ID,src=FILE"))
    var secret: [String] = []

    @Option(name: .long, help: ArgumentHelp("A label added to a Dockerfile build's image (repeatable).", valueName: "KEY=VALUE"))
    var label: [String] = []

    @Option(name: .long, help: ArgumentHelp("Seconds since 1970 for the image's created time and every file time (buildah's --timestamp; default $SOURCE_DATE_EPOCH, else 0).", valueName: "seconds"))
    var timestamp: Int64?

    @Option(name: .long, help: "Build only this image and the packages it holds (repeat for several).")
    var image: [String] = []

    @Option(name: .long, help: "Build only this package and what it needs, and no image (repeat for several).")
    var package: [String] = []

    @Option(name: [.short, .long], help: "How many packages build at once.")
    var jobs: Int = 1

    @Flag(name: .long, help: "Go on building packages that do not depend on a failed one.")
    var keepGoing = false

    @Flag(name: .long, help: "Run script packages on this machine instead of in the builder image.")
    var host = false

    @Option(help: "Compression threads per layer (0: one per core). The output never depends on it.")
    var threads: Int = 0

    @Option(help: "Compression level override (gzip 1-9, zstd 1-19).")
    var level: Int?

    @Flag(name: .customLong("no-cache"), help: "Read no binary cache and push to none; for a Dockerfile, run every step again.")
    var noCache = false

    @Option(name: .long, help: ArgumentHelp("When to pull a base image from its registry: missing (when the store lacks it), always or never.", valueName: "policy"))
    var pull: PullPolicy = .missing

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryAccess: RegistryAccessOptions
    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var cacheLocations: CacheLocationOptions
    @OptionGroup var cacheKeys: CacheKeyOptions

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        if !image.isEmpty && !package.isEmpty { throw ValidationError("--image and --package cannot be combined; --package builds no image") }
    }

    func run() throws {
        if let (dockerfile, context) = dockerfileTarget() {
            try buildDockerfile(dockerfile, context: context)
            return
        }
        try CLI.run {
            try validateStackOptions()
            var stack = path ?? "stack.yaml"
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: stack, isDirectory: &isDirectory), isDirectory.boolValue {
                stack += "/stack.yaml"
            }
            if path == nil, !FileManager.default.fileExists(atPath: stack) {
                throw ValidationError("no stack.yaml or Dockerfile here; give a stack file, or a folder with a Dockerfile (or -f Dockerfile)")
            }
            let file = try StackFile.load(path: stack)
            try StateFolder.ignoredByGit(in: file.directory) { try buildStack(file) }
        }
    }

    /// Runs the `steps:` of the images this build makes (and of the stack's images they are built
    /// on), then reads the stack file again, so what the steps made is checked like any source.
    private func afterImageSteps(_ file: StackFile) throws -> StackFile {
        guard package.isEmpty else { return file }
        let wanted = try file.withBaseImagesFirst(image.isEmpty ? file.images : try image.map { try file.image(named: $0) })
        let stepped = ImageSteps.withSteps(wanted)
        guard !stepped.isEmpty else { return file }
        for spec in stepped {
            try ImageSteps.run(spec, in: file) { FileHandle.standardError.write(Data("==> \($0)\n".utf8)) }
        }
        return try StackFile.load(path: file.path)
    }

    private func buildStack(_ loaded: StackFile) throws {
        let file = try afterImageSteps(loaded)
        do {
            var selected = image.isEmpty ? file.images : try image.map { try file.image(named: $0) }
            if !tag.isEmpty {
                // docker's -t: more names for the one image built.
                guard selected.count == 1, package.isEmpty else {
                    throw ValidationError("-t tags one image; choose it with --image NAME (the stack has \(file.images.count) images: \(file.images.map(\.name).joined(separator: ", ")))")
                }
                selected[0].tags += try parsedTags()
            }
            for name in package { _ = try file.package(named: name) }
            // The stack's own images these are built on come first (`--image web` on a runtime
            // base the stack defines builds that base too: a CI job has no other store).
            selected = try file.withBaseImagesFirst(selected)
            let store = try storeOptions.open(beside: file.directory, create: true)
            let epoch = try LayerOptions.sourceDateEpoch()
            var layers: [String: PackageLayer] = [:]
            var prepared: StackPackages?
            let options = AssemblyOptions(epoch: epoch, threads: threads, level: level)
            var digests: [String: String] = [:]
            var done = Set<String>()
            let view = BuildView()
            func assemble(_ spec: ImageSpec, note: (BuiltImage) -> String) throws {
                if let dockerfile = spec.dockerfile {
                    let result = try runDockerfileBuild(dockerfileRequest(for: spec, dockerfile, epoch: epoch), store: store)
                    digests[spec.name] = result.image.manifest.digest.description
                    done.insert(spec.name)
                    print("\(spec.name): \(result.image.manifest.digest)  \(spec.tags.map(\.familiar).joined(separator: ", "))  (Dockerfile; \(Self.stepSummary(result)))")
                    return
                }
                let built = try ImageAssembler.build(spec, stack: file, store: store, options: options, packageLayers: layers) { view.show($0) }
                digests[spec.name] = built.manifest.digest.description
                done.insert(spec.name)
                print("\(built.name): \(built.manifest.digest)  \(built.tags.map(\.familiar).joined(separator: ", "))  (\(note(built)))")
            }
            // Bases named from a registry are pulled first (tagged, as docker build leaves them).
            let access = registryAccess.settings, policy = pull
            let needing = package.isEmpty ? selected : []
            try AsyncCLI.runThrowing {
                try await BaseImages.prepare(needing, in: file, store: store, policy: policy) { reference, platform in
                    FileHandle.standardError.write(Data("pulling base \(reference.familiar) (\(platform))\n".utf8))
                    try await access.withClient(for: reference.registry) { client in
                        _ = try await ImageTransfer.pull(reference, client: client, into: store, options: TransferOptions(platform: platform))
                    }
                }
            }
            let lockPath = LockFile.path(for: file)
            let oldLock = file.packages.isEmpty ? nil : try LockFile.read(lockPath)
            if !file.packages.isEmpty {
                // A builder image defined in this stack is built before the packages that need it.
                for spec in StackPackages.builderImages(of: file) {
                    try assemble(spec) { _ in "builder" }
                }
                let packages = try StackPackages(stack: file, store: store, forceHost: host)
                prepared = packages
                let engine = packages.needsContainers
                    ? ContainerEngine(store: store, runtime: runtimeOptions.runtime, monitorExecutable: RuntimeOptions.selfExecutable) : nil
                let caches = noCache ? BuildCaches() : try BuildCaches.open(cacheLocations, cacheKeys, stackDirectory: file.directory, prefix: file.prefix)
                if let note = caches.note { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
                if let warning = caches.warning { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
                var builder = packages.builder(store: store, engine: engine, epoch: epoch)
                builder.spackMirror = caches.spackMirror
                let scheduler = PackageScheduler(builder: builder,
                                                 caches: caches.read, pushCache: caches.push,
                                                 jobs: jobs, keepGoing: keepGoing)
                let wanted: [String]? = !package.isEmpty ? package
                    : image.isEmpty ? nil : packages.packages(for: selected)
                let packageView = PackageView(total: scheduler.packages(for: wanted).count)
                let box = ReportBox()
                try AsyncCLI.runThrowing {
                    box.report = await scheduler.run(targets: wanted) { packageView.show($0) }
                }
                let report = box.report!
                layers = report.layers
                // Recorded even when an image fails to assemble later.
                try packages.lock(layers: layers, keeping: oldLock).write(to: lockPath)
                packageView.summary(report)
                guard report.succeeded else {
                    throw PackageBuildError.other("\(report.failed.count) package\(report.failed.count == 1 ? "" : "s") failed: \(report.failed.keys.sorted().joined(separator: ", "))"
                                   + (report.skipped.isEmpty ? "" : "; not built: \(report.skipped.sorted().joined(separator: ", "))")
                                   + "; see the logs in \(packages.stateDirectory)/logs")
                }
                if !package.isEmpty { return }
            }
            for spec in selected where !done.contains(spec.name) {
                try assemble(spec) { built in
                    // The size `images` shows (base and packages included), so the two agree.
                    let manifest = try? store.manifest(for: built.manifest)
                    let size = ImagesCommand.size(of: built.manifest, manifest: manifest)
                    let baseLayers = (manifest?.layers.count ?? 0) - spec.packages.count - built.layers.count
                    let packageNote = spec.packages.isEmpty ? "" : "\(spec.packages.count) package\(spec.packages.count == 1 ? "" : "s") + "
                    let baseNote = baseLayers > 0 ? " on a base of \(baseLayers) layer\(baseLayers == 1 ? "" : "s")" : ""
                    return "\(packageNote)\(built.layers.count) layer\(built.layers.count == 1 ? "" : "s")\(baseNote), \(Format.bytes(size))"
                }
            }
            if let prepared {
                try prepared.lock(layers: layers, images: digests, keeping: oldLock).write(to: lockPath)
            }
        }
    }
}

/// The binary caches a build reads and pushes to, from the cache options.
struct BuildCaches {
    var read: [any Stack.PackageCache] = []
    var push: (any Stack.PackageCache)?
    /// The push cache's Spack mirror (`LOCATION/spack`), for `spack buildcache push`.
    var spackMirror: String?
    /// Said once before the build (why nothing is pushed).
    var note: String?
    /// Said once before the build as a warning (a cache that cannot be reached).
    var warning: String?

    /// Why the AWS credential chain has nothing, or nil when it has credentials (or fails
    /// otherwise: that failure is the cache's to report when it is used).
    static func missingAWSCredentials() -> String? {
        final class Box: @unchecked Sendable { var reason: String? }
        let box = Box()
        try? AsyncCLI.runThrowing {
            do {
                _ = try await AWSCredentialProvider().credentials()
            } catch let error as AWSError {
                if case .noCredentials = error { box.reason = error.description }
            }
        }
        return box.reason
    }

    /// Explicit caches (--cache, --push-cache, STACKSHIP_CACHE) must exist unless they are the
    /// push target, which is created. The default .stackship/cache is read only when it exists
    /// and created only to push to. Pushing needs a signing key, or --allow-unsigned.
    static func open(_ locations: CacheLocationOptions, _ keys: CacheKeyOptions, stackDirectory: String, prefix: String) throws -> BuildCaches {
        let signingKey = try keys.loadSigningKey()
        let trusted = try keys.loadTrustedKeys()
        let canPush = signingKey != nil || keys.allowUnsigned
        let explicit = locations.isExplicit
        var readLocations = locations.locations(beside: stackDirectory)
        let pushLocation = locations.pushLocation(beside: stackDirectory)
        var result = BuildCaches()
        // A job without AWS credentials (a GitHub test workflow on a fork's pull request gets
        // neither OIDC tokens nor secrets) cannot reach an S3 cache: every package is a miss and
        // nothing is pushed there, said once, rather than a failed build.
        var noCredentials: String?
        if (readLocations + [pushLocation]).contains(where: { $0.hasPrefix("s3://") }) {
            noCredentials = missingAWSCredentials()
        }
        if let reason = noCredentials {
            let s3 = (readLocations + [pushLocation]).filter { $0.hasPrefix("s3://") }
            readLocations.removeAll { $0.hasPrefix("s3://") }
            result.warning = "cache \(Array(Set(s3)).sorted().joined(separator: ", ")) is neither read nor written: \(reason) Every package it holds counts as missing."
        }
        for location in readLocations {
            let create = canPush && location == pushLocation
            if !explicit, !create, !location.contains("://"), !FileManager.default.fileExists(atPath: location) { continue }
            let cache = BinaryCache(caches: [BuildCache.PackageCache(try CacheLocation.backend(location, create: create))],
                                    signingKey: signingKey, trustedKeys: trusted, allowUnsigned: keys.allowUnsigned)
            result.read.append(SignedPackageCache(cache, prefix: prefix))
        }
        if canPush && !(noCredentials != nil && pushLocation.hasPrefix("s3://")) {
            let target = BuildCache.PackageCache(try CacheLocation.backend(pushLocation, create: true))
            let cache = BinaryCache(caches: [target], signingKey: signingKey, trustedKeys: trusted, allowUnsigned: keys.allowUnsigned)
            result.push = SignedPackageCache(cache, prefix: prefix)
            result.spackMirror = pushLocation.hasSuffix("/") ? pushLocation + "spack" : pushLocation + "/spack"
        } else if explicit && !(noCredentials != nil && pushLocation.hasPrefix("s3://")) {
            result.note = "packages built here are not pushed to \(pushLocation): no signing key (give --signing-key FILE or "
                + "set STACKSHIP_SIGNING_KEY; `stackship cache keygen` makes one)"
        }
        return result
    }
}

final class ReportBox: @unchecked Sendable {
    var report: PackageBuildReport?
}

/// Shows package events: what is up to date, fetched, building, built or failed, with a count.
final class PackageView: @unchecked Sendable {
    private let lock = NSLock()
    private let progress = ProgressLine()
    private let total: Int
    private var finished = 0
    private var running: [String] = []

    init(total: Int) { self.total = total }

    func show(_ event: PackageEvent) {
        lock.withLock {
            switch event {
            case let .upToDate(name, hash):
                finished += 1
                progress.plain("\(name): up to date (\(hash.prefix(12)))")
            case let .waiting(name, on):
                progress.plain("\(name): waiting for \(on.joined(separator: ", "))")
            case let .started(name, hash, log):
                running.append(name)
                progress.plain("\(name): building (\(hash.prefix(12))), log \(log)")
            case let .fetched(name, hash, from):
                finished += 1
                progress.plain("\(name): fetched from \(from) (\(hash.prefix(12)))")
            case let .built(name, _, seconds):
                finished += 1
                running.removeAll { $0 == name }
                progress.plain("\(name): built in \(String(format: "%.1f", seconds)) s")
            case let .pushed(name, to):
                progress.plain("\(name): pushed to \(to)")
            case let .failed(name, error):
                finished += 1
                running.removeAll { $0 == name }
                progress.plain("\(name): FAILED: \(error)")
            case let .skipped(name, because):
                finished += 1
                progress.plain("\(name): skipped, because \(because) failed")
            }
            if !running.isEmpty {
                progress.status("[\(finished)/\(total)] building \(running.joined(separator: ", "))")
            }
        }
    }

    func summary(_ report: PackageBuildReport) {
        lock.withLock {
            progress.plain("packages: \(report.built.count) built, \(report.fetched.count) fetched, \(report.upToDate.count) up to date"
                           + (report.failed.isEmpty ? "" : ", \(report.failed.count) failed")
                           + (report.skipped.isEmpty ? "" : ", \(report.skipped.count) skipped"))
        }
    }
}

/// Renders build events: a redrawn status line on a terminal, plain lines in CI.
final class BuildView {
    private let progress = ProgressLine()

    func show(_ event: BuildEvent) {
        switch event {
        case let .imageStarted(name, layers):
            progress.plain("\(name): building (\(layers) layer\(layers == 1 ? "" : "s"))")
        case let .baseResolved(name, base, digest):
            progress.plain("\(name): base \(base)\(digest.map { " (\($0.shortHex))" } ?? "")")
        case let .layerStarted(name, index, total, source):
            progress.status("\(name): layer \(index + 1)/\(total) \(source)")
        case let .layerProgress(name, index, p):
            progress.status("\(name): layer \(index + 1) \(Format.bytes(p.bytesDone))/\(Format.bytes(p.bytesTotal)), \(p.filesDone)/\(p.filesTotal) files", throttled: true)
        case let .layerFinished(name, index, layer):
            progress.plain("\(name): layer \(index + 1) \(layer.descriptor.digest.shortHex) \(Format.bytes(layer.descriptor.size)) (\(layer.entryCount) entries)")
        case .imageFinished:
            progress.clear()
        }
    }
}

/// One status line on stderr: redrawn in place on a terminal; in CI only `plain` lines and
/// a throttled status every few seconds are printed.
final class ProgressLine {
    private var drawn = false
    private var lastPlainStatus = Date.distantPast

    func status(_ text: String, throttled: Bool = false) {
        if CLI.isTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
            drawn = true
        } else if !throttled || Date().timeIntervalSince(lastPlainStatus) >= 5 {
            lastPlainStatus = Date()
            FileHandle.standardError.write(Data("\(text)\n".utf8))
        }
    }

    func plain(_ text: String) {
        clear()
        FileHandle.standardError.write(Data("\(text)\n".utf8))
    }

    func clear() {
        if drawn {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            drawn = false
        }
    }
}

enum Format {
    static func bytes(_ n: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(n)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }
}

extension PullPolicy: ExpressibleByArgument {}
