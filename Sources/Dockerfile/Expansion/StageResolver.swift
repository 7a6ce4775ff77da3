/// A stage ready to build: every instruction with its variables expanded as BuildKit expands
/// them, and the environment each one runs in.
public struct ResolvedStage: Sendable, Equatable {
    /// The stage's index in the Dockerfile.
    public var index: Int
    /// Its `AS` name.
    public var name: String?
    /// What it starts from.
    public var base: StageBase
    /// `--platform` once expanded.
    public var platform: String?
    /// Its instructions, expanded, each with the environment it sees.
    public var steps: [ResolvedStep]
    /// The variables at the end of the stage: ENV values and ARG values (what RUN sees).
    public var environment: BuildEnvironment
    /// The ENV variables at the end of the stage, base image's included: the image config's `Env`.
    public var imageEnvironment: BuildEnvironment
}

/// One instruction of a resolved stage.
///
/// Expanded, per Docker: ADD, COPY (paths, `--chown`, `--chmod`, `--checksum`, here-document
/// bodies whose delimiter was not quoted), ENV, EXPOSE (words split after expansion, then
/// normalised to `PORT/PROTO`), LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, ARG (each declaration
/// holds the value in effect: build argument, expanded default or global value; `nil` when it
/// has none) and the values of `RUN --mount`. RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK,
/// MAINTAINER and ONBUILD are as written.
public struct ResolvedStep: Sendable, Equatable {
    /// The instruction with its values expanded.
    public var instruction: Instruction
    /// The variables in effect when it runs (ENV and ARG values before it; an ENV or ARG
    /// instruction's own values take effect after it).
    public var environment: BuildEnvironment
}

extension BuildPlan {
    /// The PATH Docker gives a Linux stage whose base image sets none.
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Expands the stages the target needs, in build order.
    ///
    /// `imageEnvironment` gives a base image's config `Env` (`NAME=value` strings) for an image
    /// reference as written in FROM; variables set there can be used in the stage (`WORKDIR
    /// $HOME`). It is not called for `scratch` or stage bases. A stage based on another stage
    /// starts with that stage's variables, ARG values included.
    public func resolve(imageEnvironment: (_ reference: String) -> [String] = { _ in [] }) throws(DockerfileError) -> [ResolvedStage] {
        var resolved: [Int: ResolvedStage] = [:]
        var result: [ResolvedStage] = []
        for index in requiredStages {
            let planned = stages[index]
            var environment: BuildEnvironment
            var imageEnv: BuildEnvironment
            switch planned.base {
            case let .stage(parent):
                guard let parentStage = resolved[parent] else { throw .stageDefinedLater(name: stages[parent].displayName, at: planned.location) }
                environment = parentStage.environment
                for variable in parentStage.imageEnvironment.variables { environment.set(variable.name, to: variable.value) }
                imageEnv = parentStage.imageEnvironment
            case .scratch, .image:
                if case let .image(reference) = planned.base {
                    imageEnv = BuildEnvironment(list: imageEnvironment(reference))
                } else {
                    imageEnv = BuildEnvironment()
                }
                let os = planned.platform.flatMap { BuildPlatform(parsing: $0)?.os } ?? options.targetPlatform.os
                if imageEnv["PATH"] == nil, os != "windows" { imageEnv.set("PATH", to: Self.defaultPath) }
                environment = imageEnv
            }
            var stage = ResolvedStage(index: index, name: planned.name, base: planned.base, platform: planned.platform, steps: [],
                                      environment: environment, imageEnvironment: imageEnv)
            for instruction in dockerfile.stages[index].instructions {
                try resolve(instruction, into: &stage)
            }
            resolved[index] = stage
            result.append(stage)
        }
        return result
    }

    private func resolve(_ instruction: Instruction, into stage: inout ResolvedStage) throws(DockerfileError) {
        let lexer = ShellLexer(escape: dockerfile.directives.escape)
        let before = stage.environment
        let variables = before.dictionary
        let location = instruction.location
        func word(_ text: String) throws(DockerfileError) -> String {
            try Self.expand(text, lexer: lexer, at: location) { variables[$0] }.text
        }
        func optional(_ text: String?) throws(DockerfileError) -> String? {
            guard let text else { return nil }
            return try word(text)
        }
        func sources(_ list: [FileSource]) throws(DockerfileError) -> [FileSource] {
            var result: [FileSource] = []
            for source in list {
                switch source {
                case let .path(path): result.append(.path(try word(path)))
                case var .inline(heredoc):
                    if heredoc.expands {
                        var bodyLexer = ShellLexer(escape: "\\")
                        bodyLexer.skipProcessingQuotes = true
                        heredoc.rawContent = try Self.expand(heredoc.content, lexer: bodyLexer, at: location) { variables[$0] }.text
                        heredoc.stripsLeadingTabs = false
                    }
                    result.append(.inline(heredoc))
                }
            }
            return result
        }
        var expanded = instruction
        switch instruction.kind {
        case let .arg(declarations):
            var resolvedDeclarations: [ArgDeclaration] = []
            for declaration in declarations {
                var value: String?
                if let given = options.buildArguments[declaration.name] {
                    value = given
                } else if let defaultValue = declaration.defaultValue {
                    let current = stage.environment.dictionary
                    value = try Self.expand(defaultValue, lexer: lexer, at: location) { current[$0] }.text
                } else {
                    value = globalArguments[declaration.name]
                }
                if let value, !declaration.name.hasPrefix("BUILDKIT_SBOM_SCAN_") { stage.environment.set(declaration.name, to: value) }
                resolvedDeclarations.append(ArgDeclaration(name: declaration.name, defaultValue: value))
            }
            expanded.kind = .arg(resolvedDeclarations)
        case let .env(pairs):
            var result: [KeyValue] = []
            for pair in pairs { result.append(KeyValue(key: try word(pair.key), value: try word(pair.value), legacyForm: pair.legacyForm)) }
            for pair in result {
                stage.environment.set(pair.key, to: pair.value)
                stage.imageEnvironment.set(pair.key, to: pair.value)
            }
            expanded.kind = .env(result)
        case let .label(pairs):
            var result: [KeyValue] = []
            for pair in pairs { result.append(KeyValue(key: try word(pair.key), value: try word(pair.value), legacyForm: pair.legacyForm)) }
            expanded.kind = .label(result)
        case let .workdir(path): expanded.kind = .workdir(try word(path))
        case let .user(user): expanded.kind = .user(try word(user))
        case let .stopSignal(signal): expanded.kind = .stopSignal(try word(signal))
        case let .volume(paths):
            var result: [String] = []
            for path in paths { result.append(try word(path)) }
            expanded.kind = .volume(result)
        case let .expose(words):
            var ports: [String] = []
            for text in words {
                for port in try Self.expand(text, lexer: lexer, at: location, lookup: { variables[$0] }).words {
                    ports += try ExposedPort.parse(port, at: location).map(\.description)
                }
            }
            expanded.kind = .expose(ports)
        case var .copy(copy):
            copy.sources = try sources(copy.sources)
            copy.destination = try word(copy.destination)
            copy.chown = try optional(copy.chown)
            copy.chmod = try optional(copy.chmod)
            expanded.kind = .copy(copy)
        case var .add(add):
            add.sources = try sources(add.sources)
            add.destination = try word(add.destination)
            add.chown = try optional(add.chown)
            add.chmod = try optional(add.chmod)
            add.checksum = try optional(add.checksum)
            expanded.kind = .add(add)
        case var .run(run):
            var mounts: [RunMount] = []
            for mount in run.mounts {
                mounts.append(try MountParser.parse(mount.spec, at: location) { (value: String) throws(DockerfileError) -> String in
                    try word(value)
                })
            }
            run.mounts = mounts
            expanded.kind = .run(run)
        case .maintainer, .cmd, .entrypoint, .shell, .healthcheck, .onbuild:
            break
        }
        stage.steps.append(ResolvedStep(instruction: expanded, environment: before))
    }
}
