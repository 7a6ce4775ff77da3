import ArgumentParser
import Dockerfile
import Foundation
import OCI
import Registry
import Runtime
import Stack

/// `stackship build -f Dockerfile ...`, docker's flags, and `stackship build .` in a folder that
/// has a Dockerfile and no stack.yaml.
extension BuildCommand {
    /// The Dockerfile and context this invocation builds, or nil for a stack file build.
    func dockerfileTarget() -> (dockerfile: String, context: String)? {
        if let file { return (file, path ?? ".") }
        let given = path ?? "."
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: given, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue {
            if FileManager.default.fileExists(atPath: given + "/stack.yaml") { return nil }
            for name in ["Dockerfile", "Containerfile"] where FileManager.default.fileExists(atPath: given + "/" + name) {
                return (given + "/" + name, given)
            }
            return nil
        }
        let name = (given as NSString).lastPathComponent
        if name == "Dockerfile" || name == "Containerfile" || name.hasSuffix(".Dockerfile") || name.hasSuffix(".dockerfile")
            || name.hasPrefix("Dockerfile.") {
            let directory = (given as NSString).deletingLastPathComponent
            return (given, directory.isEmpty ? "." : directory)
        }
        return nil
    }

    /// Options that only a stack file build takes, named when given to a Dockerfile build.
    func validateDockerfileOptions() throws {
        var wrong: [String] = []
        if !image.isEmpty { wrong.append("--image") }
        if !package.isEmpty { wrong.append("--package") }
        if jobs != 1 { wrong.append("--jobs") }
        if keepGoing { wrong.append("--keep-going") }
        if host { wrong.append("--host") }
        if !wrong.isEmpty {
            throw ValidationError("\(wrong.joined(separator: ", ")) apply to stack files; a Dockerfile build takes -t, --build-arg, --target, --platform, --secret, --label")
        }
    }

    /// Options that only a Dockerfile build takes, named when given to a stack file build.
    func validateStackOptions() throws {
        var wrong: [String] = []
        if !tag.isEmpty { wrong.append("-t") }
        if !buildArg.isEmpty { wrong.append("--build-arg") }
        if target != nil { wrong.append("--target") }
        if platform != nil { wrong.append("--platform") }
        if !secret.isEmpty { wrong.append("--secret") }
        if !label.isEmpty { wrong.append("--label") }
        if !wrong.isEmpty {
            throw ValidationError("\(wrong.joined(separator: ", ")) apply to Dockerfile builds (-f Dockerfile, or a folder with a Dockerfile and no stack.yaml); a stack file names its images' tags and platforms itself")
        }
    }

    func buildDockerfile(_ dockerfile: String, context: String) throws {
        try CLI.run {
            try validateDockerfileOptions()
            let store = try storeOptions.open(create: true)
            let result = try runDockerfileBuild(try dockerfileRequest(dockerfile, context: context), store: store)
            let image = result.image
            let size = image.layers.reduce(Int64(0)) { $0 + $1.descriptor.size }
            print("\(image.name): \(image.manifest.digest)  \(image.tags.map(\.familiar).joined(separator: ", "))  "
                  + "(\(image.layers.count) layer\(image.layers.count == 1 ? "" : "s") of its own, \(Format.bytes(size)); "
                  + Self.stepSummary(result) + ")")
        }
    }

    static func stepSummary(_ result: DockerfileBuildResult) -> String {
        "\(result.cachedSteps) of \(result.layerSteps) steps cached, \(result.runsExecuted) RUN executed"
    }

    /// Runs a Dockerfile build against `store`, pulling bases with this command's registry
    /// options and showing its progress on stderr.
    func runDockerfileBuild(_ request: DockerfileBuildRequest, store: OCILayoutStore) throws -> DockerfileBuildResult {
        let access = registryAccess.settings
        let view = DockerfileView()
        let builder = DockerfileBuilder(store: store, runtime: runtimeOptions.runtime, fetchBase: { reference, platform in
            FileHandle.standardError.write(Data("pulling base \(reference.familiar) (\(platform))\n".utf8))
            try await access.withClient(for: reference.registry) { client in
                _ = try await ImageTransfer.pull(reference, client: client, into: store, options: TransferOptions(platform: platform))
            }
        }, fetchURL: { url, destination in
            try await URLDownload.fetch(url, to: destination, access: access)
        })
        let box = ValueBox<DockerfileBuildResult>()
        try AsyncCLI.runThrowing {
            box.value = try await builder.build(request) { view.show($0) }
        }
        guard let result = box.value else { throw ExitCode.failure }
        return result
    }

    /// The request for a stack file image built from a Dockerfile (`dockerfile:`).
    func dockerfileRequest(for spec: ImageSpec, _ dockerfile: DockerfileImageSpec, epoch: Int64) -> DockerfileBuildRequest {
        var options = BuildOptions(buildArguments: dockerfile.arguments, target: dockerfile.target)
        options.targetPlatform = BuildPlatform(os: spec.platform.os, architecture: spec.platform.architecture, variant: spec.platform.variant)
        return DockerfileBuildRequest(dockerfile: dockerfile.path, contextDirectory: dockerfile.context, options: options, tags: spec.tags,
                                      epoch: epoch, useCache: !noCache, labels: [:], pullPolicy: pull,
                                      compression: spec.compression, level: level, threads: threads)
    }

    func dockerfileRequest(_ dockerfile: String, context: String) throws -> DockerfileBuildRequest {
        var arguments: [String: String] = [:]
        let environment = ProcessInfo.processInfo.environment
        for text in buildArg {
            let (name, value) = try BuildOptions.parseBuildArgument(text, environment: environment)
            if let value { arguments[name] = value }
        }
        var options = BuildOptions(buildArguments: arguments, target: target)
        if let platform {
            guard let parsed = BuildPlatform(parsing: platform) else {
                throw ValidationError("--platform \(platform) is not a platform; write os/arch[/variant], like linux/amd64")
            }
            options.targetPlatform = parsed
        }
        let tags = try tag.map { text -> ImageReference in
            do { return try ImageReference(parsing: text) } catch {
                throw ValidationError("-t \(text) is not an image reference; write NAME[:TAG], like docker-cloud or registry.example/app:1.0")
            }
        }
        var labels: [String: String] = [:]
        for text in label {
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--label \(text): write KEY=VALUE") }
            labels[String(parts[0])] = String(parts[1])
        }
        let epoch = try timestamp ?? LayerOptions.sourceDateEpoch()
        return DockerfileBuildRequest(dockerfile: dockerfile, contextDirectory: context, options: options, tags: tags, epoch: epoch,
                                      useCache: !noCache, secrets: try BuildSecrets.parse(secret, environment: environment), labels: labels,
                                      pullPolicy: pull, level: level, threads: threads)
    }
}

/// `--secret id=ID,src=FILE`, `--secret id=ID,env=VARIABLE` (docker buildx's forms); `id=ID`
/// alone takes the variable ID, else the file ID.
enum BuildSecrets {
    static func parse(_ values: [String], environment: [String: String]) throws -> [String: BuildSecret] {
        var out: [String: BuildSecret] = [:]
        for text in values {
            var fields: [String: String] = [:]
            for part in text.split(separator: ",") {
                let pair = part.split(separator: "=", maxSplits: 1)
                guard pair.count == 2 else { throw ValidationError("--secret \(text): write id=ID,src=FILE or id=ID,env=VARIABLE") }
                fields[String(pair[0])] = String(pair[1])
            }
            guard let id = fields["id"], !id.isEmpty else { throw ValidationError("--secret \(text): it has no id=; write id=ID,src=FILE") }
            if let type = fields["type"], type != "file", type != "env" {
                throw ValidationError("--secret \(text): type=\(type) is not file or env")
            }
            if let source = fields["src"] ?? fields["source"] {
                guard let data = FileManager.default.contents(atPath: source) else {
                    throw ValidationError("--secret \(text): cannot read \(source); give a file that exists")
                }
                out[id] = BuildSecret(data)
            } else if let variable = fields["env"] {
                guard let value = environment[variable] else { throw ValidationError("--secret \(text): the variable \(variable) is not set") }
                out[id] = BuildSecret(Data(value.utf8))
            } else if let value = environment[id] {
                out[id] = BuildSecret(Data(value.utf8))
            } else if let data = FileManager.default.contents(atPath: id) {
                out[id] = BuildSecret(data)
            } else {
                throw ValidationError("--secret \(text): give src=FILE or env=VARIABLE (no variable or file is named \(id))")
            }
        }
        return out
    }
}

/// Carries a value out of an async body run by ``AsyncCLI/runThrowing(_:)``.
final class ValueBox<T>: @unchecked Sendable {
    var value: T?
}

/// Renders a Dockerfile build's events on stderr, as BuildKit's plain progress does.
final class DockerfileView: @unchecked Sendable {
    private let lock = NSLock()
    private let progress = ProgressLine()

    func show(_ event: DockerfileBuildEvent) {
        lock.withLock {
            switch event {
            case let .warning(text):
                progress.plain("warning: \(text)")
            case let .stageStarted(stage, base):
                progress.plain("[\(stage)] FROM \(base)")
            case let .stepStarted(stage, index, total, instruction):
                let line = instruction.split(separator: "\n").first.map(String.init) ?? instruction
                progress.plain("[\(stage) \(index)/\(total)] \(line.count > 160 ? String(line.prefix(160)) + "..." : line)")
            case .stepCached:
                progress.plain("  CACHED")
            case let .output(line):
                progress.plain("  | \(line)")
            case let .stepFinished(_, _, layer, seconds):
                let time = String(format: "%.1f s", seconds)
                if let layer {
                    progress.plain("  layer \(layer.descriptor.digest.shortHex) \(Format.bytes(layer.descriptor.size)) (\(layer.entryCount) entries) in \(time)")
                } else {
                    progress.plain("  no changes (\(time))")
                }
            }
        }
    }
}
