#if canImport(Glibc)
import Glibc
#endif
import Dockerfile
import Foundation
import OCI
import Runtime
import Support

extension BuildSession {
    /// RUN: the command in a container on an overlay of the stage's root; its changes are the
    /// layer. Cached by the command, its environment, user, directory, shell, network and mounts
    /// (a bind mount of the context by the content it shows; secrets by id only, never value).
    mutating func run(_ run: RunInstruction, step: ResolvedStep, to state: inout StageState, stage: String, index: Int) async throws {
        let instruction = step.instruction
        if run.security == .insecure {
            throw DockerfileBuildError.unsupported(file: file, location: instruction.location, what: "RUN --security=insecure",
                                                   hint: "remove the flag; build steps run with docker's default capabilities")
        }
        let invocation = run.invocation(shell: state.shell)
        let environment = step.environment.list
        var key = ["RUN", "\(instruction.kind)", "env " + environment.joined(separator: "\u{0}"), "user \(state.config.User ?? "")",
                   "workdir \(state.workdir)", "shell " + state.shell.joined(separator: "\u{0}"), "network \(run.network.rawValue)"]
        for mount in run.mounts {
            switch mount.type {
            case .bind:
                let source = mount.source ?? "/"
                let origin = origin(mount.from)
                if case .context = origin {
                    let selected = try CopySources.select(source, in: context, instruction: "RUN --mount", at: instruction.location, file: file)
                    key.append("bind \(source) " + (try CopySources.digest(of: selected, in: context, excludes: nil)).description)
                } else {
                    key.append("bind " + (try originKey(origin, sources: [], excludes: nil, instruction: instruction)))
                }
            case .cache:
                if mount.from != nil {
                    throw DockerfileBuildError.unsupported(file: file, location: instruction.location, what: "a cache mount seeded from= another stage",
                                                           hint: "leave out from=; the cache starts empty and keeps what RUN writes")
                }
            case .tmpfs, .secret:
                break
            case .ssh:
                throw DockerfileBuildError.unsupported(file: file, location: instruction.location, what: "RUN --mount=type=ssh",
                                                       hint: "give what the command fetches over ssh as a secret (--secret id=...,src=FILE, RUN --mount=type=secret,id=...)")
            }
        }
        let cacheKey = stepKey(state, key)
        if try cachedResult(cacheKey, into: &state, stage: stage, index: index) { return }
        try checkEmulation(for: state.platform, at: instruction.location)
        runs += 1
        let started = Date()
        let lowers = try builder.lowers(layers: state.layers, diffIDs: state.diffIDs, platform: state.platform)
        var opened: [MergedRoot] = []
        defer { for view in opened { view.close() } }
        let files = try builder.makeScratch("run-files")
        defer { try? FileIO.removeTree(files) }
        var mounts: [BuildMount] = []
        for mount in run.mounts {
            let target = mount.target.map { Self.absolute($0, in: state.workdir) }
            switch mount.type {
            case .bind:
                let origin = origin(mount.from)
                if case .context = origin, let ignore = context.ignore, !ignore.patterns.isEmpty {
                    // The context as docker sends it: what .dockerignore excludes is not there.
                    let source = mount.source ?? "/"
                    let selected = try CopySources.select(source, in: context, instruction: "RUN --mount", at: instruction.location, file: file)
                    let snapshot = try CopySources.snapshot(selected[0], in: context, into: files + "/bind-\(mounts.count)")
                    mounts.append(.bind(source: snapshot, target: target ?? "/", readWrite: !mount.readOnly))
                    continue
                }
                let (root, view) = try Self.openRoot(origin, context: context, states: states, plan: plan, bases: bases, builder: builder)
                if let view { opened.append(view) }
                mounts.append(.bind(source: mount.source ?? "/", target: target ?? "/", root: root.path, readWrite: !mount.readOnly))
            case .cache:
                let at = target ?? "/"
                mounts.append(.cache(id: mount.id ?? at, target: at, uid: mount.uid ?? 0, gid: mount.gid ?? 0, mode: mount.mode ?? 0o755))
            case .tmpfs:
                mounts.append(.tmpfs(target: target ?? "/", sizeBytes: mount.sizeLimit))
            case .secret:
                let id = mount.id ?? target.map { FileIO.split($0).name } ?? ""
                guard let value = request.secrets[id] else {
                    if mount.required { throw DockerfileBuildError.missingSecret(file: file, location: instruction.location, id: id) }
                    continue
                }
                if mount.env != nil {
                    throw DockerfileBuildError.unsupported(file: file, location: instruction.location, what: "a secret as an environment variable (env=)",
                                                           hint: "read it from its file instead: RUN --mount=type=secret,id=\(id) ... \"$(cat /run/secrets/\(id))\"")
                }
                mounts.append(.secret(id: id, value: value, target: target, uid: mount.uid ?? 0, gid: mount.gid ?? 0, mode: mount.mode ?? 0o400))
            case .ssh:
                break
            }
        }
        for (number, inline) in invocation.files.enumerated() {
            let path = files + "/\(number)"
            try AtomicFileWriter.write(Data(inline.content.utf8), to: path, mode: mode_t(inline.mode), durable: false)
            mounts.append(.bind(source: path, target: inline.path))
        }
        let runner = try builder.stepRunner()
        let events = self.events
        let buildStep = BuildStep(lowerDirectories: lowers, arguments: invocation.arguments,
                                  environment: environment + plan.proxyEnvironment.list, workdir: state.workdir, user: state.config.User,
                                  network: run.network == .none ? .none : .host, mounts: mounts, output: { events(.output($0)) })
        let result: BuildStepResult
        do {
            result = try await runner.run(buildStep)
        } catch let error as RuntimeError {
            switch error {
            case .buildStepFailed, .buildStepTimedOut:
                throw DockerfileBuildError.runFailed(file: file, location: instruction.location, instruction: "RUN", reason: error.description)
            case let .runtimeFailed(runtime, _, message):
                // The runtime's own words, once: it could not start the command.
                var reason = message
                for prefix in ["\(runtime) run failed: ", "unable to start container process: "] where reason.hasPrefix(prefix) {
                    reason.removeFirst(prefix.count)
                }
                throw DockerfileBuildError.runFailed(file: file, location: instruction.location, instruction: "RUN",
                                                     reason: "the command could not start under \(runtime): \(reason); check that the program exists in the image and is executable")
            default:
                throw DockerfileBuildError.step(file: file, location: instruction.location, instruction: "RUN", reason: error.description)
            }
        }
        defer { try? result.remove() }
        let layer = try result.layer.build(options: layerOptions, into: store)
        try record(layer, upper: result.upperDirectory, key: cacheKey, into: &state, stage: stage, index: index, started: started)
    }

    /// A RUN for another architecture than this host's needs the kernel to run its programs
    /// (binfmt_misc with qemu-user-static); without it the command could not start.
    func checkEmulation(for platform: Platform, at location: DockerfileLocation) throws {
        let host = Platform.host
        guard platform.architecture != host.architecture else { return }
        let names = FileIO.names(inDirectory: "/proc/sys/fs/binfmt_misc") ?? []
        let qemu = ["amd64": "x86_64", "arm64": "aarch64", "arm": "arm", "386": "i386", "ppc64le": "ppc64le", "s390x": "s390x",
                    "riscv64": "riscv64"][platform.architecture] ?? platform.architecture
        guard names.contains("qemu-" + qemu) else {
            throw DockerfileBuildError.unsupported(file: file, location: location, what: "RUN for \(platform) on this \(host) host without emulation",
                                                   hint: "install qemu-user-static (it registers binfmt_misc handlers), or build that stage on a machine whose architecture is \(platform.architecture)")
        }
    }

    /// Writes the target stage's config and manifest and tags them.
    func finish() throws -> DockerfileBuildResult {
        guard let state = states[plan.targetIndex] else {
            throw DockerfileBuildError.step(file: file, location: plan.target.location, instruction: "FROM", reason: "the target stage was not built")
        }
        var config = state.config
        if !request.labels.isEmpty {
            var labels = config.Labels ?? [:]
            for (key, value) in request.labels { labels[key] = value }
            config.Labels = labels
        }
        var image = ImageConfig(platform: state.platform, created: ImageAssembler.rfc3339(request.epoch), config: config,
                                diffIDs: state.diffIDs, history: state.history.isEmpty ? nil : state.history)
        image.author = state.author
        if let base = state.baseConfig {
            image.osVersion = base.osVersion
            image.osFeatures = base.osFeatures
        }
        let configDescriptor = try store.writeJSON(image, mediaType: MediaType.ociConfig)
        var annotations: [String: String] = [:]
        if let name = state.baseReference { annotations[AnnotationKey.baseName] = name }
        if let digest = state.baseDigest { annotations[AnnotationKey.baseDigest] = digest.description }
        let manifest = Manifest(config: configDescriptor, layers: state.layers, annotations: annotations.isEmpty ? nil : annotations)
        var manifestDescriptor = try store.writeJSON(manifest, mediaType: MediaType.ociManifest)
        manifestDescriptor.platform = state.platform
        for tag in request.tags { try store.tag(manifestDescriptor, as: tag) }
        let built = BuiltImage(name: request.tags.first?.familiar ?? plan.target.displayName, manifest: manifestDescriptor,
                               config: configDescriptor, tags: request.tags, layers: state.built)
        return DockerfileBuildResult(image: built, layerSteps: layerSteps, cachedSteps: cachedSteps, runsExecuted: runs)
    }
}
