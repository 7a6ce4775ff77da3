import Foundation
import OCI

/// One package of a stack (format version 2): an entry under `packages:`.
///
/// ```yaml
/// packages:
///   zlib:
///     version: "1.3"
///     source: ./src/zlib                 # or {git: URL, ref: REF}
///     depends_on: [libc-shim]            # needed at build time and at run time
///     build_depends_on: [cmake]          # needed at build time only
///     build:
///       script: |                        # or files:, swift:, spack:
///         ./configure --prefix="$PREFIX" && make install
/// ```
///
/// A package is built once into its own prefix, `PREFIX/NAME` (``StackFile/prefix``, `/opt/stack`
/// by default), and that tree is one layer in every image that holds it.
public struct PackageSpec: Sendable, Hashable {
    /// The package's name, its key under `packages:` (same rules as image names).
    public var name: String
    /// Where the name is in the stack file.
    public var location: SourceLocation
    /// `version:`, free text recorded in the cache metadata; empty when absent.
    public var version: String
    /// `source:`; nil for packages that need none (a script that writes files itself).
    public var source: PackageSource?
    /// `depends_on:`: packages needed to build this one and to run it, in file order.
    public var dependsOn: [String]
    /// `build_depends_on:`: packages needed only to build this one.
    public var buildDependsOn: [String]
    /// `build:`, how the package is made.
    public var recipe: BuildRecipe
    /// Where the `depends_on:` and `build_depends_on:` names are, for errors about them.
    var dependencyLocations: [String: SourceLocation] = [:]

    /// Creates a package spec from parts that are already valid.
    public init(name: String, location: SourceLocation, version: String = "", source: PackageSource? = nil,
                dependsOn: [String] = [], buildDependsOn: [String] = [], recipe: BuildRecipe) {
        self.name = name
        self.location = location
        self.version = version
        self.source = source
        self.dependsOn = dependsOn
        self.buildDependsOn = buildDependsOn
        self.recipe = recipe
    }

    /// Every package this one needs at build time: `depends_on` then `build_depends_on`.
    public var allDependencies: [String] { dependsOn + buildDependsOn.filter { !dependsOn.contains($0) } }

    public static func == (a: PackageSpec, b: PackageSpec) -> Bool {
        a.name == b.name && a.version == b.version && a.source == b.source && a.dependsOn == b.dependsOn
            && a.buildDependsOn == b.buildDependsOn && a.recipe == b.recipe
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

/// Where a package's source comes from.
public enum PackageSource: Sendable, Hashable {
    /// A file or directory on this machine (absolute, resolved against the stack file's folder).
    case path(String)
    /// A git repository at a ref (branch, tag or commit); the commit it resolves to is what the
    /// package's hash covers.
    case git(url: String, ref: String)
}

/// How a package is built (`build:`).
public enum BuildRecipe: Sendable, Hashable {
    /// `script:`: shell commands run with `sh -e` in the source folder, writing into `$PREFIX`.
    /// They run inside the stack's builder image with no network, unless `host: true` (or
    /// `stackship build --host`) runs them here.
    case script(String, host: Bool)
    /// `files:`: files or folders copied into the prefix, each to a relative destination.
    case files([FileCopy])
    /// `swift:`: a SwiftPM product built in release mode from the source folder (on this host,
    /// with the static Swift standard library), installed as `$PREFIX/bin/PRODUCT`.
    case swift(product: String)
    /// `spack:`: Spack specs installed by `spack install` where spack is on PATH; see
    /// `stackship dockerfile` for building them in a container instead.
    case spack(SpackRecipe)

    /// The kind's name as written in the stack file.
    public var kind: String {
        switch self {
        case .script: return "script"
        case .files: return "files"
        case .swift: return "swift"
        case .spack: return "spack"
        }
    }
}

/// One entry of a `files:` recipe.
public struct FileCopy: Sendable, Hashable {
    /// The absolute path on this machine.
    public var source: String
    /// The path relative to the package's prefix (`bin/tool`, `share/doc`); normalised.
    public var destination: String
    /// Permission bits for a single file (octal in the stack file); nil keeps the file's own.
    public var mode: UInt32?

    /// Creates a file copy.
    public init(source: String, destination: String, mode: UInt32? = nil) {
        self.source = source
        self.destination = destination
        self.mode = mode
    }
}

/// A `spack:` recipe: what `spack containerize` reads from a spack.yaml environment.
public struct SpackRecipe: Sendable, Hashable {
    /// The specs to install, such as `zlib@1.3`, `hdf5+mpi ^openmpi`.
    public var specs: [String]
    /// Distribution packages the runtime image needs besides the Spack view (`os_packages:`).
    public var osPackages: [String]
    /// The Spack image to build in (`builder:`), such as `spack/ubuntu-jammy:0.22`.
    public var builderImage: String
    /// The image the view is copied into (`runtime:`), such as `ubuntu:22.04`.
    public var runtimeImage: String
    /// Whether binaries are stripped in the builder stage (`strip:`, default true).
    public var strip: Bool

    /// Creates a Spack recipe.
    public init(specs: [String], osPackages: [String] = [], builderImage: String = "spack/ubuntu-jammy:latest",
                runtimeImage: String = "ubuntu:22.04", strip: Bool = true) {
        self.specs = specs
        self.osPackages = osPackages
        self.builderImage = builderImage
        self.runtimeImage = runtimeImage
        self.strip = strip
    }
}

/// The images packages are built in and images start from (`bases:`).
public struct BasesSpec: Sendable, Hashable {
    /// `builder:`: the image script packages are built in; required when any script package
    /// builds in a container.
    public var builder: BaseSpec?
    /// `runtime:`: what images with `packages:` start from when they name no `base:`;
    /// scratch when absent.
    public var runtime: BaseSpec
    /// Where `bases:` is.
    public var location: SourceLocation?

    /// Creates bases.
    public init(builder: BaseSpec? = nil, runtime: BaseSpec = .scratch, location: SourceLocation? = nil) {
        self.builder = builder
        self.runtime = runtime
        self.location = location
    }
}
