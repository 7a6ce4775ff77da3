import Foundation
import OCI
import Runtime
import Support

/// Computes each package's input hash: what it is built from, so that the same inputs give the
/// same hash on any machine and any change to them gives a new one.
///
/// The hash covers the package's name, version and prefix, its recipe (script text, file list,
/// product, specs, and the swift or spack version for those kinds), its source's content, the builder image's manifest digest (or `host` for a
/// build on this machine), the platform, and the hashes of everything it depends on, so a
/// change anywhere below a package changes its hash too.
public struct InputHasher: Sendable {
    /// How sources are read.
    public var sources: PackageSources
    /// The builder image's manifest digest, for script builds in a container.
    public var builderDigest: String?
    /// The platform packages are built for.
    public var platform: Platform
    /// Script builds run on this machine regardless of their recipe (`--host`).
    public var forceHost: Bool

    /// Creates a hasher.
    public init(sources: PackageSources, builderDigest: String?, platform: Platform = .host, forceHost: Bool = false) {
        self.sources = sources
        self.builderDigest = builderDigest
        self.platform = platform
        self.forceHost = forceHost
    }

    /// Every package's hash (64 hex digits), by name.
    ///
    /// - Throws: ``PackageBuildError/source(package:reason:)`` when a source cannot be read.
    public func hashes(for stack: StackFile, graph: PackageGraph) throws -> [String: String] {
        var result: [String: String] = [:]
        for name in graph.order {
            let package = graph.packages[name]!
            result[name] = try hash(package, prefix: stack.prefix, dependencies: result)
        }
        return result
    }

    /// Whether `package` builds in the builder image.
    public func buildsInContainer(_ package: PackageSpec) -> Bool {
        if case let .script(_, host) = package.recipe { return !host && !forceHost }
        return false
    }

    func hash(_ package: PackageSpec, prefix: String, dependencies: [String: String]) throws -> String {
        var input: [String: Any] = [
            "format": 1,
            "name": package.name,
            "version": package.version,
            "prefix": prefix + "/" + package.name,
            "platform": platform.description,
            "recipe": try recipe(package),
            "dependencies": Dictionary(uniqueKeysWithValues: package.allDependencies.map { ($0, dependencies[$0]!) }),
            "runtime_dependencies": package.dependsOn.sorted(),
        ]
        if let source = package.source {
            input["source"] = try sources.digest(of: source, package: package.name)
        }
        input["builder"] = buildsInContainer(package) ? (builderDigest ?? "unresolved") : "host"
        let data = try JSONSerialization.data(withJSONObject: input, options: [.sortedKeys, .withoutEscapingSlashes])
        return Digest.compute(data).encoded
    }

    func recipe(_ package: PackageSpec) throws -> [String: Any] {
        switch package.recipe {
        case let .script(text, _):
            return ["kind": "script", "script": text]
        case let .files(copies):
            return ["kind": "files", "files": try copies.map { copy -> [String: Any] in
                var entry: [String: Any] = ["destination": copy.destination,
                                            "content": try sources.digest(of: .path(copy.source), package: package.name)]
                if let mode = copy.mode { entry["mode"] = Int(mode) }
                return entry
            }]
        case let .swift(product):
            // A new compiler is a new binary: the toolchain is part of the input.
            return ["kind": "swift", "product": product, "toolchain": Self.toolVersion("swift")]
        case let .spack(recipe):
            return ["kind": "spack", "specs": recipe.specs, "os_packages": recipe.osPackages, "strip": recipe.strip,
                    "spack": Self.toolVersion("spack")]
        }
    }

    private static let versions = ToolVersions()

    /// `TOOL --version`'s first line, once per process; "absent" when the tool is not on PATH
    /// (the build then fails with an install hint before anything is cached under this hash).
    static func toolVersion(_ tool: String) -> String { versions.version(of: tool) }
}

private final class ToolVersions: @unchecked Sendable {
    private let lock = NSLock()
    private var known: [String: String] = [:]

    func version(of tool: String) -> String {
        lock.withLock {
            if let v = known[tool] { return v }
            var v = "absent"
            if ChildProcess.which(tool) != nil, let r = try? ChildProcess.run("/usr/bin/env", [tool, "--version"]), r.status == 0 {
                v = r.output.split(separator: "\n").first.map(String.init) ?? ""
            }
            known[tool] = v
            return v
        }
    }
}
