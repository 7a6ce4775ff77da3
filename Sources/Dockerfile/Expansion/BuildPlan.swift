import Support

/// A Dockerfile read against build options: the global ARGs' values, each stage's base and
/// platform expanded, the stages the target needs (through FROM, `COPY --from` and
/// `RUN --mount from=`), and the build arguments nothing uses.
///
/// Creating one checks what BuildKit checks before it builds: base names, stage references,
/// dependency cycles, the target's existence. ``resolve(imageEnvironment:)`` then expands each
/// needed stage's instructions.
public struct BuildPlan: Sendable {
    /// The Dockerfile planned.
    public let dockerfile: Dockerfile
    /// The options it was planned with.
    public let options: BuildOptions
    /// The variables FROM lines see: the automatic platform ARGs and the global ARGs.
    public let globalArguments: BuildEnvironment
    /// Every stage, in file order, with its base and dependencies.
    public let stages: [PlannedStage]
    /// The index of the stage to build (`--target`, else the last).
    public let targetIndex: Int
    /// The stages the target needs, itself included, in file (and so build) order.
    public let requiredStages: [Int]
    /// Build arguments given but declared by no ARG that this build reads, and not predefined
    /// (docker warns about these), sorted.
    public let unusedBuildArguments: [String]
    /// The proxy variables given as build arguments (`HTTP_PROXY`...): RUN gets them in its
    /// environment, the image history does not.
    public let proxyEnvironment: BuildEnvironment

    /// Plans `dockerfile` for `options`; throws the first problem BuildKit would report.
    public init(_ dockerfile: Dockerfile, options: BuildOptions = BuildOptions()) throws(DockerfileError) {
        self.dockerfile = dockerfile
        self.options = options
        let lexer = ShellLexer(escape: dockerfile.directives.escape)
        let globals = try Self.globalArguments(dockerfile, options: options, lexer: lexer)
        globalArguments = globals
        var stages: [PlannedStage] = []
        for (index, stage) in dockerfile.stages.enumerated() {
            stages.append(try Self.plan(stage, index: index, in: dockerfile, earlier: stages, globals: globals, lexer: lexer))
        }
        self.stages = stages
        try Self.checkCycles(stages)
        if let target = options.target {
            guard let index = dockerfile.stageIndex(named: target) else {
                let names = dockerfile.stages.compactMap(\.name)
                throw .unknownTarget(name: target, suggestion: Suggestions.closest(to: target.lowercased(), in: names), available: names)
            }
            targetIndex = index
        } else {
            targetIndex = dockerfile.stages.count - 1
        }
        var required: Set<Int> = []
        var pending = [targetIndex]
        while let index = pending.popLast() {
            guard required.insert(index).inserted else { continue }
            pending += stages[index].dependencies.compactMap(\.stageIndex)
        }
        requiredStages = required.sorted()
        for index in requiredStages {
            for dependency in stages[index].dependencies {
                if let other = dependency.stageIndex, other >= index {
                    throw .stageDefinedLater(name: stages[other].displayName, at: dependency.location)
                }
            }
        }
        var declared: Set<String> = []
        for instruction in dockerfile.globalArgs + requiredStages.flatMap({ dockerfile.stages[$0].instructions }) {
            if case let .arg(declarations) = instruction.kind { declared.formUnion(declarations.map(\.name)) }
        }
        unusedBuildArguments = options.buildArguments.keys
            .filter { !declared.contains($0) && !BuildOptions.predefinedArguments.contains($0) }.sorted()
        var proxies = BuildEnvironment()
        for name in BuildOptions.proxyArguments {
            if let value = options.buildArguments[name] { proxies.set(name, to: value) }
        }
        proxyEnvironment = proxies
    }

    /// The stage `--target` (or the last stage) names.
    public var target: PlannedStage { stages[targetIndex] }

    private static func globalArguments(_ dockerfile: Dockerfile, options: BuildOptions,
                                        lexer: ShellLexer) throws(DockerfileError) -> BuildEnvironment {
        let build = options.buildPlatform
        let target = options.targetPlatform
        var environment = BuildEnvironment()
        let defaults: [(String, String)] = [
            ("BUILDPLATFORM", build.description), ("BUILDOS", build.os), ("BUILDOSVERSION", ""),
            ("BUILDARCH", build.architecture), ("BUILDVARIANT", build.variant ?? ""),
            ("TARGETPLATFORM", target.description), ("TARGETOS", target.os), ("TARGETOSVERSION", ""),
            ("TARGETARCH", target.architecture), ("TARGETVARIANT", target.variant ?? ""),
            ("TARGETSTAGE", options.target ?? "default"),
        ]
        for (name, value) in defaults { environment.set(name, to: options.buildArguments[name] ?? value) }
        for instruction in dockerfile.globalArgs {
            guard case let .arg(declarations) = instruction.kind else { continue }
            for declaration in declarations {
                if let given = options.buildArguments[declaration.name] {
                    environment.set(declaration.name, to: given)
                } else if let value = declaration.defaultValue {
                    let snapshot = environment
                    environment.set(declaration.name, to: try expand(value, lexer: lexer, at: instruction.location) { snapshot[$0] }.text)
                }
            }
        }
        return environment
    }

    private static func plan(_ stage: BuildStage, index: Int, in dockerfile: Dockerfile, earlier: [PlannedStage],
                             globals: BuildEnvironment, lexer: ShellLexer) throws(DockerfileError) -> PlannedStage {
        let baseName = try expand(stage.baseName, lexer: lexer, at: stage.location) { globals[$0] }.text
        let base: StageBase
        if let parent = earlier.lastIndex(where: { $0.name == baseName }) {
            base = .stage(parent)
        } else if baseName == "scratch" {
            base = .scratch
        } else if ImageReferenceSyntax.isValid(baseName) {
            base = .image(baseName)
        } else {
            throw .invalidBaseName(expression: stage.baseName, value: baseName, at: stage.location)
        }
        var platform: String?
        if let expression = stage.platform {
            let value = try expand(expression, lexer: lexer, at: stage.location) { globals[$0] }.text
            guard !value.isEmpty else { throw .emptyPlatform(expression: expression, at: stage.location) }
            platform = value
        }
        var dependencies: [StageDependency] = []
        if case .stage = base { dependencies.append(StageDependency(source: base, kind: .base, location: stage.location)) }
        for instruction in stage.instructions {
            switch instruction.kind {
            case let .copy(copy):
                guard let from = copy.from else { continue }
                let source: StageBase
                if let number = Int(from) {
                    guard (0..<dockerfile.stages.count).contains(number) else {
                        throw .stageIndexOutOfRange(index: number, stageCount: dockerfile.stages.count, at: instruction.location)
                    }
                    source = .stage(number)
                } else {
                    source = try reference(from, in: dockerfile, at: instruction.location)
                }
                dependencies.append(StageDependency(source: source, kind: .copy, location: instruction.location))
            case let .run(run):
                for mount in run.mounts {
                    guard let from = MountParser.from(mount.spec), !from.isEmpty else { continue }
                    let source = try reference(from, in: dockerfile, at: instruction.location)
                    dependencies.append(StageDependency(source: source, kind: .mount, location: instruction.location))
                }
            default: continue
            }
        }
        return PlannedStage(index: index, name: stage.name, base: base, baseName: baseName, platform: platform,
                            location: stage.location, dependencies: dependencies)
    }

    /// A stage by name (any stage: a later one is refused once the target is known) or an image.
    private static func reference(_ name: String, in dockerfile: Dockerfile, at location: DockerfileLocation) throws(DockerfileError) -> StageBase {
        if let index = dockerfile.stageIndex(named: name) { return .stage(index) }
        guard ImageReferenceSyntax.isValid(name) else {
            throw .unknownStage(name: name, suggestion: Suggestions.closest(to: name.lowercased(), in: dockerfile.stages.compactMap(\.name)),
                                at: location)
        }
        return .image(name)
    }

    private static func checkCycles(_ stages: [PlannedStage]) throws(DockerfileError) {
        var state = [Int](repeating: 0, count: stages.count) // 0 new, 1 on the path, 2 done
        var path: [Int] = []
        func visit(_ index: Int) -> (cycle: [Int], location: DockerfileLocation)? {
            state[index] = 1
            path.append(index)
            for dependency in stages[index].dependencies {
                guard let next = dependency.stageIndex else { continue }
                if state[next] == 1, let start = path.firstIndex(of: next) {
                    return (Array(path[start...]), dependency.location)
                }
                if state[next] == 0, let found = visit(next) { return found }
            }
            path.removeLast()
            state[index] = 2
            return nil
        }
        for index in stages.indices where state[index] == 0 {
            if let (cycle, location) = visit(index) {
                throw .dependencyCycle(stages: cycle.map { stages[$0].displayName }, at: location)
            }
        }
    }

    static func expand(_ text: String, lexer: ShellLexer, at location: DockerfileLocation,
                       lookup: (String) -> String?) throws(DockerfileError) -> ShellLexer.Expansion {
        do {
            return try lexer.expand(text, lookup: lookup)
        } catch {
            throw .substitution(text: text, reason: error.reason, at: location)
        }
    }
}

/// One stage as planned: its base resolved, what it depends on.
public struct PlannedStage: Sendable, Hashable {
    /// Its index in the Dockerfile.
    public var index: Int
    /// Its `AS` name, lowercased.
    public var name: String?
    /// What it starts from.
    public var base: StageBase
    /// The FROM expression once expanded (the image reference, stage name or `scratch`).
    public var baseName: String
    /// `--platform` once expanded.
    public var platform: String?
    /// Where its FROM is.
    public var location: DockerfileLocation
    /// What it needs before it can run: its base stage, `COPY --from` and `--mount from=` sources.
    public var dependencies: [StageDependency]

    /// Its name, or `stage-N` as BuildKit calls an unnamed stage.
    public var displayName: String { name ?? "stage-\(index)" }
}

/// Something a stage needs from another stage or an image.
public struct StageDependency: Sendable, Hashable {
    /// How the stage uses it.
    public enum Kind: String, Sendable, Hashable {
        /// `FROM stage`.
        case base
        /// `COPY --from=...`.
        case copy
        /// `RUN --mount=from=...`.
        case mount
    }

    /// The stage or image it names.
    public var source: StageBase
    /// How.
    public var kind: Kind
    /// Where the FROM, COPY or RUN is.
    public var location: DockerfileLocation

    /// The stage's index, when the source is a stage.
    public var stageIndex: Int? {
        if case let .stage(index) = source { return index }
        return nil
    }
}
