#if canImport(Glibc)
import Glibc
#endif
import Dockerfile
import Foundation
import OCI
import Runtime
import Support

/// A stage being built: its layers so far, its image config, and what instructions carry to
/// the next (the shell, whether CMD was set).
struct StageState {
    var display: String
    var platform: Platform
    var layers: [Descriptor] = []
    var diffIDs: [Digest] = []
    /// Layers this build added to the stage (for the result's list).
    var built: [BuiltLayer] = []
    var config: ImageConfig.Config
    var history: [ImageConfig.History] = []
    var baseConfig: ImageConfig?
    var baseReference: String?
    var baseDigest: Digest?
    var author: String?
    var shell: [String]
    var cmdSet = false

    /// The parent chain of the next step: the chain ID of the layers so far.
    var chain: String { ImageUnpacker.chainIDs(diffIDs).last?.description ?? "scratch" }
    var workdir: String {
        guard let dir = config.WorkingDir, !dir.isEmpty else { return "/" }
        return dir
    }
}

/// One Dockerfile build in progress (``DockerfileBuilder/build(_:events:)``).
struct BuildSession {
    static let defaultShell = ["/bin/sh", "-c"]
    let builder: DockerfileBuilder
    let request: DockerfileBuildRequest
    var plan: BuildPlan
    let file: String
    let context: SourceRoot
    let events: @Sendable (DockerfileBuildEvent) -> Void
    var bases: [String: ImageAssembler.ResolvedBase] = [:]
    var states: [Int: StageState] = [:]
    var layerSteps = 0
    var cachedSteps = 0
    var runs = 0

    var store: OCILayoutStore { builder.store }

    init(builder: DockerfileBuilder, request: DockerfileBuildRequest, plan: BuildPlan, file: String, context: SourceRoot,
         events: @escaping @Sendable (DockerfileBuildEvent) -> Void) {
        self.builder = builder
        self.request = request
        self.plan = plan
        self.file = file
        self.context = context
        self.events = events
    }

    // MARK: Bases

    func platform(of stage: PlannedStage) throws -> Platform {
        if let text = stage.platform {
            do { return try Platform(parsing: text) } catch {
                throw DockerfileBuildError.invalidValue(file: file, location: stage.location, instruction: "FROM --platform",
                                                        reason: "'\(text)' is not a platform; write os/arch[/variant], like linux/amd64")
            }
        }
        let target = request.options.targetPlatform
        var platform = Platform(os: target.os, architecture: target.architecture)
        platform.variant = target.variant
        return platform
    }

    /// Makes every image the stages to build start from or copy from present in the store, by
    /// the pull policy, and reads each one's manifest and config.
    mutating func prepareBases() async throws {
        for index in plan.requiredStages {
            let stage = plan.stages[index]
            let platform = try platform(of: stage)
            var references: [(String, DockerfileLocation)] = []
            if case let .image(reference) = stage.base { references.append((reference, stage.location)) }
            for dependency in stage.dependencies {
                if case let .image(reference) = dependency.source { references.append((reference, dependency.location)) }
            }
            for (written, location) in references where bases[written] == nil {
                guard let reference = try? ImageReference(parsing: written) else {
                    throw DockerfileBuildError.invalidValue(file: file, location: location, instruction: "FROM",
                                                            reason: "'\(written)' is not an image reference")
                }
                let usedBy = "\(file):\(location)"
                do {
                    try await BaseImages.ensure(reference, platform: platform, usedBy: usedBy, store: store,
                                                policy: request.pullPolicy, fetch: builder.fetchBase)
                } catch let error as StackBuildError {
                    // `COPY --from=buidler` is read as an image; a near stage name is the likelier meaning.
                    let names = plan.stages.compactMap(\.name)
                    if location != stage.location, let close = Suggestions.closest(to: written.lowercased(), in: names) {
                        var detail = "\(error)"
                        if case let .basePullFailed(_, _, reason) = error { detail = reason }
                        throw DockerfileBuildError.step(file: file, location: location, instruction: "--from=\(written)",
                                                        reason: "no stage is named '\(written)' (did you mean '\(close)'?), and as an image it cannot be pulled: \(detail)")
                    }
                    throw error
                }
                bases[written] = try ImageAssembler.resolveBase(.store(reference.description), for: usedBy, platform: platform, store: store)
            }
        }
    }

    /// The plan with each base image's ONBUILD triggers put at the start of the stages built on
    /// it, as docker runs them (they are not passed on to images built from this one); nil when
    /// no base has any.
    func planWithOnBuildTriggers() throws -> BuildPlan? {
        var dockerfile = plan.dockerfile
        var changed = false
        for index in plan.requiredStages {
            guard case let .image(reference) = plan.stages[index].base,
                  let triggers = bases[reference]?.config?.config?.OnBuild, !triggers.isEmpty else { continue }
            let from = dockerfile.stages[index].location
            let parsed: Dockerfile
            do {
                parsed = try Dockerfile.parse("FROM scratch\n" + triggers.joined(separator: "\n") + "\n")
            } catch {
                throw DockerfileBuildError.invalidValue(file: file, location: from, instruction: "FROM",
                                                        reason: "the ONBUILD triggers of \(reference) cannot be read (\(error.message)); rebuild that image or use another base")
            }
            var instructions = parsed.stages.first?.instructions ?? []
            for at in instructions.indices { instructions[at].location = from }
            dockerfile.stages[index].instructions = instructions + dockerfile.stages[index].instructions
            changed = true
        }
        guard changed else { return nil }
        do {
            return try BuildPlan(dockerfile, options: plan.options)
        } catch {
            throw DockerfileBuildError.dockerfile(file: file, error)
        }
    }

    func baseEnvironment(_ reference: String) -> [String] {
        bases[reference]?.config?.config?.Env ?? []
    }

    // MARK: Stages

    mutating func build(_ stage: ResolvedStage) async throws {
        let planned = plan.stages[stage.index]
        let display = planned.displayName
        var state: StageState
        let label: String
        switch stage.base {
        case .scratch:
            // BuildKit's empty image: PATH (added below) and `/` as the working directory.
            var config = ImageConfig.Config()
            config.WorkingDir = "/"
            state = StageState(display: display, platform: try platform(of: planned), config: config, shell: Self.defaultShell)
            label = "scratch"
        case let .image(reference):
            guard let base = bases[reference], let config = base.config else {
                throw DockerfileBuildError.step(file: file, location: planned.location, instruction: "FROM", reason: "base \(reference) was not prepared")
            }
            state = StageState(display: display, platform: try platform(of: planned), layers: base.layers, diffIDs: config.rootfs.diff_ids,
                               config: config.config ?? ImageConfig.Config(), history: config.history ?? [], baseConfig: config,
                               baseReference: base.referenceName, baseDigest: base.manifestDigest,
                               shell: config.config?.Shell ?? Self.defaultShell)
            label = reference + (base.manifestDigest.map { "@\($0)" } ?? "")
            state.config.OnBuild = nil
        case let .stage(index):
            guard let parent = states[index] else {
                throw DockerfileBuildError.step(file: file, location: planned.location, instruction: "FROM", reason: "stage \(index) was not built")
            }
            state = parent
            state.display = display
            state.built = []
            state.cmdSet = false
            label = "stage " + plan.stages[index].displayName
        }
        if state.platform.os != "windows", !(state.config.Env ?? []).contains(where: { $0.hasPrefix("PATH=") }) {
            state.config.Env = ["PATH=" + BuildPlan.defaultPath] + (state.config.Env ?? [])
        }
        events(.stageStarted(stage: display, base: label))
        for (index, step) in stage.steps.enumerated() {
            events(.stepStarted(stage: display, index: index + 1, total: stage.steps.count, instruction: step.instruction.original))
            let before = state.layers.count
            try await apply(step, to: &state, stage: display, index: index + 1)
            let created = ImageAssembler.rfc3339(request.epoch)
            state.history.append(ImageConfig.History(created: created, createdBy: Self.historyText(step.instruction),
                                                     emptyLayer: state.layers.count == before ? true : nil))
        }
        states[stage.index] = state
    }

    static func historyText(_ instruction: Instruction) -> String {
        let text = instruction.original.trimmingCharacters(in: .whitespacesAndNewlines)
        return text + (instruction.keyword == .run || instruction.keyword == .copy || instruction.keyword == .add ? " # stackship" : "")
    }

    // MARK: Instructions

    mutating func apply(_ step: ResolvedStep, to state: inout StageState, stage: String, index: Int) async throws {
        let instruction = step.instruction
        switch instruction.kind {
        case .arg:
            break
        case let .env(pairs):
            var env = state.config.Env ?? []
            for pair in pairs {
                if let at = env.firstIndex(where: { $0.hasPrefix(pair.key + "=") }) {
                    env[at] = pair.key + "=" + pair.value
                } else {
                    env.append(pair.key + "=" + pair.value)
                }
            }
            state.config.Env = env
        case let .label(pairs):
            var labels = state.config.Labels ?? [:]
            for pair in pairs { labels[pair.key] = pair.value }
            state.config.Labels = labels
        case let .maintainer(text):
            state.author = text
        case let .workdir(path):
            let directory = Self.absolute(path, in: state.workdir)
            state.config.WorkingDir = directory
            try await changeStep(&state, stage: stage, index: index, key: ["WORKDIR", directory]) { view, changes in
                if view.directory(directory) == nil {
                    try changes.makeDirectory(directory, mode: 0o755, owner: (0, 0))
                }
            }
        case let .user(user):
            state.config.User = user
        case let .copy(copy):
            try await self.copy(copy, instruction: instruction, to: &state, stage: stage, index: index)
        case let .add(add):
            try await self.add(add, instruction: instruction, to: &state, stage: stage, index: index)
        case let .run(run):
            try await self.run(run, step: step, to: &state, stage: stage, index: index)
        case let .cmd(form):
            state.config.Cmd = form.arguments(shell: state.shell)
            state.cmdSet = true
        case let .entrypoint(form):
            state.config.Entrypoint = form.arguments(shell: state.shell)
            if !state.cmdSet { state.config.Cmd = nil }
        case let .shell(words):
            state.shell = words
            state.config.Shell = words
        case let .expose(ports):
            var exposed = state.config.ExposedPorts ?? [:]
            for port in ports { exposed[port] = EmptyObject() }
            state.config.ExposedPorts = exposed
        case let .volume(paths):
            var volumes = state.config.Volumes ?? [:]
            for path in paths { volumes[path] = EmptyObject() }
            state.config.Volumes = volumes
        case let .stopSignal(signal):
            state.config.StopSignal = signal
        case let .healthcheck(check):
            if case .none = check.test {
                state.config.Healthcheck = ImageConfig.Config.HealthcheckConfig(Test: ["NONE"])
            } else {
                state.config.Healthcheck = ImageConfig.Config.HealthcheckConfig(
                    Test: check.testArguments, Interval: check.interval.map(Healthcheck.nanoseconds),
                    Timeout: check.timeout.map(Healthcheck.nanoseconds), StartPeriod: check.startPeriod.map(Healthcheck.nanoseconds),
                    StartInterval: check.startInterval.map(Healthcheck.nanoseconds), Retries: check.retries)
            }
        case let .onbuild(trigger):
            state.config.OnBuild = (state.config.OnBuild ?? []) + [trigger.original.trimmingCharacters(in: .whitespacesAndNewlines)]
        }
    }

    /// `path` made absolute against the working directory, cleaned.
    static func absolute(_ path: String, in workdir: String) -> String {
        let joined = path.hasPrefix("/") ? path : (workdir.hasSuffix("/") ? workdir : workdir + "/") + path
        return CopySources.clean(joined) ?? "/"
    }

    // MARK: Steps that make layers

    /// Runs a step that makes a change set (COPY, ADD, WORKDIR), or takes its result from the
    /// cache: `key` holds what its result depends on besides the parent chain and platform.
    mutating func changeStep(_ state: inout StageState, stage: String, index: Int, key: [String],
                             make: (MergedRoot, ChangeSet) async throws -> Void) async throws {
        let cacheKey = stepKey(state, key)
        if try cachedResult(cacheKey, into: &state, stage: stage, index: index) { return }
        let started = Date()
        let lowers = try builder.lowers(layers: state.layers, diffIDs: state.diffIDs, platform: state.platform)
        let view = try MergedRoot(lowers: lowers, scratchDirectory: builder.scratchDirectory)
        defer { view.close() }
        let directory = try builder.makeScratch("change")
        defer { try? FileIO.removeTree(directory) }
        let changes = try ChangeSet(upper: directory + "/upper", view: view)
        try await make(view, changes)
        let layer = try UpperDirLayer(upperDirectory: changes.upper).build(options: layerOptions, into: store)
        try record(layer, upper: changes.upper, key: cacheKey, into: &state, stage: stage, index: index, started: started)
    }

    var layerOptions: LayerOptions {
        LayerOptions(compression: request.compression, level: request.level, threads: request.threads, epoch: request.epoch)
    }

    func stepKey(_ state: StageState, _ parts: [String]) -> Digest {
        StepCache.key(["stackship-dockerfile-step-v1", state.chain, state.platform.description, "epoch \(request.epoch)",
                       "compression \(request.compression.rawValue) \(request.level.map(String.init) ?? "")"] + parts)
    }

    /// Applies the cached result of `key` when there is one (and the cache is used).
    mutating func cachedResult(_ key: Digest, into state: inout StageState, stage: String, index: Int) throws -> Bool {
        layerSteps += 1
        guard request.useCache, let record = builder.cache.lookup(key, in: store) else { return false }
        cachedSteps += 1
        if let layer = record.layer, let diffID = record.diffID {
            state.layers.append(layer)
            state.diffIDs.append(diffID)
            state.built.append(BuiltLayer(descriptor: layer, diffID: diffID, uncompressedSize: record.size ?? 0, entryCount: record.entries ?? 0))
        }
        events(.stepCached(stage: stage, index: index))
        return true
    }

    /// Adds a step's layer to the stage (none when it changed nothing), keeps its change set
    /// for the steps after it, and records it in the cache.
    mutating func record(_ layer: BuiltLayer, upper: String, key: Digest, into state: inout StageState,
                         stage: String, index: Int, started: Date) throws {
        var record = StepCache.Record()
        if layer.entryCount > 0 {
            try builder.keep(upper, as: layer.diffID)
            state.layers.append(layer.descriptor)
            state.diffIDs.append(layer.diffID)
            state.built.append(layer)
            record = StepCache.Record(layer: layer.descriptor, diffID: layer.diffID, entries: layer.entryCount, size: layer.uncompressedSize)
        }
        try builder.cache.save(record, for: key)
        events(.stepFinished(stage: stage, index: index, layer: layer.entryCount > 0 ? layer : nil, seconds: Date().timeIntervalSince(started)))
    }
}
