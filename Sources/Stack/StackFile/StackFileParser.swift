import Foundation
import OCI
import Yams

/// Walks the YAML node tree of a stack file and builds a validated ``StackFile``.
///
/// It stops at the first problem, in file order, and reports it as a ``StackFileError`` at the
/// most precise node it can: the value when the value is wrong, the key when the key is wrong or
/// the value is empty, the enclosing mapping when a required key is missing.
struct StackFileParser {
    /// The file as the user named it, for locations.
    let file: String
    /// The absolute directory relative paths resolve against.
    let directory: String
    /// The build context, symlinks resolved: every host path the file names must be inside it
    /// (see ``StackFile/context``). The file's folder until `context:` is read.
    var context: String
    /// Where `context:` is, when the file sets it.
    var contextLocation: SourceLocation?
    /// Stand-in key text → original key text (see ``YAMLComposer``).
    private var renamedKeys: [String: String] = [:]
    /// Text insertions made while composing, to map marks back to the original text.
    private var insertions: [YAMLComposer.Insertion] = []

    /// `aws:` and `ci:` are read by the AWS and Pipelines targets (their own settings types);
    /// this parser only lets them through.
    static let topLevelKeys = ["version", "context", "images", "packages", "bases", "prefix", "aws", "ci"]
    static let imageKeys = ["base", "tags", "platform", "compression", "packages", "layers", "config", "annotations", "test"]
    static let testKeys = ["port", "command", "timeout"]
    static let layerKeys = ["source", "executable", "destination", "mode", "follow_symlinks", "exclude", "comment"]
    static let configKeys = ["entrypoint", "cmd", "env", "workdir", "user", "exposed_ports", "labels",
                             "stop_signal", "volumes"]

    init(file: String, directory: String) {
        self.file = file
        self.directory = directory
        context = StackPaths.resolved(directory)
    }

    /// Parses the whole file.
    mutating func parse(yaml: String) throws -> StackFile {
        let composed = try YAMLComposer(file: file).compose(yaml)
        renamedKeys = composed.renamedKeys
        insertions = composed.insertions

        guard let root = composed.root, !isNull(root) else {
            throw StackFileError(location: location(line: 1, column: 1), message: "the stack file is empty",
                                 hint: "it needs an `images:` mapping with at least one image; see README for an example")
        }
        guard case let .mapping(mapping) = root else {
            throw StackFileError(location: location(root),
                                 message: "the top level must be a mapping with `version:` and `images:`, found \(describe(root))",
                                 hint: "start the file with `images:`; see README for an example")
        }
        let entries = try entries(of: mapping, context: "at the top level", allowed: Self.topLevelKeys,
                                  allowsExtensions: true)
        var version = 1
        if let entry = entries.first(where: { $0.key == "version" }) {
            version = try parseVersion(entry)
        }
        if version < 2, let v2 = entries.first(where: { ["packages", "bases", "prefix"].contains($0.key) }) {
            throw StackFileError(location: location(v2.keyNode), message: "`\(v2.key):` needs stack file version 2",
                                 hint: "add `version: 2` at the top of the file")
        }
        // Read before anything that names a host path, which it decides about.
        if let entry = entries.first(where: { $0.key == "context" }), !isNull(entry.value) {
            try parseContext(entry)
        }
        var stack = StackFile(path: file, directory: directory, version: version, images: [], context: context)
        stack.contextLocation = contextLocation
        if let entry = entries.first(where: { $0.key == "prefix" }) {
            stack.prefix = try absolutePath(try scalar(entry, what: "prefix", expected: "an absolute path such as /opt/stack"),
                                            what: "prefix", at: valueLocation(entry))
            if stack.prefix == "/" {
                throw StackFileError(location: valueLocation(entry), message: "`prefix` cannot be '/'",
                                     hint: "packages each get a folder under it; use a path such as /opt/stack")
            }
        }
        if let entry = entries.first(where: { $0.key == "bases" }) {
            stack.bases = try parseBases(entry)
        }
        if let entry = entries.first(where: { $0.key == "packages" }) {
            stack.packages = try parsePackages(entry)
        }
        if let imagesEntry = entries.first(where: { $0.key == "images" }) {
            stack.images = try parseImages(imagesEntry)
            stack.imagesLocation = location(imagesEntry.keyNode)
            try validateUniqueTags(stack.images)
        } else if stack.packages.isEmpty {
            throw StackFileError(location: location(root), message: "missing key 'images' at the top level",
                                 hint: "add an `images:` mapping with at least one image; see README for an example")
        }
        try validatePackageReferences(stack)
        return stack
    }

    // MARK: - Top level

    func parseVersion(_ entry: Entry) throws -> Int {
        let text = try scalar(entry, what: "version", expected: "the number 1 or 2")
        guard text == "1" || text == "2" else {
            throw StackFileError(location: valueLocation(entry), message: "unsupported stack file version '\(text)'",
                                 hint: "this stackship reads versions 1 and 2 (2 adds `packages:` and `bases:`); write `version: 2`")
        }
        return Int(text)!
    }

    func parseImages(_ entry: Entry) throws -> [ImageSpec] {
        let expected = "a mapping of image names to image definitions"
        guard case let .mapping(mapping) = entry.value else {
            throw typeError(entry, what: "images", expected: expected,
                            hint: "write each image as a key under `images:`, such as `images: {hello: {base: scratch}}`")
        }
        let images = try entries(of: mapping, context: "in images", allowed: nil)
        guard !images.isEmpty else {
            throw StackFileError(location: location(entry.keyNode), message: "no images under `images`",
                                 hint: "add at least one image, such as `hello: {base: scratch}`")
        }
        return try images.map(parseImage)
    }

    // MARK: - Images

    func parseImage(_ entry: Entry) throws -> ImageSpec {
        let name = entry.key
        let nameLocation = location(entry.keyNode)
        guard Self.isValidImageName(name) else {
            let suggestion = Self.suggestedImageName(name)
            throw StackFileError(
                location: nameLocation, message: "invalid image name '\(name)'",
                hint: "image names use lowercase letters, digits, '.', '_' and '-' and start with a letter or digit"
                    + (suggestion.map { ", such as '\($0)'" } ?? ""))
        }
        var image = ImageSpec(name: name, location: nameLocation, tags: [])
        var tags: [ImageReference]?
        let context = "in image '\(name)'"
        if !isNull(entry.value) {
            guard case let .mapping(mapping) = entry.value else {
                throw typeError(entry, what: name, expected: "a mapping of image settings such as `base:` and `layers:`",
                                subject: "image", hint: "put the image's settings on the lines below its name, indented")
            }
            for field in try entries(of: mapping, context: context, allowed: Self.imageKeys) where !isNull(field.value) {
                switch field.key {
                case "base": image.base = try parseBase(field)
                case "tags": (tags, image.tagLocations) = try parseTags(field, image: name)
                case "platform": image.platform = try parsePlatform(field)
                case "compression": image.compression = try parseCompression(field)
                case "layers": image.layers = try parseLayers(field, image: name)
                case "packages":
                    image.packages = try nameList(field, what: "packages")
                    image.packagesLocation = location(field.value)
                case "config": image.config = try parseConfig(field)
                case "annotations": image.annotations = try stringMapping(field, what: "annotations")
                case "test": image.test = try parseTest(field, image: name)
                default: break
                }
            }
        }
        if let tags {
            image.tags = tags
        } else {
            do {
                image.tags = [try ImageReference(parsing: "\(name):latest")]
            } catch {
                throw StackFileError(location: nameLocation,
                                     message: "image name '\(name)' cannot be the default tag '\(name):latest': \(Self.reason(error))",
                                     hint: "add `tags:` with the references to tag it as")
            }
        }
        return image
    }

    static func isValidImageName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, isLowerAlnum(first) else { return false }
        return bytes.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    static func isLowerAlnum(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }

    /// A valid name close to `name`: lowercased, other characters turned into '-'.
    static func suggestedImageName(_ name: String) -> String? {
        var bytes = name.lowercased().utf8.map { c -> UInt8 in
            isLowerAlnum(c) || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") ? c : UInt8(ascii: "-")
        }
        while let first = bytes.first, !isLowerAlnum(first) { bytes.removeFirst() }
        guard !bytes.isEmpty else { return nil }
        let suggestion = String(decoding: bytes, as: UTF8.self)
        return isValidImageName(suggestion) && suggestion != name ? suggestion : nil
    }

    func parseBase(_ entry: Entry) throws -> BaseSpec {
        let text = try scalar(entry, what: "base", expected: "an image reference, `scratch`, or oci-archive:PATH / docker-archive:PATH")
        let here = valueLocation(entry)
        if text == "scratch" { return .scratch }
        for (transport, isOCI) in [("oci-archive:", true), ("docker-archive:", false)] where text.hasPrefix(transport) {
            let rest = text.dropFirst(transport.count)
            // skopeo's syntax: the path ends at the first ':'.
            let pathPart: Substring
            var reference: String?
            if let colon = rest.firstIndex(of: ":") {
                pathPart = rest[..<colon]
                reference = String(rest[rest.index(after: colon)...])
            } else {
                pathPart = rest
            }
            guard !pathPart.isEmpty else {
                throw StackFileError(location: here, message: "base '\(text)' has no archive path",
                                     hint: "write \(transport)PATH[:REF], such as \(transport)./base.tar")
            }
            if let ref = reference {
                try validateArchiveReference(ref, in: text, transport: transport, isOCI: isOCI, at: here)
            }
            let raw = String(pathPart)
            let path = StackPaths.absolute(raw, relativeTo: directory)
            let kind = try checkPath(raw: raw, absolute: path, what: "base archive", at: here)
            try confine(raw: raw, absolute: path, what: "base archive", at: here)
            guard kind == .file else {
                throw StackFileError(location: here, message: "base archive '\(raw)' is a directory (\(path))",
                                     hint: "\(transport) takes a tar file, such as one written by `skopeo copy … \(transport)FILE`"
                                        + (isOCI ? "" : " or `docker save`"))
            }
            return isOCI ? .ociArchive(path: path, reference: reference) : .dockerArchive(path: path, reference: reference)
        }
        do {
            _ = try ImageReference(parsing: text)
        } catch {
            let transports = ["docker://", "docker-daemon:", "containers-storage:", "oci:", "dir:"]
            if let transport = transports.first(where: { text.hasPrefix($0) }) {
                throw StackFileError(location: here, message: "base '\(text)' uses the unsupported transport '\(transport)'",
                                     hint: "use an image in the local store (pull or load it first), oci-archive:PATH or docker-archive:PATH")
            }
            throw StackFileError(location: here, message: "invalid base image reference '\(text)': \(Self.reason(error))",
                                 hint: "use `scratch`, a reference such as alpine:3.20, or oci-archive:PATH / docker-archive:PATH")
        }
        return .store(text)
    }

    func validateArchiveReference(_ ref: String, in text: String, transport: String, isOCI: Bool,
                                          at here: SourceLocation) throws {
        guard !ref.isEmpty else {
            throw StackFileError(location: here, message: "base '\(text)' has an empty reference after ':'",
                                 hint: "remove the trailing ':' or name the image to use, such as \(transport)PATH:latest")
        }
        if isOCI {
            guard ref.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value != 0x7f }) else {
                throw StackFileError(location: here, message: "base '\(text)' has an invalid reference '\(ref)'",
                                     hint: "the reference is the image's org.opencontainers.image.ref.name, such as 'latest'")
            }
            return
        }
        if ref.hasPrefix("@") {
            guard ref.count > 1, ref.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw StackFileError(location: here, message: "base '\(text)' has an invalid image index '\(ref)'",
                                     hint: "use @N, such as @0 for the first image in the archive")
            }
            return
        }
        do {
            _ = try ImageReference(parsing: ref)
        } catch {
            throw StackFileError(location: here, message: "invalid reference '\(ref)' in base '\(text)': \(Self.reason(error))",
                                 hint: "name the image as `docker save` recorded it, such as busybox:latest, or use @N")
        }
    }

    /// The tags, each with where it is written.
    func parseTags(_ entry: Entry, image: String) throws -> ([ImageReference], [SourceLocation]) {
        let items = try sequence(entry, what: "tags", expected: "a list of image references",
                                 scalarHint: { "write `tags: [\($0)]`" })
        guard !items.isEmpty else {
            throw StackFileError(location: valueLocation(entry), message: "`tags` of image '\(image)' is empty",
                                 hint: "list at least one reference, or remove `tags:` to use '\(image):latest'")
        }
        var tags: [ImageReference] = []
        var locations: [SourceLocation] = []
        var seen: [ImageReference: SourceLocation] = [:]
        for item in items {
            let text = try itemString(item, what: "tags", expected: "an image reference")
            let reference: ImageReference
            do {
                reference = try ImageReference(parsing: text)
            } catch {
                throw StackFileError(location: location(item), message: "invalid tag '\(text)': \(Self.reason(error))",
                                     hint: "write tags as NAME[:TAG], such as \(image):1.0 or registry.example.com/team/\(image):1.0")
            }
            if let first = seen[reference] {
                throw StackFileError(location: location(item), message: "tag '\(text)' is listed twice",
                                     hint: "it is already listed at \(first) (as \(reference)); remove one of them")
            }
            seen[reference] = location(item)
            tags.append(reference)
            locations.append(location(item))
        }
        return (tags, locations)
    }

    func parsePlatform(_ entry: Entry) throws -> Platform {
        let text = try scalar(entry, what: "platform", expected: "a platform such as linux/amd64")
        do {
            return try Platform(parsing: text)
        } catch {
            throw StackFileError(location: valueLocation(entry), message: "\(error)",
                                 hint: "or leave `platform:` out to build for this machine (\(Platform.host))")
        }
    }

    func parseCompression(_ entry: Entry) throws -> Compression {
        let names = Compression.allCases.map(\.rawValue)
        let text = try scalar(entry, what: "compression", expected: "one of \(Suggestions.list(names, conjunction: "or"))")
        if let compression = Compression(rawValue: text) { return compression }
        if let compression = Compression(rawValue: text.lowercased()) { return compression }
        let hint = Suggestions.closest(to: text, in: names).map { "did you mean '\($0)'?" }
            ?? "use \(Suggestions.list(["gzip", "zstd", "none"], quote: "", conjunction: "or"))"
        throw StackFileError(location: valueLocation(entry), message: "unknown compression '\(text)'", hint: hint)
    }

    // MARK: - Layers

    func parseLayers(_ entry: Entry, image: String) throws -> [LayerSpec] {
        let items = try sequence(entry, what: "layers", expected: "a list of mappings",
                                 scalarHint: { _ in "write each layer as `- source: PATH` with `destination: /PATH` under it" })
        var layers: [LayerSpec] = []
        for (index, item) in items.enumerated() {
            layers.append(try parseLayer(item, number: index + 1, image: image))
        }
        return layers
    }

    func parseLayer(_ node: Node, number: Int, image: String) throws -> LayerSpec {
        let context = "in layer \(number) of image '\(image)'"
        guard case let .mapping(mapping) = node else {
            throw StackFileError(location: location(node),
                                 message: "layer \(number) of image '\(image)' must be a mapping with `source:` and `destination:`, found \(describe(node))",
                                 hint: "write `- source: PATH` with `destination: /PATH` under it")
        }
        let here = location(node)
        var source: (path: String, kind: StackPaths.Kind, entry: Entry)?
        var destination: (path: String, entry: Entry)?
        var mode: (value: UInt32, entry: Entry)?
        var treeOnly: Entry?  // the first of `follow_symlinks:` and `exclude:`
        var layer = LayerSpec(location: here, source: "", destination: "/")
        // Empty optional keys count as absent; empty `source:`/`executable:`/`destination:` are type errors.
        for field in try entries(of: mapping, context: context, allowed: Self.layerKeys)
        where !isNull(field.value) || ["source", "executable", "destination"].contains(field.key) {
            switch field.key {
            case "source", "executable":
                if let other = source {
                    throw StackFileError(location: location(field.keyNode),
                                         message: "layer \(number) of image '\(image)' has both `\(other.entry.key):` and `\(field.key):`",
                                         hint: "a layer has exactly one of them: `source:` copies files as they are, `executable:` adds a program with the shared libraries it needs; split it into two layers")
                }
                let isExecutable = field.key == "executable"
                let what = isExecutable ? "executable" : "layer source"
                let raw = try scalar(field, what: field.key,
                                     expected: isExecutable ? "the path of an ELF program" : "the path of a file or directory")
                let at = valueLocation(field)
                guard !raw.isEmpty else {
                    throw StackFileError(location: at, message: "\(what) is empty",
                                         hint: "give the path of \(isExecutable ? "a program" : "a file or directory"), relative to \(directory)")
                }
                let path = StackPaths.absolute(raw, relativeTo: directory)
                let kind = try checkPath(raw: raw, absolute: path, what: what, at: at)
                try confine(raw: raw, absolute: path, what: what, at: at)
                layer.sourceLocation = at
                if isExecutable, kind == .directory {
                    throw StackFileError(location: at, message: "executable '\(raw)' is a directory (\(path))",
                                         hint: "give the path of the program file itself, or use `source:` to copy a directory")
                }
                source = (path, kind, field)
                layer.kind = isExecutable ? .executable : .tree
            case "destination":
                let raw = try scalar(field, what: "destination", expected: "an absolute path inside the image")
                destination = (try absolutePath(raw, what: "layer destination", at: valueLocation(field)), field)
            case "mode":
                mode = (try parseMode(field), field)
            case "follow_symlinks":
                layer.followSymlinks = try bool(field, what: "follow_symlinks")
                treeOnly = treeOnly ?? field
            case "exclude":
                layer.exclude = try parseExclude(field)
                treeOnly = treeOnly ?? field
            case "comment":
                layer.comment = try scalar(field, what: "comment", expected: "a string")
            default:
                break
            }
        }
        guard let source else {
            throw StackFileError(location: here, message: "missing key 'source' \(context)",
                                 hint: "add `source: PATH`, the file or directory on this machine to copy into the image (or `executable: PATH` for a program and its shared libraries)")
        }
        guard let destination else {
            if layer.kind == .executable {
                throw StackFileError(location: here, message: "missing key 'destination' \(context)",
                                     hint: "add `destination: /PATH`, the program's path inside the image, such as /usr/local/bin/\((source.path as NSString).lastPathComponent)")
            }
            throw StackFileError(location: here, message: "missing key 'destination' \(context)",
                                 hint: "add `destination: /PATH`, where the source goes inside the image")
        }
        if let mode, source.kind == .directory {
            throw StackFileError(location: valueLocation(mode.entry),
                                 message: "`mode` applies only to a single-file source, but layer \(number)'s source is a directory",
                                 hint: "remove `mode:`, or set the permissions on the files themselves")
        }
        if layer.kind == .executable {
            if let treeOnly {
                throw StackFileError(location: location(treeOnly.keyNode),
                                     message: "`\(treeOnly.key)` applies only to `source:` layers, not to an executable",
                                     hint: "remove it; an executable layer holds the program, its interpreter and its libraries, with symlinks followed")
            }
            if destination.path == "/" {
                throw StackFileError(location: valueLocation(destination.entry),
                                     message: "the destination of an executable is the program's path inside the image, not '/'",
                                     hint: "write a file path such as /usr/local/bin/\((source.path as NSString).lastPathComponent)")
            }
        }
        layer.source = source.path
        layer.destination = destination.path
        layer.mode = mode?.value
        return layer
    }

    /// Reads a mode as octal, like chmod: `0755`, `"0755"`, `755` and `0o755` are all rwxr-xr-x.
    func parseMode(_ entry: Entry) throws -> UInt32 {
        let text = try scalar(entry, what: "mode", expected: "an octal mode such as 0755")
        var digits = Substring(text)
        if digits.hasPrefix("0o") || digits.hasPrefix("0O") { digits = digits.dropFirst(2) }
        guard !digits.isEmpty, digits.allSatisfy({ ("0"..."7").contains($0) }) else {
            throw StackFileError(location: valueLocation(entry), message: "invalid mode '\(text)': modes are octal (digits 0 to 7)",
                                 hint: "write it like chmod does, such as 0755 or 0644")
        }
        let trimmed = digits.drop(while: { $0 == "0" })
        guard trimmed.count <= 4, let value = UInt32(trimmed.isEmpty ? "0" : String(trimmed), radix: 8), value <= 0o7777 else {
            throw StackFileError(location: valueLocation(entry), message: "mode '\(text)' is out of range",
                                 hint: "use at most four octal digits (up to 07777), such as 0755")
        }
        return value
    }

    func parseExclude(_ entry: Entry) throws -> [String] {
        let items = try sequence(entry, what: "exclude", expected: "a list of glob patterns",
                                 scalarHint: { "write `exclude: [\"\($0)\"]`" })
        return try items.map { item in
            let pattern = try itemString(item, what: "exclude", expected: "a glob pattern")
            guard !pattern.isEmpty else {
                throw StackFileError(location: location(item), message: "empty pattern in `exclude`",
                                     hint: "remove it, or write a glob such as \"*.tmp\"")
            }
            if pattern.hasPrefix("/") {
                let relative = String(pattern.drop(while: { $0 == "/" }))
                throw StackFileError(location: location(item),
                                     message: "exclude pattern '\(pattern)' is absolute, but patterns are relative to the layer source",
                                     hint: relative.isEmpty ? "remove it" : "write '\(relative)'")
            }
            return pattern
        }
    }

    // MARK: - Config

    /// `test: {port: 80, command: [sh, -c, "curl …"], timeout: 30}`.
    func parseTest(_ entry: Entry, image: String) throws -> ImageTestSpec {
        guard case let .mapping(mapping) = entry.value else {
            throw typeError(entry, what: "test", expected: "a mapping with `port:` and `command:`",
                            hint: "write `test: {port: 80, command: [sh, -c, \"curl -fsS http://$STACKSHIP_TEST_HOST:$STACKSHIP_TEST_PORT/\"]}`")
        }
        let context = "in the test of image '\(image)'"
        var port: Int?
        var command: [String]?
        var timeout = 30.0
        for field in try entries(of: mapping, context: context, allowed: Self.testKeys) where !isNull(field.value) {
            switch field.key {
            case "port":
                let text = try scalar(field, what: "port", expected: "a port number from 1 to 65535")
                guard text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text.count > 5 ? "99999" : text), (1...65535).contains(value) else {
                    throw StackFileError(location: valueLocation(field), message: "invalid test port '\(text)' \(context)",
                                         hint: "give the container port the test waits for, a number from 1 to 65535, such as 80")
                }
                port = value
            case "command":
                let value = try self.command(field, what: "command")
                guard !value.isEmpty else {
                    throw StackFileError(location: valueLocation(field), message: "empty test command \(context)",
                                         hint: "give the program and its arguments, such as [sh, -c, \"curl -fsS http://$STACKSHIP_TEST_HOST:$STACKSHIP_TEST_PORT/\"]")
                }
                command = value
            case "timeout":
                let text = try scalar(field, what: "timeout", expected: "a number of seconds")
                guard let value = Double(text), value > 0, value.isFinite else {
                    throw StackFileError(location: valueLocation(field), message: "invalid test timeout '\(text)' \(context)",
                                         hint: "give a positive number of seconds, such as 30")
                }
                timeout = value
            default: break
            }
        }
        guard let port else {
            throw StackFileError(location: location(entry.keyNode), message: "missing key 'port' \(context)",
                                 hint: "add the container port the test waits for, such as `port: 80`")
        }
        guard let command else {
            throw StackFileError(location: location(entry.keyNode), message: "missing key 'command' \(context)",
                                 hint: "add the command run on this machine once the port answers, such as `command: [sh, -c, \"curl -fsS http://$STACKSHIP_TEST_HOST:$STACKSHIP_TEST_PORT/\"]`")
        }
        return ImageTestSpec(port: port, command: command, timeout: timeout)
    }

    func parseConfig(_ entry: Entry) throws -> ConfigSpec {
        guard case let .mapping(mapping) = entry.value else {
            throw typeError(entry, what: "config", expected: "a mapping of settings such as `entrypoint:` and `env:`")
        }
        var config = ConfigSpec()
        for field in try entries(of: mapping, context: "in config", allowed: Self.configKeys) where !isNull(field.value) {
            switch field.key {
            case "entrypoint": config.entrypoint = try command(field, what: "entrypoint")
            case "cmd": config.cmd = try command(field, what: "cmd")
            case "env": config.env = try parseEnv(field)
            case "workdir":
                let raw = try scalar(field, what: "workdir", expected: "an absolute path inside the image")
                config.workdir = try absolutePath(raw, what: "workdir", at: valueLocation(field))
            case "user": config.user = try parseUser(field)
            case "exposed_ports": config.exposedPorts = try parsePorts(field)
            case "labels": config.labels = try stringMapping(field, what: "labels")
            case "stop_signal": config.stopSignal = try parseStopSignal(field)
            case "volumes": config.volumes = try parseVolumes(field)
            default: break
            }
        }
        return config
    }

    /// A list of strings, or a string run by `/bin/sh -c` (Docker's shell form).
    func command(_ entry: Entry, what: String) throws -> [String] {
        switch entry.value {
        case let .scalar(scalar):
            return ["/bin/sh", "-c", scalar.string]
        case let .sequence(sequence):
            return try sequence.map { try itemString($0, what: what, expected: "a string") }
        default:
            throw typeError(entry, what: what, expected: "a list of strings or a string",
                            hint: "write `\(what): [/path/to/program, arg]`, or a string to run with /bin/sh -c")
        }
    }

    func parseEnv(_ entry: Entry) throws -> [EnvVar] {
        var env: [EnvVar] = []
        switch entry.value {
        case let .mapping(mapping):
            for variable in try entries(of: mapping, context: "in env", allowed: nil) {
                try validateEnvName(variable.key, at: location(variable.keyNode))
                let value: String
                switch variable.value {
                case let .scalar(scalar): value = isNull(variable.value) ? "" : scalar.string
                default:
                    throw typeError(variable, what: variable.key, expected: "a string", subject: "environment variable",
                                    hint: "quote the value, such as \(variable.key): \"...\"")
                }
                env.append(EnvVar(name: variable.key, value: value))
            }
        case let .sequence(sequence):
            var seen: [String: SourceLocation] = [:]
            for item in sequence {
                let text = try itemString(item, what: "env", expected: "a NAME=VALUE string")
                guard let equals = text.firstIndex(of: "=") else {
                    throw StackFileError(location: location(item), message: "env entry '\(text)' has no '='",
                                         hint: "write \(text)=VALUE (\(text)= for an empty value)")
                }
                let name = String(text[..<equals])
                try validateEnvName(name, at: location(item))
                if let first = seen[name] {
                    throw StackFileError(location: location(item), message: "environment variable '\(name)' is set twice",
                                         hint: "it is already set at \(first); remove one of them")
                }
                seen[name] = location(item)
                env.append(EnvVar(name: name, value: String(text[text.index(after: equals)...])))
            }
        default:
            throw typeError(entry, what: "env", expected: "a mapping of NAME: VALUE or a list of NAME=VALUE strings",
                            hint: "write `env: {NAME: value}` or `env: [NAME=value]`")
        }
        return env
    }

    func validateEnvName(_ name: String, at here: SourceLocation) throws {
        let bytes = Array(name.utf8)
        func isNameByte(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || c == UInt8(ascii: "_")
        }
        let valid = bytes.first.map(isNameByte) == true
            && bytes.allSatisfy { isNameByte($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) }
        guard valid else {
            throw StackFileError(location: here, message: "invalid environment variable name '\(name)'",
                                 hint: "names use letters, digits and '_' and do not start with a digit, such as HTTP_PORT")
        }
    }

    func parseUser(_ entry: Entry) throws -> String {
        let text = try scalar(entry, what: "user", expected: "a user such as 65534, 65534:65534 or nobody")
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let valid = (1...2).contains(parts.count) && parts.allSatisfy { part in
            !part.isEmpty && part.unicodeScalars.allSatisfy { !CharacterSet.whitespacesAndNewlines.contains($0) && $0.value >= 0x20 && $0 != "/" }
                && (!part.allSatisfy(\.isNumber) || UInt32(part) != nil)
        }
        guard valid else {
            throw StackFileError(location: valueLocation(entry), message: "invalid user '\(text)'",
                                 hint: "use UID, UID:GID, NAME or NAME:GROUP, such as 65534:65534 or nobody")
        }
        return text
    }

    func parsePorts(_ entry: Entry) throws -> [String] {
        let items = try sequence(entry, what: "exposed_ports", expected: "a list of ports",
                                 scalarHint: { "write `exposed_ports: [\($0)]`" })
        var ports: [String] = []
        var seen: [String: SourceLocation] = [:]
        for item in items {
            let text = try itemString(item, what: "exposed_ports", expected: "a port such as 80 or 53/udp")
            let here = location(item)
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count) else {
                throw StackFileError(location: here, message: "invalid port '\(text)'", hint: "write PORT or PORT/PROTOCOL, such as 80 or 53/udp")
            }
            let proto = parts.count == 2 ? parts[1].lowercased() : "tcp"
            guard ["tcp", "udp", "sctp"].contains(proto) else {
                throw StackFileError(location: here, message: "unknown protocol '\(parts[1])' in port '\(text)'",
                                     hint: "use tcp, udp or sctp, such as 53/udp")
            }
            let number = parts[0]
            if number.contains("-") {
                throw StackFileError(location: here, message: "port ranges such as '\(text)' are not supported",
                                     hint: "list each port on its own")
            }
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw StackFileError(location: here, message: "invalid port '\(text)'",
                                     hint: "a port is a number from 1 to 65535, optionally followed by /tcp, /udp or /sctp")
            }
            guard let port = Int(number.count > 5 ? "99999" : number), (1...65535).contains(port) else {
                throw StackFileError(location: here, message: "port \(number) is out of range", hint: "ports are 1 to 65535")
            }
            let normalised = "\(port)/\(proto)"
            if let first = seen[normalised] {
                throw StackFileError(location: here, message: "port \(normalised) is listed twice",
                                     hint: "it is already listed at \(first); remove one of them")
            }
            seen[normalised] = here
            ports.append(normalised)
        }
        return ports
    }

    /// Linux signal names without the SIG prefix (as moby accepts them).
    static let signalNames: [String] = {
        var names = ["HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "IOT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
                     "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
                     "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "POLL", "PWR", "SYS", "RTMIN", "RTMAX"]
        names += (1...15).map { "RTMIN+\($0)" }
        names += (1...14).map { "RTMAX-\($0)" }
        return names
    }()

    func parseStopSignal(_ entry: Entry) throws -> String {
        let text = try scalar(entry, what: "stop_signal", expected: "a signal such as SIGTERM or 15")
        let here = valueLocation(entry)
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let number = Int(text.count > 3 ? "999" : text), (1...64).contains(number) else {
                throw StackFileError(location: here, message: "stop signal \(text) is out of range",
                                     hint: "signal numbers are 1 to 64; or use a name such as SIGTERM")
            }
            return String(number)
        }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if Self.signalNames.contains(name) { return "SIG" + name }
        let candidates = Self.signalNames.map { "SIG" + $0 }
        let hint = Suggestions.closest(to: "SIG" + name, in: candidates).map { "did you mean '\($0)'?" }
            ?? "use a name such as SIGTERM, SIGINT or SIGQUIT, or a number from 1 to 64"
        throw StackFileError(location: here, message: "unknown stop signal '\(text)'", hint: hint)
    }

    func parseVolumes(_ entry: Entry) throws -> [String] {
        let items = try sequence(entry, what: "volumes", expected: "a list of absolute paths",
                                 scalarHint: { "write `volumes: [\($0)]`" })
        var volumes: [String] = []
        var seen: [String: SourceLocation] = [:]
        for item in items {
            let raw = try itemString(item, what: "volumes", expected: "an absolute path")
            let path = try absolutePath(raw, what: "volume", at: location(item))
            if let first = seen[path] {
                throw StackFileError(location: location(item), message: "volume \(path) is listed twice",
                                     hint: "it is already listed at \(first); remove one of them")
            }
            seen[path] = location(item)
            volumes.append(path)
        }
        return volumes
    }

    // MARK: - Paths

    /// Normalises an absolute path inside the image, rejecting relative paths and `..`.
    func absolutePath(_ raw: String, what: String, at here: SourceLocation) throws -> String {
        guard !raw.isEmpty else {
            throw StackFileError(location: here, message: "\(what) is empty", hint: "give an absolute path inside the image, such as /app")
        }
        guard !raw.contains("\0") else {
            throw StackFileError(location: here, message: "\(what) '\(raw)' contains a NUL character", hint: "remove it")
        }
        guard raw.hasPrefix("/") else {
            let fixed = StackPaths.normalise("/" + raw)
            throw StackFileError(location: here, message: "\(what) '\(raw)' is not an absolute path",
                                 hint: "paths inside the image start with '/', such as '\(fixed)'")
        }
        let components = raw.split(separator: "/").filter { $0 != "." }
        if components.contains("..") {
            let resolved = StackPaths.normalise(raw)
            let escapes = StackPaths.escapesRoot(raw)
            throw StackFileError(location: here, message: "\(what) '\(raw)' contains '..'",
                                 hint: escapes ? "remove the '..' components" : "write the path without '..', such as '\(resolved)'")
        }
        return "/" + components.joined(separator: "/")
    }

    /// Checks that a source on the build host exists and can be read.
    func checkPath(raw: String, absolute: String, what: String, at here: SourceLocation) throws -> StackPaths.Kind {
        switch StackPaths.inspect(absolute) {
        case let .ok(kind):
            return kind
        case .missing:
            throw StackFileError(location: here, message: "\(what) '\(raw)' does not exist (looked for \(absolute))",
                                 hint: "fix the path, or build it first (relative paths resolve against \(directory))")
        case let .brokenSymlink(target):
            throw StackFileError(location: here,
                                 message: "\(what) '\(raw)' is a broken symlink (\(absolute) points to '\(target)', which does not exist)",
                                 hint: "fix the link, or build its target first")
        case .symlinkLoop:
            throw StackFileError(location: here, message: "\(what) '\(raw)' is a symlink loop (\(absolute))",
                                 hint: "fix or remove the link")
        case .unreadable(let isDirectory):
            throw StackFileError(location: here, message: "cannot read \(what) '\(raw)' (permission denied)",
                                 hint: "make it readable, such as with `chmod \(isDirectory ? "a+rX" : "a+r") \(absolute)`")
        case .unsearchable:
            throw StackFileError(location: here,
                                 message: "cannot reach \(what) '\(raw)' (permission denied on a directory leading to \(absolute))",
                                 hint: "make the directories on the way searchable (chmod a+x)")
        case .notFileOrDirectory:
            throw StackFileError(location: here, message: "\(what) '\(raw)' is not a regular file or directory (\(absolute))",
                                 hint: "point it at a file or a directory")
        case let .error(code):
            throw StackFileError(location: here, message: "cannot access \(what) '\(raw)' (\(String(cString: strerror(code))))",
                                 hint: "check the path \(absolute)")
        }
    }

    // MARK: - Node helpers

    /// A key and its value in a mapping, with the key as the user wrote it.
    struct Entry {
        let key: String
        let keyNode: Node
        let value: Node
    }

    /// The entries of `mapping` in file order, after checking keys: they must be strings, appear
    /// once, and (when `allowed` is given) be known. `<<` merge keys are expanded; explicit keys
    /// win over merged ones. With `allowsExtensions`, keys starting with `x-` are let through
    /// (a place for YAML anchors), for the caller to ignore.
    func entries(of mapping: Node.Mapping, context: String, allowed: [String]?,
                         allowsExtensions: Bool = false) throws -> [Entry] {
        var result: [Entry] = []
        var merged: [Entry] = []
        var seen: [String: SourceLocation] = [:]
        for (keyNode, value) in mapping {
            guard case let .scalar(scalar) = keyNode else {
                throw StackFileError(location: location(keyNode), message: "keys \(context) must be strings, found \(describe(keyNode))",
                                     hint: "write a plain key followed by ':'")
            }
            if tagName(keyNode) == .merge {
                merged += try mergeEntries(value, context: context, allowed: allowed, allowsExtensions: allowsExtensions)
                continue
            }
            let key = renamedKeys[scalar.string] ?? scalar.string
            if let first = seen[key] {
                throw StackFileError(location: location(keyNode), message: "duplicate key '\(key)' \(context)",
                                     hint: "it is already set at \(first); remove one of them")
            }
            seen[key] = location(keyNode)
            if let allowed, !allowed.contains(key), !(allowsExtensions && key.hasPrefix("x-")) {
                let hint = Suggestions.closest(to: key, in: allowed).map { "did you mean '\($0)'?" }
                    ?? "valid keys are \(Suggestions.list(allowed))"
                throw StackFileError(location: location(keyNode), message: "unknown key '\(key)' \(context)", hint: hint)
            }
            result.append(Entry(key: key, keyNode: keyNode, value: value))
        }
        for entry in merged where seen[entry.key] == nil {
            seen[entry.key] = location(entry.keyNode)
            result.append(entry)
        }
        return result
    }

    func mergeEntries(_ value: Node, context: String, allowed: [String]?, allowsExtensions: Bool) throws -> [Entry] {
        switch value {
        case let .mapping(mapping):
            return try entries(of: mapping, context: context, allowed: allowed, allowsExtensions: allowsExtensions)
        case let .sequence(sequence):
            if let bad = sequence.first(where: { $0.mapping == nil }) {
                throw StackFileError(location: location(bad), message: "`<<` merges mappings, found \(describe(bad))",
                                     hint: "merge anchored mappings, such as `<<: [*defaults, *more]`")
            }
            var result: [Entry] = []
            for case let .mapping(mapping) in sequence {
                for entry in try entries(of: mapping, context: context, allowed: allowed, allowsExtensions: allowsExtensions)
                where !result.contains(where: { $0.key == entry.key }) {
                    result.append(entry)
                }
            }
            return result
        default:
            throw StackFileError(location: location(value), message: "`<<` merges mappings, found \(describe(value))",
                                 hint: "merge an anchored mapping, such as `<<: *defaults`")
        }
    }

    /// The value of `entry` as a string; it must be a scalar and not null.
    func scalar(_ entry: Entry, what: String, expected: String) throws -> String {
        guard case let .scalar(scalar) = entry.value, !isNull(entry.value) else {
            throw typeError(entry, what: what, expected: expected)
        }
        return scalar.string
    }

    /// A list item as a string; it must be a scalar and not null.
    func itemString(_ node: Node, what: String, expected: String) throws -> String {
        guard case let .scalar(scalar) = node, !isNull(node) else {
            throw StackFileError(location: location(node), message: "each entry in `\(what)` must be \(expected), found \(describe(node))",
                                 hint: describe(node) == "nothing" ? "remove the empty entry" : "write it as a plain or quoted string")
        }
        return scalar.string
    }

    func bool(_ entry: Entry, what: String) throws -> Bool {
        guard tagName(entry.value) == .bool, let value = entry.value.bool else {
            throw typeError(entry, what: what, expected: "true or false")
        }
        return value
    }

    /// The items of a list value; a scalar gets `scalarHint` (given the scalar's text).
    func sequence(_ entry: Entry, what: String, expected: String,
                          scalarHint: (String) -> String) throws -> [Node] {
        switch entry.value {
        case let .sequence(sequence):
            return Array(sequence)
        case let .scalar(scalar) where !isNull(entry.value):
            throw typeError(entry, what: what, expected: expected, hint: scalarHint(scalar.string))
        default:
            throw typeError(entry, what: what, expected: expected)
        }
    }

    /// A mapping of strings to strings (labels, annotations); scalar values are taken as written,
    /// empty values are empty strings.
    func stringMapping(_ entry: Entry, what: String) throws -> [String: String] {
        guard case let .mapping(mapping) = entry.value else {
            throw typeError(entry, what: what, expected: "a mapping of names to strings",
                            hint: "write `\(what): {name: value}`")
        }
        var result: [String: String] = [:]
        for item in try entries(of: mapping, context: "in \(what)", allowed: nil) {
            guard !item.key.isEmpty else {
                throw StackFileError(location: location(item.keyNode), message: "empty name in `\(what)`", hint: "give it a name")
            }
            guard case let .scalar(scalar) = item.value else {
                throw typeError(item, what: item.key, expected: "a string", subject: String(what.dropLast()),
                                hint: "quote the value")
            }
            result[item.key] = isNull(item.value) ? "" : scalar.string
        }
        return result
    }

    func typeError(_ entry: Entry, what: String, expected: String, subject: String? = nil,
                           hint: String? = nil) -> StackFileError {
        let name = subject.map { "\($0) '\(what)'" } ?? "`\(what)`"
        return StackFileError(location: valueLocation(entry), message: "\(name) must be \(expected), found \(describe(entry.value))",
                              hint: hint)
    }

    /// The node's resolved tag (`!!str`, `!!int`, `!!null`, …).
    func tagName(_ node: Node) -> Tag.Name {
        Tag.Name(rawValue: node.tag.rawValue)
    }

    func isNull(_ node: Node) -> Bool {
        if case .scalar = node { return tagName(node) == .null }
        return false
    }

    /// "a string", "a list", … for messages.
    func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar:
            switch tagName(node) {
            case .null: return "nothing"
            case .bool: return "a boolean"
            case .int, .float: return "a number"
            default: return "a string"
            }
        }
    }

    // MARK: - Locations

    func location(line: Int, column: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column)
    }

    func location(_ node: Node) -> SourceLocation {
        guard let mark = node.mark else { return location(line: 1, column: 1) }
        let (line, column) = YAMLComposer.original(line: mark.line, column: mark.column, insertions: insertions)
        return location(line: line, column: column)
    }

    /// The value's location, or the key's when the value is empty (an empty value's mark points
    /// past the end of the line, which is less helpful).
    func valueLocation(_ entry: Entry) -> SourceLocation {
        if case let .scalar(scalar) = entry.value, scalar.string.isEmpty, isNull(entry.value) {
            return location(entry.keyNode)
        }
        return location(entry.value)
    }

    /// The reason in an OCI error (without its "invalid image reference 'x':" prefix).
    static func reason(_ error: any Error) -> String {
        if case let OCIError.invalidReference(_, reason) = error { return reason }
        return "\(error)"
    }
}

// MARK: - Composing YAML

/// Turns YAML text into a node tree, turning Yams errors into ``StackFileError``s.
///
/// Yams 6 rejects a mapping with a repeated key while composing, pointing at the *first* use
/// only. To point at the second use (and name the mapping it is in), the composer renames the
/// first use to a unique stand-in, composes again, and lets ``StackFileParser`` find the repeat,
/// mapping the stand-in back to the original key and the marks back to the original text.
struct YAMLComposer {
    /// Text inserted at `line`:`column` (in the text as it was before the insertion).
    struct Insertion {
        let line: Int
        let column: Int
        let length: Int
    }

    /// The result: the root node (nil for an empty document) and how to undo the renaming.
    struct Composed {
        var root: Node?
        var renamedKeys: [String: String] = [:]
        var insertions: [Insertion] = []
    }

    let file: String

    func compose(_ yaml: String) throws -> Composed {
        var composed = Composed()
        var text = yaml
        var firstDuplicate: (key: String, line: Int, column: Int)?
        for attempt in 0..<100 {
            do {
                composed.root = try Yams.compose(yaml: text)
                return composed
            } catch let YamlError.duplicatedKeysInMapping(duplicates, context) {
                let key = duplicates.first ?? "?"
                let original = Self.original(line: context.mark.line, column: context.mark.column, insertions: composed.insertions)
                if firstDuplicate == nil { firstDuplicate = (key, original.line, original.column) }
                guard let (renamed, insertion, stand) = Self.rename(at: context.mark, in: text, attempt: attempt) else { break }
                text = renamed
                composed.insertions.append(insertion)
                composed.renamedKeys[stand + key] = key
            } catch let error as YamlError {
                throw convert(error, text: text, insertions: composed.insertions)
            } catch {
                throw StackFileError(location: SourceLocation(file: file, line: 1, column: 1), message: "invalid YAML: \(error)")
            }
        }
        // Could not find the repeat: point at the first use instead.
        let duplicate = firstDuplicate ?? (key: "?", line: 1, column: 1)
        throw StackFileError(location: SourceLocation(file: file, line: duplicate.line, column: duplicate.column),
                             message: "duplicate key '\(duplicate.key)'",
                             hint: "a key may appear only once in a mapping; this is its first use, remove or rename the other")
    }

    /// Maps a mark in the rewritten text back to the original text.
    static func original(line: Int, column: Int, insertions: [Insertion]) -> (line: Int, column: Int) {
        var column = column
        for insertion in insertions.reversed() where insertion.line == line && column >= insertion.column + insertion.length {
            column -= insertion.length
        }
        return (line, column)
    }

    /// Inserts a stand-in prefix into the key starting at `mark` (after its opening quote if
    /// quoted). Returns nil when the key does not start there as expected.
    static func rename(at mark: Mark, in text: String, attempt: Int) -> (String, Insertion, String)? {
        var stand = "zzStackshipDuplicate\(attempt)z"
        while text.contains(stand) { stand += "z" }
        var scalars = Array(text.unicodeScalars)
        guard let index = scalarIndex(line: mark.line, column: mark.column, in: scalars), index < scalars.count else { return nil }
        var insertAt = index
        var column = mark.column
        switch scalars[index] {
        case "\"", "'":
            insertAt += 1
            column += 1
        case "&", "*", "!", "?", "{", "[", "#", "|", ">", "%", "@", "`", " ", "\t", "\n", "\r":
            return nil
        default:
            break
        }
        scalars.insert(contentsOf: stand.unicodeScalars, at: insertAt)
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars)
        return (String(result), Insertion(line: mark.line, column: column, length: stand.unicodeScalars.count), stand)
    }

    /// The index of the scalar at 1-based `line`:`column`, counting line breaks as libyaml does.
    static func scalarIndex(line: Int, column: Int, in scalars: [Unicode.Scalar]) -> Int? {
        var currentLine = 1
        var i = 0
        while currentLine < line {
            guard i < scalars.count else { return nil }
            let c = scalars[i]
            if c == "\r" {
                if i + 1 < scalars.count, scalars[i + 1] == "\n" { i += 1 }
                currentLine += 1
            } else if c == "\n" || c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}" {
                currentLine += 1
            }
            i += 1
        }
        let target = i + column - 1
        guard target <= scalars.count else { return nil }
        for j in i..<target where ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains(scalars[j]) { return nil }
        return target
    }

    /// The 1-based line and column of the `offset`-th character.
    static func position(ofCharacter offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for (i, character) in text.enumerated() {
            if i >= offset { break }
            if character.isNewline { line += 1; column = 1 } else { column += character.unicodeScalars.count }
        }
        return (line, column)
    }

    func convert(_ error: YamlError, text: String, insertions: [Insertion]) -> StackFileError {
        func at(_ mark: Mark) -> SourceLocation {
            let (line, column) = Self.original(line: mark.line, column: mark.column, insertions: insertions)
            return SourceLocation(file: file, line: line, column: column)
        }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            var message = "invalid YAML: \(problem)"
            if let context {
                let where_ = at(context.mark)
                message += " (\(context.text) at line \(where_.line), column \(where_.column))"
            }
            return StackFileError(location: at(mark), message: message, hint: hint(problem: problem, mark: mark, text: text))
        case let .reader(problem, offset, _, _):
            let (line, column) = offset.map { Self.position(ofCharacter: $0, in: text) } ?? (1, 1)
            let original = Self.original(line: line, column: column, insertions: insertions)
            return StackFileError(location: SourceLocation(file: file, line: original.line, column: original.column),
                                  message: "invalid YAML: \(problem)",
                                  hint: "remove the character, or save the file as UTF-8 text")
        default:
            return StackFileError(location: SourceLocation(file: file, line: 1, column: 1), message: "invalid YAML: \(error)")
        }
    }

    func hint(problem: String, mark: Mark, text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        if let index = Self.scalarIndex(line: mark.line, column: mark.column, in: scalars) {
            var lineStart = index
            while lineStart > 0, !["\n", "\r"].contains(scalars[lineStart - 1]) { lineStart -= 1 }
            if scalars[lineStart..<min(index + 1, scalars.count)].contains("\t") {
                return "indent with spaces: YAML does not allow tabs for indentation"
            }
        }
        switch problem {
        case let p where p.contains("mapping values are not allowed"):
            return "quote values that contain ': ', or check that this key is not indented too far"
        case let p where p.contains("could not find expected ':'"):
            return "each key needs a ':' after it; check for a missing colon or an unclosed quote"
        case let p where p.contains("did not find expected key"):
            return "check the indentation: keys of the same mapping must line up"
        case let p where p.contains("did not find expected '-' indicator"):
            return "check the indentation: items of the same list must line up"
        case let p where p.contains("undefined alias"):
            return "define the anchor (&name) before using it (*name)"
        case let p where p.contains("another document"):
            return "a stack file holds a single YAML document; remove the extra '---'"
        case let p where p.contains("found character that cannot start any token"):
            return "quote values that start with '@' or '`'"
        default:
            return "check the indentation and quoting around this line"
        }
    }
}

// MARK: - Host paths

/// Lexical path handling and file checks for paths on the build host.
enum StackPaths {
    /// What a checked path is.
    enum Kind: Equatable { case file, directory }

    /// The outcome of ``inspect(_:)``.
    enum Inspection: Equatable {
        case ok(Kind)
        case missing
        case brokenSymlink(target: String)
        case symlinkLoop
        case unreadable(isDirectory: Bool)
        case unsearchable
        case notFileOrDirectory
        case error(Int32)
    }

    /// `path` made absolute against `base`, then normalised.
    static func absolute(_ path: String, relativeTo base: String) -> String {
        normalise(path.hasPrefix("/") ? path : base + "/" + path)
    }

    /// The directory containing the absolute `path`.
    static func parent(of path: String) -> String {
        var components = normalise(path).split(separator: "/")
        guard !components.isEmpty else { return "/" }
        components.removeLast()
        return "/" + components.joined(separator: "/")
    }

    /// Resolves `.`, `..` and repeated slashes lexically; `..` at the root stays at the root.
    static func normalise(_ path: String) -> String {
        let clean = FileIO.standardize("/" + path)
        return path.hasPrefix("/") ? clean : String(clean.dropFirst())
    }

    /// Whether `..` components climb above the root of the absolute `path`.
    static func escapesRoot(_ path: String) -> Bool {
        var depth = 0
        for component in path.split(separator: "/") where component != "." {
            depth += component == ".." ? -1 : 1
            if depth < 0 { return true }
        }
        return false
    }

    private static let typeMask: mode_t = 0o170000
    private static let directoryType: mode_t = 0o040000
    private static let regularType: mode_t = 0o100000
    private static let symlinkType: mode_t = 0o120000

    /// Checks that `path` exists (following symlinks) and is a readable file or directory.
    ///
    /// Readability is checked with `access(R_OK)` (plus `X_OK` for directories). Root passes every
    /// `access` check, so as root a path whose permission bits grant read to nobody (such as mode
    /// 000) is reported unreadable too: a build that depends on root overriding permissions is
    /// almost always a mistake, and fails for anyone else.
    static func inspect(_ path: String) -> Inspection {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR:
                var linkInfo = stat()
                if lstat(path, &linkInfo) == 0, linkInfo.st_mode & typeMask == symlinkType {
                    let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
                    return .brokenSymlink(target: target)
                }
                return .missing
            case ELOOP: return .symlinkLoop
            case EACCES: return .unsearchable
            default: return .error(code)
            }
        }
        let type = info.st_mode & typeMask
        let kind: Kind
        switch type {
        case directoryType: kind = .directory
        case regularType: kind = .file
        default: return .notFileOrDirectory
        }
        let wanted = kind == .directory ? R_OK | X_OK : R_OK
        if access(path, wanted) != 0 { return .unreadable(isDirectory: kind == .directory) }
        if geteuid() == 0, info.st_mode & 0o444 == 0 { return .unreadable(isDirectory: kind == .directory) }
        return .ok(kind)
    }

    /// The 1-based line and column of the first byte of `data` that is not valid UTF-8.
    static func position(ofFirstInvalidUTF8In data: Data) -> (line: Int, column: Int) {
        var iterator = data.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var line = 1
        var column = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case let .valid(encoded):
                if Unicode.UTF8.decode(encoded) == "\n" { line += 1; column = 1 } else { column += 1 }
            case .emptyInput, .error:
                return (line, column)
            }
        }
    }
}
