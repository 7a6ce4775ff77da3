import Foundation
import OCI
import Yams
import Support

/// `packages:`, `bases:` and the checks that tie packages and images together (version 2).
extension StackFileParser {
    static let packageKeys = ["version", "source", "depends_on", "build_depends_on", "build"]
    static let buildKinds = ["script", "files", "swift", "spack"]
    static let buildKeys = buildKinds + ["host"]
    static let fileCopyKeys = ["source", "destination", "mode"]
    static let spackKeys = ["specs", "os_packages", "builder", "runtime", "strip"]
    static let basesKeys = ["builder", "runtime"]

    func parseBases(_ entry: Entry) throws -> BasesSpec {
        guard case let .mapping(mapping) = entry.value else {
            throw typeError(entry, what: "bases", expected: "a mapping with `builder:` and `runtime:`",
                            hint: "write `bases: {builder: IMAGE, runtime: scratch}`")
        }
        var bases = BasesSpec(location: location(entry.keyNode))
        for field in try entries(of: mapping, context: "in bases", allowed: Self.basesKeys) where !isNull(field.value) {
            switch field.key {
            case "builder": bases.builder = try parseBase(field)
            case "runtime": bases.runtime = try parseBase(field)
            default: break
            }
        }
        return bases
    }

    func parsePackages(_ entry: Entry) throws -> [PackageSpec] {
        guard case let .mapping(mapping) = entry.value else {
            throw typeError(entry, what: "packages", expected: "a mapping of package names to package definitions",
                            hint: "write each package as a key under `packages:`, such as `packages: {zlib: {build: {script: ...}}}`")
        }
        return try entries(of: mapping, context: "in packages", allowed: nil).map(parsePackage)
    }

    func parsePackage(_ entry: Entry) throws -> PackageSpec {
        let name = entry.key
        let here = location(entry.keyNode)
        guard Self.isValidImageName(name) else {
            throw StackFileError(location: here, message: "invalid package name '\(name)'",
                                 hint: "package names use lowercase letters, digits, '.', '_' and '-' and start with a letter or digit"
                                    + (Self.suggestedImageName(name).map { ", such as '\($0)'" } ?? ""))
        }
        guard case let .mapping(mapping) = entry.value else {
            throw typeError(entry, what: name, expected: "a mapping with `build:` and optionally `source:` and `depends_on:`",
                            subject: "package", hint: "put the package's settings on the lines below its name, indented")
        }
        let context = "in package '\(name)'"
        var package = PackageSpec(name: name, location: here, recipe: .files([]))
        var recipe: BuildRecipe?
        for field in try entries(of: mapping, context: context, allowed: Self.packageKeys) where !isNull(field.value) {
            switch field.key {
            case "version":
                package.version = try scalar(field, what: "version", expected: "a version string such as \"1.3\"")
            case "source":
                package.source = try parsePackageSource(field, package: name)
            case "depends_on", "build_depends_on":
                let names = try nameList(field, what: field.key)
                for (item, dependency) in zip(sequenceNodes(field), names) {
                    package.dependencyLocations[dependency] = location(item)
                }
                if field.key == "depends_on" { package.dependsOn = names } else { package.buildDependsOn = names }
            case "build":
                recipe = try parseRecipe(field, package: name)
            default: break
            }
        }
        guard let recipe else {
            throw StackFileError(location: here, message: "missing key 'build' \(context)",
                                 hint: "add `build:` with one of \(Suggestions.list(Self.buildKinds)), such as `build: {script: make install PREFIX=$PREFIX}`")
        }
        if case .swift = recipe, package.source == nil {
            throw StackFileError(location: here, message: "package '\(name)' builds with `swift:` but has no `source:`",
                                 hint: "add `source: PATH`, the folder holding the Swift package's Package.swift")
        }
        package.recipe = recipe
        if let loop = package.allDependencies.first(where: { $0 == name }) {
            throw StackFileError(location: package.dependencyLocations[loop] ?? here,
                                 message: "package '\(name)' depends on itself", hint: "remove '\(name)' from its own dependencies")
        }
        return package
    }

    func parsePackageSource(_ entry: Entry, package: String) throws -> PackageSource {
        switch entry.value {
        case .scalar:
            let raw = try scalar(entry, what: "source", expected: "a path, or `{git: URL, ref: REF}`")
            guard !raw.isEmpty else {
                throw StackFileError(location: valueLocation(entry), message: "source of package '\(package)' is empty",
                                     hint: "give the path of its source folder, relative to \(directory)")
            }
            let path = StackPaths.absolute(raw, relativeTo: directory)
            _ = try checkPath(raw: raw, absolute: path, what: "source of package '\(package)'", at: valueLocation(entry))
            try confine(raw: raw, absolute: path, what: "source of package '\(package)'", at: valueLocation(entry))
            return .path(path)
        case let .mapping(mapping):
            var url: String?
            var urlLocation: SourceLocation?
            var ref = "HEAD"
            for field in try entries(of: mapping, context: "in the source of package '\(package)'", allowed: ["git", "ref"])
            where !isNull(field.value) {
                if field.key == "git" {
                    url = try scalar(field, what: "git", expected: "a git URL or path")
                    urlLocation = valueLocation(field)
                } else {
                    ref = try scalar(field, what: "ref", expected: "a branch, tag or commit")
                    guard !ref.isEmpty, !ref.hasPrefix("-"), !ref.contains(where: { $0.isWhitespace }) else {
                        throw StackFileError(location: valueLocation(field), message: "invalid git ref '\(ref)'",
                                             hint: "write a branch, tag or commit such as main, v1.2 or a 40-digit hash")
                    }
                }
            }
            guard let url, !url.isEmpty else {
                throw StackFileError(location: location(entry.value), message: "missing key 'git' in the source of package '\(package)'",
                                     hint: "write `source: {git: https://example.com/repo.git, ref: v1.0}`, or a path")
            }
            if url.hasPrefix("-") {
                throw StackFileError(location: location(entry.value), message: "invalid git URL '\(url)'",
                                     hint: "write a URL such as https://example.com/repo.git or a path")
            }
            // A local repository (a path, relative to the stack file, or file://) is a host
            // path like any other source: it must be inside the build context.
            guard let local = Self.localGitPath(url) else { return .git(url: url, ref: ref) }
            let path = StackPaths.absolute(local, relativeTo: directory)
            try confine(raw: url, absolute: path, what: "git source of package '\(package)'",
                        at: urlLocation ?? location(entry.value))
            return .git(url: url.hasPrefix("file://") ? url : path, ref: ref)
        default:
            throw typeError(entry, what: "source", expected: "a path, or `{git: URL, ref: REF}`")
        }
    }

    func parseRecipe(_ entry: Entry, package: String) throws -> BuildRecipe {
        let context = "in the build of package '\(package)'"
        guard case let .mapping(mapping) = entry.value else {
            throw typeError(entry, what: "build", expected: "a mapping with one of \(Suggestions.list(Self.buildKinds))",
                            hint: "write `build: {script: \"make install PREFIX=$PREFIX\"}`")
        }
        let fields = try entries(of: mapping, context: context, allowed: Self.buildKeys)
        let kinds = fields.filter { Self.buildKinds.contains($0.key) }
        guard let kindEntry = kinds.first else {
            throw StackFileError(location: location(entry.keyNode), message: "the build of package '\(package)' names no kind",
                                 hint: "add one of \(Suggestions.list(Self.buildKinds))")
        }
        if kinds.count > 1 {
            throw StackFileError(location: location(kinds[1].keyNode),
                                 message: "the build of package '\(package)' has both `\(kindEntry.key):` and `\(kinds[1].key):`",
                                 hint: "a package has one build kind; split it into two packages")
        }
        var host = false
        if let hostEntry = fields.first(where: { $0.key == "host" }), !isNull(hostEntry.value) {
            host = try bool(hostEntry, what: "host")
            if kindEntry.key != "script" {
                throw StackFileError(location: location(hostEntry.keyNode), message: "`host` applies only to `script:` builds",
                                     hint: "remove it; \(kindEntry.key) builds always run on this machine")
            }
        }
        switch kindEntry.key {
        case "script":
            let text: String
            if case .sequence = kindEntry.value {
                text = try sequenceNodes(kindEntry).map { try itemString($0, what: "script", expected: "a shell command") }
                    .joined(separator: "\n")
            } else {
                text = try scalar(kindEntry, what: "script", expected: "shell commands (a string or a list)")
            }
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw StackFileError(location: valueLocation(kindEntry), message: "the script of package '\(package)' is empty",
                                     hint: "write the commands that install it into $PREFIX")
            }
            return .script(text, host: host)
        case "files":
            let items = try sequence(kindEntry, what: "files", expected: "a list of `{source: PATH, destination: RELATIVE}`",
                                     scalarHint: { "write `files: [{source: \($0), destination: bin/}]`" })
            return .files(try items.enumerated().map { try parseFileCopy($1, number: $0 + 1, package: package) })
        case "swift":
            switch kindEntry.value {
            case .scalar:
                return .swift(product: try scalar(kindEntry, what: "swift", expected: "a SwiftPM product name"))
            case let .mapping(inner):
                let productEntry = try entries(of: inner, context: "in the swift build of package '\(package)'", allowed: ["product"])
                    .first { $0.key == "product" }
                guard let productEntry else {
                    throw StackFileError(location: location(kindEntry.value), message: "missing key 'product' in the swift build of package '\(package)'",
                                         hint: "name the SwiftPM executable product to build, such as `swift: {product: hello}`")
                }
                return .swift(product: try scalar(productEntry, what: "product", expected: "a SwiftPM product name"))
            default:
                throw typeError(kindEntry, what: "swift", expected: "a product name or `{product: NAME}`")
            }
        default:  // spack
            return .spack(try parseSpack(kindEntry, package: package))
        }
    }

    func parseFileCopy(_ node: Node, number: Int, package: String) throws -> FileCopy {
        guard case let .mapping(mapping) = node else {
            throw StackFileError(location: location(node),
                                 message: "file \(number) of package '\(package)' must be a mapping with `source:` and `destination:`, found \(describe(node))",
                                 hint: "write `- {source: PATH, destination: bin/}`")
        }
        var copy = FileCopy(source: "", destination: "")
        var hasSource = false
        for field in try entries(of: mapping, context: "in file \(number) of package '\(package)'", allowed: Self.fileCopyKeys)
        where !isNull(field.value) {
            switch field.key {
            case "source":
                let raw = try scalar(field, what: "source", expected: "a path")
                copy.source = StackPaths.absolute(raw, relativeTo: directory)
                _ = try checkPath(raw: raw, absolute: copy.source, what: "file source", at: valueLocation(field))
                try confine(raw: raw, absolute: copy.source, what: "file source", at: valueLocation(field))
                hasSource = true
            case "destination":
                let raw = try scalar(field, what: "destination", expected: "a path relative to the package's prefix")
                let normalised = StackPaths.normalise("/" + raw)
                if raw.hasPrefix("/") || StackPaths.escapesRoot(raw) {
                    throw StackFileError(location: valueLocation(field),
                                         message: "destination '\(raw)' of package '\(package)' must be relative to its prefix",
                                         hint: "write a path such as bin/tool or share/\(package); it lands under $PREFIX")
                }
                copy.destination = String(normalised.dropFirst()) + (raw.hasSuffix("/") && normalised != "/" ? "/" : "")
            case "mode":
                copy.mode = try parseMode(field)
            default: break
            }
        }
        guard hasSource else {
            throw StackFileError(location: location(node), message: "missing key 'source' in file \(number) of package '\(package)'",
                                 hint: "add `source: PATH`, the file or folder to copy")
        }
        return copy
    }

    func parseSpack(_ entry: Entry, package: String) throws -> SpackRecipe {
        var recipe = SpackRecipe(specs: [])
        switch entry.value {
        case .sequence:
            recipe.specs = try sequenceNodes(entry).map { try itemString($0, what: "spack", expected: "a spec such as zlib@1.3") }
        case let .mapping(mapping):
            for field in try entries(of: mapping, context: "in the spack build of package '\(package)'", allowed: Self.spackKeys)
            where !isNull(field.value) {
                switch field.key {
                case "specs":
                    recipe.specs = try sequence(field, what: "specs", expected: "a list of specs", scalarHint: { "write `specs: [\($0)]`" })
                        .map { try itemString($0, what: "specs", expected: "a spec such as zlib@1.3") }
                case "os_packages":
                    recipe.osPackages = try sequence(field, what: "os_packages", expected: "a list of distribution packages",
                                                     scalarHint: { "write `os_packages: [\($0)]`" })
                        .map { try itemString($0, what: "os_packages", expected: "a package name") }
                case "builder": recipe.builderImage = try scalar(field, what: "builder", expected: "an image reference")
                case "runtime": recipe.runtimeImage = try scalar(field, what: "runtime", expected: "an image reference")
                case "strip": recipe.strip = try bool(field, what: "strip")
                default: break
                }
            }
        default:
            throw typeError(entry, what: "spack", expected: "a list of specs or a mapping with `specs:`")
        }
        guard !recipe.specs.isEmpty else {
            throw StackFileError(location: location(entry.keyNode), message: "the spack build of package '\(package)' lists no specs",
                                 hint: "add `specs: [zlib@1.3]`")
        }
        return recipe
    }

    /// A list of package names (`depends_on:`, an image's `packages:`), or of other names
    /// (`noun`: `ci.publish`'s images), each once.
    func nameList(_ entry: Entry, what: String, noun: String = "package") throws -> [String] {
        let items = try sequence(entry, what: what, expected: "a list of \(noun) names", scalarHint: { "write `\(what): [\($0)]`" })
        var names: [String] = []
        for item in items {
            let name = try itemString(item, what: what, expected: "a \(noun) name")
            if names.contains(name) {
                throw StackFileError(location: location(item), message: "'\(name)' is listed twice in `\(what)`", hint: "remove one of them")
            }
            names.append(name)
        }
        return names
    }

    func sequenceNodes(_ entry: Entry) -> [Node] {
        if case let .sequence(sequence) = entry.value { return Array(sequence) }
        return []
    }

    /// Every package name an image or a package uses exists, the dependency graph has no cycle,
    /// and a builder image is named when a package needs one.
    func validatePackageReferences(_ stack: StackFile) throws {
        let names = stack.packages.map(\.name)
        func unknown(_ name: String, at here: SourceLocation, in context: String) -> StackFileError {
            let hint = Suggestions.closest(to: name, in: names).map { "did you mean '\($0)'?" }
                ?? (names.isEmpty ? "define it under `packages:` (stack file version 2)" : "the packages are \(Suggestions.list(names))")
            return StackFileError(location: here, message: "unknown package '\(name)' \(context)", hint: hint)
        }
        for package in stack.packages {
            for dependency in package.allDependencies where !names.contains(dependency) {
                throw unknown(dependency, at: package.dependencyLocations[dependency] ?? package.location,
                              in: "in the dependencies of '\(package.name)'")
            }
        }
        for image in stack.images {
            for name in image.packages where !names.contains(name) {
                throw unknown(name, at: image.packagesLocation ?? image.location, in: "in image '\(image.name)'")
            }
            if !image.packages.isEmpty, stack.version < 2 {
                throw StackFileError(location: image.packagesLocation ?? image.location,
                                     message: "`packages:` in an image needs stack file version 2", hint: "add `version: 2` at the top of the file")
            }
        }
        do {
            _ = try PackageGraph(stack.packages)
        } catch let error as PackageGraphError {
            if case let .cycle(path) = error, let first = stack.packages.first(where: { $0.name == path[0] }) {
                throw StackFileError(location: first.dependencyLocations[path[1]] ?? first.location,
                                     message: "dependency cycle: \(path.joined(separator: " → "))",
                                     hint: "packages cannot depend on each other in a loop; remove one of these dependencies")
            }
            throw StackFileError(location: nil, message: error.description)
        }
        let needsBuilder = stack.packages.first { if case .script(_, host: false) = $0.recipe { return true } else { return false } }
        if let package = needsBuilder, stack.bases.builder == nil {
            throw StackFileError(location: package.location,
                                 message: "package '\(package.name)' builds its script in a container, but `bases:` names no builder image",
                                 hint: "add `bases: {builder: IMAGE}` (an image in the store, or oci-archive:PATH), or `host: true` in its build to run it on this machine")
        }
    }
}
