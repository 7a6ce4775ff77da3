import Dockerfile
import Foundation
import OCI
import Runtime

/// One `stackship build -f Dockerfile` (or a stack file's `dockerfile:` image): what to build
/// and how.
public struct DockerfileBuildRequest: Sendable {
    /// The Dockerfile's path as the user named it (messages show it as `PATH:LINE:COL`).
    public var dockerfile: String
    /// The build context: the folder COPY and ADD take files from.
    public var contextDirectory: String
    /// Build arguments, `--target`, the target and build platforms.
    public var options: BuildOptions
    /// Where the result is tagged in the store (none: the image is only known by its digest).
    public var tags: [ImageReference]
    /// mtimes are clamped to this and `created` is set to it (SOURCE_DATE_EPOCH, `--timestamp`, else 0).
    public var epoch: Int64
    /// Reuse earlier steps' results (`--no-cache` turns this off).
    public var useCache: Bool
    /// `--secret id=ID,...` values, by id.
    public var secrets: [String: BuildSecret]
    /// `--label` values added to the image's labels.
    public var labels: [String: String]
    /// When a base image is pulled.
    public var pullPolicy: PullPolicy
    /// Layer compression.
    public var compression: Compression
    public var level: Int?
    public var threads: Int

    public init(dockerfile: String, contextDirectory: String, options: BuildOptions = BuildOptions(), tags: [ImageReference] = [],
                epoch: Int64 = 0, useCache: Bool = true, secrets: [String: BuildSecret] = [:], labels: [String: String] = [:],
                pullPolicy: PullPolicy = .missing, compression: Compression = .gzip, level: Int? = nil, threads: Int = 0) {
        self.dockerfile = dockerfile
        self.contextDirectory = contextDirectory
        self.options = options
        self.tags = tags
        self.epoch = epoch
        self.useCache = useCache
        self.secrets = secrets
        self.labels = labels
        self.pullPolicy = pullPolicy
        self.compression = compression
        self.level = level
        self.threads = threads
    }
}

/// What happens during a Dockerfile build, for the CLI to show (the library never prints).
public enum DockerfileBuildEvent: Sendable {
    /// A warning the reader or planner gave (an unused build argument, a deprecated form).
    case warning(String)
    /// A stage starts from `base` (an image reference with its digest, `scratch` or a stage).
    case stageStarted(stage: String, base: String)
    /// Step `index` of `total` in `stage` begins: the instruction as written.
    case stepStarted(stage: String, index: Int, total: Int, instruction: String)
    /// The step's result came from the build cache.
    case stepCached(stage: String, index: Int)
    /// A line of a RUN's output (secrets replaced by `***`).
    case output(String)
    /// The step made `layer` (nil: it changed no file) in `seconds`.
    case stepFinished(stage: String, index: Int, layer: BuiltLayer?, seconds: Double)
}

/// A Dockerfile build's result: the image, and how much of it came from the cache.
public struct DockerfileBuildResult: Sendable {
    public var image: BuiltImage
    /// Steps that make layers (RUN, COPY, ADD, WORKDIR) in the stages built.
    public var layerSteps: Int
    /// How many of them came from the cache.
    public var cachedSteps: Int
    /// How many RUN instructions ran.
    public var runsExecuted: Int
}

/// Fetches `url` into the file at `destination`; the CLI gives one on its HTTP client.
public typealias URLFetcher = @Sendable (_ url: String, _ destination: String) async throws -> Void

/// Why a Dockerfile build failed, naming the Dockerfile's line and the fix.
public enum DockerfileBuildError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The Dockerfile (or its .dockerignore) could not be read or planned.
    case dockerfile(file: String, DockerfileError)
    /// The Dockerfile is missing.
    case dockerfileMissing(path: String, hint: String)
    /// A COPY or ADD source that cannot be used.
    case copySource(file: String, location: DockerfileLocation, instruction: String, source: String, reason: String)
    /// A RUN that failed: the command's exit and its last output lines.
    case runFailed(file: String, location: DockerfileLocation, instruction: String, reason: String)
    /// A feature the Dockerfile uses that this build does not support (yet), with the way around it.
    case unsupported(file: String, location: DockerfileLocation, what: String, hint: String)
    /// `RUN --mount=type=secret` naming a secret the build was not given, with `required`.
    case missingSecret(file: String, location: DockerfileLocation, id: String)
    /// An instruction's value that cannot be used (`--chmod=abc`, a bad `--chown`).
    case invalidValue(file: String, location: DockerfileLocation, instruction: String, reason: String)
    /// Something else went wrong in a step (I/O, the store), named by its line.
    case step(file: String, location: DockerfileLocation, instruction: String, reason: String)

    public var description: String {
        switch self {
        case let .dockerfile(file, error):
            return error.described(file: file)
        case let .dockerfileMissing(path, hint):
            return "\(path): no such Dockerfile; \(hint)"
        case let .copySource(file, location, instruction, source, reason):
            return "\(file):\(location): \(instruction) source '\(source)': \(reason)"
        case let .runFailed(file, location, instruction, reason):
            return "\(file):\(location): \(instruction) failed: \(reason)"
        case let .unsupported(file, location, what, hint):
            return "\(file):\(location): \(what) is not supported; \(hint)"
        case let .missingSecret(file, location, id):
            return "\(file):\(location): RUN needs the secret '\(id)' (required); give it with --secret id=\(id),src=FILE or --secret id=\(id),env=VARIABLE"
        case let .invalidValue(file, location, instruction, reason):
            return "\(file):\(location): \(instruction): \(reason)"
        case let .step(file, location, instruction, reason):
            return "\(file):\(location): \(instruction): \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
