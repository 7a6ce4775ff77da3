import Foundation
import OCI
import Support

/// A parsed and validated `stack.yaml` (format version 1): the images to build, in file order.
///
/// ```yaml
/// version: 1
/// images:
///   hello:
///     base: scratch
///     tags: [hello:latest]
///     layers:
///       - source: ./build/hello
///         destination: /usr/local/bin/hello
///         mode: 0755
///       - executable: ./build/server   # with its shared libraries
///         destination: /usr/local/bin/server
///     config:
///       entrypoint: [/usr/local/bin/hello]
/// ```
///
/// Loading checks everything that can be checked before a build: unknown keys, types,
/// references, platforms, paths inside the image, that every layer source and base archive
/// exists and is readable, and that every path on this machine the file names lies inside its
/// build context (``context``). The first problem, in file order, is thrown as a
/// ``StackFileError`` pointing at the offending line and column.
///
/// YAML conveniences: an optional key with an empty value (`cmd:` or `cmd: ~`) counts as absent;
/// `<<: *anchor` merge keys work in every mapping; and top-level keys starting with `x-` are
/// ignored, as a place to define anchors (`x-defaults: &defaults {...}`).
///
/// The same reader reads `ci:` (``CISettings``, for the generated pipelines) and `aws:`
/// (``AWSSettings``, for the CloudFormation templates), with the same locations and hints.
public struct StackFile: Sendable {
    /// The path of the stack file as it was given (used in error locations).
    public var path: String
    /// The absolute directory containing the file; relative sources resolve against it.
    public var directory: String
    /// The build context: the folder (symlinks resolved) that every host path the file names
    /// (layer sources, executables, package and `files:` sources, local git sources, base
    /// archives) and every symlink a layer follows must stay inside, as Docker's build context.
    /// The file's own folder, unless top-level `context:` names another (relative to the file).
    public var context: String
    /// Where `context:` is, when the file sets it.
    var contextLocation: SourceLocation?
    /// The format version: 1, or 2 for stacks with `packages:`.
    public var version: Int
    /// The images, in file order.
    public var images: [ImageSpec]
    /// The packages (version 2), in file order.
    public var packages: [PackageSpec] = []
    /// The builder and runtime images (`bases:`, version 2).
    public var bases = BasesSpec()
    /// Where packages are installed inside images and builders (`prefix:`, default `/opt/stack`);
    /// package NAME lives in `PREFIX/NAME`.
    public var prefix = "/opt/stack"
    /// Where the `images:` key is, for errors about image names.
    var imagesLocation: SourceLocation?
    /// The CI pipelines' settings (`ci:`); every one nil when the section is absent.
    public var ci = CISettings()
    /// Where the `ci:` key is (nil when absent), for errors about a setting it lacks.
    public var ciLocation: SourceLocation?
    /// The AWS stacks' settings (`aws:`); nil when the section is absent.
    public var aws: AWSSettings?

    /// The parts of a stack file a command reads. The YAML and the top-level keys are always
    /// checked; a command that needs only `aws:` is not stopped by a layer source that is not
    /// built yet.
    public struct Sections: OptionSet, Sendable, Hashable {
        /// The bits of the set.
        public let rawValue: Int
        /// Creates a set of sections from its raw value.
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// `context:`, `prefix:`, `bases:`, `packages:` and `images:`.
        public static let build = Sections(rawValue: 1)
        /// `ci:`.
        public static let ci = Sections(rawValue: 2)
        /// `aws:`.
        public static let aws = Sections(rawValue: 4)
        /// Every section.
        public static let all: Sections = [.build, .ci, .aws]
    }

    /// The `aws:` settings.
    ///
    /// - Throws: ``StackFileError`` when the file has no `aws:` section.
    public func awsSettings() throws -> AWSSettings {
        guard let aws else {
            throw StackFileError(location: SourceLocation(file: path, line: 1, column: 1), message: "missing key 'aws' at the top level",
                                 hint: "add an `aws:` section with at least `project:` and one stack section (registry, ci_build, service, ...)")
        }
        var settings = aws
        if let cache = ci.cacheURL, cache.hasPrefix("s3://") { settings.binaryCacheURL = cache }
        return settings
    }

    /// Creates a stack file from parts that are already valid; `context` is `directory` when nil.
    public init(path: String, directory: String, version: Int = 1, images: [ImageSpec],
                packages: [PackageSpec] = [], bases: BasesSpec = BasesSpec(), prefix: String = "/opt/stack",
                context: String? = nil) {
        self.path = path
        self.directory = directory
        self.context = context ?? directory
        self.version = version
        self.images = images
        self.packages = packages
        self.bases = bases
        self.prefix = prefix
    }

    /// The package called `name`.
    ///
    /// - Throws: ``StackFileError`` with the closest name as a hint.
    public func package(named name: String) throws -> PackageSpec {
        if let package = packages.first(where: { $0.name == name }) { return package }
        let names = packages.map(\.name)
        let hint: String
        if let close = Suggestions.closest(to: name, in: names) {
            hint = "did you mean '\(close)'?"
        } else {
            hint = names.isEmpty ? "\(path) defines no packages" : "the packages are \(Suggestions.list(names))"
        }
        throw StackFileError(location: SourceLocation(file: path, line: 1, column: 1),
                             message: "no package named '\(name)' in \(path)", hint: hint)
    }

    /// Reads, parses and validates the stack file at `path` (relative paths resolve against the
    /// current directory, and error locations show `path` as given): its YAML, top-level keys
    /// and the `sections` asked for (every one by default).
    ///
    /// - Throws: ``StackFileError``; with a `nil` location when the file cannot be read.
    public static func load(path: String, sections: Sections = .all) throws -> StackFile {
        let absolute = StackPaths.absolute(path, relativeTo: FileManager.default.currentDirectoryPath)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) else {
            throw StackFileError(location: nil, message: "no stack file at \(path)",
                                 hint: "create one (see README) or pass its path")
        }
        if isDirectory.boolValue {
            throw StackFileError(location: nil, message: "\(path) is a directory, not a stack file",
                                 hint: "pass the path of the stack.yaml inside it")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: absolute))
        } catch {
            let reason = access(absolute, R_OK) != 0 ? "permission denied" : "\(error.localizedDescription)"
            throw StackFileError(location: nil, message: "cannot read stack file \(path) (\(reason))",
                                 hint: "check the file's permissions")
        }
        guard let yaml = String(validating: data, as: UTF8.self) else {
            let (line, column) = StackPaths.position(ofFirstInvalidUTF8In: data)
            throw StackFileError(location: SourceLocation(file: path, line: line, column: column),
                                 message: "\(path) is not UTF-8 text",
                                 hint: "save the file as UTF-8")
        }
        return try parse(yaml: yaml, path: path, directory: StackPaths.parent(of: absolute), sections: sections)
    }

    /// Parses and validates `yaml` as the contents of the stack file at `path`.
    ///
    /// - Parameters:
    ///   - yaml: The file's text.
    ///   - path: The file's path as the user gave it; it appears in error locations.
    ///   - directory: The directory relative layer sources and base archives resolve against
    ///     (made absolute against the current directory if it is relative).
    ///   - sections: The sections to read beside the YAML and the top-level keys.
    /// - Throws: ``StackFileError``.
    public static func parse(yaml: String, path: String, directory: String, sections: Sections = .all) throws -> StackFile {
        let directory = StackPaths.absolute(directory, relativeTo: FileManager.default.currentDirectoryPath)
        var parser = StackFileParser(file: path, directory: directory)
        return try parser.parse(yaml: yaml, sections: sections)
    }

    /// The image called `name`.
    ///
    /// - Throws: ``StackFileError`` naming the images the file does define, with the closest
    ///   name as a hint.
    public func image(named name: String) throws -> ImageSpec {
        if let image = images.first(where: { $0.name == name }) { return image }
        let names = images.map(\.name)
        let hint: String
        if let close = Suggestions.closest(to: name, in: names) {
            hint = "did you mean '\(close)'?"
        } else {
            hint = "the images are \(Suggestions.list(names))"
        }
        throw StackFileError(location: imagesLocation ?? SourceLocation(file: path, line: 1, column: 1),
                             message: "no image named '\(name)' in \(path)", hint: hint)
    }
}

/// One image to build: an entry under `images:`.
public struct ImageSpec: Sendable {
    /// The image's name, the key under `images:` (`[a-z0-9][a-z0-9._-]*`).
    public var name: String
    /// Where the image's name is in the stack file.
    public var location: SourceLocation
    /// What the image starts from (`base:`); ``BaseSpec/scratch`` when absent.
    public var base: BaseSpec
    /// The references the built image is tagged with (`tags:`); `NAME:latest` when absent.
    public var tags: [ImageReference]
    /// The platform the image is for (`platform:`); ``OCI/Platform/host`` when absent.
    public var platform: Platform
    /// How new layers are compressed (`compression:`); gzip when absent.
    public var compression: Compression
    /// The layers added on top of the base, in order (`layers:`).
    public var layers: [LayerSpec]
    /// The runtime configuration (`config:`).
    public var config: ConfigSpec
    /// Annotations for the image manifest (`annotations:`).
    public var annotations: [String: String]
    /// The packages the image holds (`packages:`, version 2); their runtime dependencies come
    /// with them. Each is one layer, after the base and before `layers:`.
    public var packages: [String] = []
    /// Where `packages:` is, for errors about its names.
    var packagesLocation: SourceLocation?
    /// Where each of ``tags`` is written; empty when the tag is the default `NAME:latest`.
    var tagLocations: [SourceLocation] = []
    /// How `stackship test` checks the running image (`test:`); nil when it has no test.
    public var test: ImageTestSpec?
    /// Shell commands `stackship build` runs (in the stack file's folder, in order) before it
    /// builds the image (`steps:`), such as `go build`: what makes its layer sources. Until they
    /// have run, a missing layer source of this image is not an error.
    public var steps: [String] = []
    /// Where `steps:` is written.
    public var stepsLocation: SourceLocation?
    /// The Dockerfile the image is built from (`dockerfile:`, with `context:`, `args:` and
    /// `target:`); nil for an image assembled from `base:`, `packages:` and `layers:`.
    public var dockerfile: DockerfileImageSpec?

    /// Creates an image spec from parts that are already valid.
    public init(name: String, location: SourceLocation, base: BaseSpec = .scratch, tags: [ImageReference],
                platform: Platform = .host, compression: Compression = .gzip, layers: [LayerSpec] = [],
                config: ConfigSpec = ConfigSpec(), annotations: [String: String] = [:]) {
        self.name = name
        self.location = location
        self.base = base
        self.tags = tags
        self.platform = platform
        self.compression = compression
        self.layers = layers
        self.config = config
        self.annotations = annotations
    }
}

/// An image's test (`test:`): run the image, wait until `port` answers, then run `command` on
/// this machine with `STACKSHIP_TEST_HOST` and `STACKSHIP_TEST_PORT` set to where that port is
/// published; the test passes when the command exits 0.
public struct ImageTestSpec: Sendable, Hashable {
    /// The container port to publish and wait for (1 to 65535).
    public var port: Int
    /// The command run on this machine (not in the container) once the port answers.
    public var command: [String]
    /// Seconds to wait for the port, and then for the command (default 30).
    public var timeout: Double
    /// Variables the command gets besides STACKSHIP_TEST_* (`env:`).
    public var environment: [String: String]

    /// Creates a test spec.
    public init(port: Int, command: [String], timeout: Double = 30, environment: [String: String] = [:]) {
        self.port = port
        self.command = command
        self.timeout = timeout
        self.environment = environment
    }
}

/// What an image starts from.
public enum BaseSpec: Sendable, Hashable {
    /// An empty image: `base: scratch`, or no `base:` key.
    case scratch
    /// An image in the local store, by reference as written (`alpine:3.20`, `localhost/base:1`).
    case store(String)
    /// An OCI archive (`oci-archive:PATH[:REF]`): the absolute path of the tar file, and the
    /// `org.opencontainers.image.ref.name` to pick when the archive holds several images.
    case ociArchive(path: String, reference: String?)
    /// A `docker save` archive (`docker-archive:PATH[:REF]`): the absolute path of the tar file,
    /// and the image to pick (a reference, or `@N` for the N-th image) when it holds several.
    case dockerArchive(path: String, reference: String?)
}

/// What a layer entry adds to the image.
public enum LayerKind: Sendable, Hashable {
    /// A file or directory copied as it is (`source:`).
    case tree
    /// An ELF program together with its program interpreter and the shared libraries it needs
    /// (`executable:`); see ``ELFDependencies``.
    case executable
}

/// A layer made from a file or directory on the build host.
public struct LayerSpec: Sendable {
    /// Where the layer's entry in `layers:` is in the stack file.
    public var location: SourceLocation
    /// What the layer holds: ``LayerKind/tree`` for `source:`, ``LayerKind/executable`` for
    /// `executable:`.
    public var kind: LayerKind
    /// The absolute path of the source file or directory (`source:`), or of the program
    /// (`executable:`), resolved against the stack file's directory. It existed and was
    /// readable when the file was loaded, and a program is a file.
    public var source: String
    /// The absolute, normalised path inside the image (`destination:`): no `.` or `..`
    /// components, no trailing slash except for `/` itself. For an executable, the program's
    /// own path in the image.
    public var destination: String
    /// Permission bits for a single-file source or an executable (`mode:`, read as octal like
    /// chmod); nil keeps the file's own.
    public var mode: UInt32?
    /// Whether symlinks inside the source are followed (`follow_symlinks:`, default false).
    public var followSymlinks: Bool
    /// Glob patterns, relative to the source, of paths to leave out (`exclude:`).
    public var exclude: [String]
    /// A note recorded in the image history (`comment:`).
    public var comment: String?
    /// Where the `source:` or `executable:` value is, for errors about the source.
    var sourceLocation: SourceLocation?

    /// Creates a layer spec from parts that are already valid.
    public init(location: SourceLocation, kind: LayerKind = .tree, source: String, destination: String, mode: UInt32? = nil,
                followSymlinks: Bool = false, exclude: [String] = [], comment: String? = nil) {
        self.location = location
        self.kind = kind
        self.source = source
        self.destination = destination
        self.mode = mode
        self.followSymlinks = followSymlinks
        self.exclude = exclude
        self.comment = comment
    }
}

/// The runtime configuration of an image (`config:`); absent keys leave the base image's values.
public struct ConfigSpec: Sendable, Hashable {
    /// `entrypoint:`; a plain string becomes `["/bin/sh", "-c", STRING]` (Docker's shell form).
    public var entrypoint: [String]?
    /// `cmd:`; same rules as ``entrypoint``.
    public var cmd: [String]?
    /// `env:`, in file order.
    public var env: [EnvVar]
    /// `workdir:`, an absolute normalised path.
    public var workdir: String?
    /// `user:`: `uid`, `uid:gid`, `name` or `name:group`.
    public var user: String?
    /// `exposed_ports:`, normalised to `PORT/PROTOCOL` (`80/tcp`, `53/udp`).
    public var exposedPorts: [String]
    /// `labels:`.
    public var labels: [String: String]
    /// `stop_signal:`: a name such as `SIGTERM`, or a number such as `15`.
    public var stopSignal: String?
    /// `volumes:`, absolute normalised paths.
    public var volumes: [String]

    /// Creates a config spec from parts that are already valid.
    public init(entrypoint: [String]? = nil, cmd: [String]? = nil, env: [EnvVar] = [], workdir: String? = nil,
                user: String? = nil, exposedPorts: [String] = [], labels: [String: String] = [:],
                stopSignal: String? = nil, volumes: [String] = []) {
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.env = env
        self.workdir = workdir
        self.user = user
        self.exposedPorts = exposedPorts
        self.labels = labels
        self.stopSignal = stopSignal
        self.volumes = volumes
    }
}

/// An environment variable set in the image.
public struct EnvVar: Sendable, Hashable {
    /// The variable's name (`[A-Za-z_][A-Za-z0-9_]*`).
    public var name: String
    /// Its value.
    public var value: String

    /// Creates an environment variable.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// An image built from a Dockerfile (`dockerfile:` under the image): it takes part in plan, ci
/// generate, test, push and deploy like any other image, and `stackship build` builds it as
/// `stackship build -f` would.
public struct DockerfileImageSpec: Sendable, Equatable {
    /// The Dockerfile's absolute path.
    public var path: String
    /// The build context's absolute path (`context:`; the Dockerfile's folder by default).
    public var context: String
    /// Build arguments (`args:`).
    public var arguments: [String: String]
    /// The stage to build (`target:`; the last by default).
    public var target: String?
    /// Where `dockerfile:` is written.
    public var location: SourceLocation

    public init(path: String, context: String, arguments: [String: String] = [:], target: String? = nil, location: SourceLocation) {
        self.path = path
        self.context = context
        self.arguments = arguments
        self.target = target
        self.location = location
    }
}
