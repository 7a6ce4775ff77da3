import Foundation
import OCI
import Yams
import Support

/// An image's entry under `images:`: name, base, tags, platform, compression and `test:`.
extension StackFileParser {

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
        var dockerfileFields: [String: Entry] = [:]
        var assemblyFields: [String: Entry] = [:]
        let context = "in image '\(name)'"
        if !isNull(entry.value) {
            guard case let .mapping(mapping) = entry.value else {
                throw typeError(entry, what: name, expected: "a mapping of image settings such as `base:` and `layers:`",
                                subject: "image", hint: "put the image's settings on the lines below its name, indented")
            }
            let fields = try entries(of: mapping, context: context, allowed: Self.imageKeys)
            // Layer sources that `steps:` make may be missing until the steps run.
            let hasSteps = fields.contains { $0.key == "steps" && !isNull($0.value) }
            for field in fields where !isNull(field.value) {
                switch field.key {
                case "base": image.base = try parseBase(field)
                case "tags": (tags, image.tagLocations) = try parseTags(field, image: name)
                case "platform": image.platform = try parsePlatform(field)
                case "compression": image.compression = try parseCompression(field)
                case "layers": image.layers = try parseLayers(field, image: name, madeBySteps: hasSteps)
                case "steps":
                    image.steps = try sequence(field, what: "steps", expected: "a list of shell commands",
                                               scalarHint: { "write it as a list: `steps: [\"\($0)\"]`" })
                        .map { try itemString($0, what: "steps", expected: "a shell command") }
                    image.stepsLocation = location(field.keyNode)
                case "packages":
                    image.packages = try nameList(field, what: "packages")
                    image.packagesLocation = location(field.value)
                case "config": image.config = try parseConfig(field)
                case "annotations": image.annotations = try stringMapping(field, what: "annotations")
                case "test": image.test = try parseTest(field, image: name)
                case "dockerfile", "context", "args", "target": dockerfileFields[field.key] = field
                default: break
                }
                if ["base", "packages", "layers", "config", "compression"].contains(field.key) { assemblyFields[field.key] = field }
            }
        }
        image.dockerfile = try parseDockerfileImage(dockerfileFields, conflicting: assemblyFields, image: name)
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

    /// `dockerfile:` with `context:`, `args:` and `target:`; nil when the image has none. An image
    /// built from a Dockerfile takes its base, layers and config from it, so those keys are refused.
    func parseDockerfileImage(_ fields: [String: Entry], conflicting: [String: Entry], image: String) throws -> DockerfileImageSpec? {
        guard let entry = fields["dockerfile"] else {
            if let stray = ["context", "args", "target"].compactMap({ fields[$0] }).first {
                throw StackFileError(location: location(stray.keyNode), message: "`\(stray.key):` in image '\(image)' needs `dockerfile:`",
                                     hint: "add `dockerfile: ./Dockerfile` to build the image from a Dockerfile, or remove `\(stray.key):`")
            }
            return nil
        }
        if let clash = ["base", "packages", "layers", "config", "compression"].compactMap({ conflicting[$0] }).first {
            throw StackFileError(location: location(clash.keyNode), message: "image '\(image)' has both `dockerfile:` and `\(clash.key):`",
                                 hint: "a Dockerfile image takes its base, layers and config from the Dockerfile; remove `\(clash.key):` or `dockerfile:`")
        }
        let here = valueLocation(entry)
        let raw = try scalar(entry, what: "dockerfile", expected: "the path of a Dockerfile, relative to the stack file")
        let path = StackPaths.absolute(raw, relativeTo: directory)
        guard try checkPath(raw: raw, absolute: path, what: "dockerfile", at: here) == .file else {
            throw StackFileError(location: here, message: "dockerfile '\(raw)' is a directory (\(path))",
                                 hint: "name the file, such as \(raw.hasSuffix("/") ? raw : raw + "/")Dockerfile")
        }
        try confine(raw: raw, absolute: path, what: "dockerfile", at: here)
        var contextPath = (path as NSString).deletingLastPathComponent
        if let field = fields["context"] {
            let contextHere = valueLocation(field)
            let text = try scalar(field, what: "context", expected: "the build context folder, relative to the stack file")
            contextPath = StackPaths.absolute(text, relativeTo: directory)
            guard try checkPath(raw: text, absolute: contextPath, what: "context", at: contextHere) == .directory else {
                throw StackFileError(location: contextHere, message: "context '\(text)' is a file (\(contextPath))",
                                     hint: "the build context is the folder COPY reads from, such as `.`")
            }
            try confine(raw: text, absolute: contextPath, what: "context", at: contextHere)
        }
        var arguments: [String: String] = [:]
        if let field = fields["args"] { arguments = try stringMapping(field, what: "args") }
        var target: String?
        if let field = fields["target"] { target = try scalar(field, what: "target", expected: "the name of a Dockerfile stage") }
        return DockerfileImageSpec(path: path, context: contextPath, arguments: arguments, target: target, location: location(entry.keyNode))
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
        var environment: [String: String] = [:]
        for field in try entries(of: mapping, context: context, allowed: Self.testKeys) where !isNull(field.value) {
            switch field.key {
            case "env":
                guard case let .mapping(variables) = field.value else {
                    throw typeError(field, what: "env", expected: "a mapping of variable names to values", hint: "write `env: {BASE_URL: /api}`")
                }
                for variable in try entries(of: variables, context: "in the test env of image '\(image)'", allowed: nil) {
                    guard VariableName.isValid(variable.key) else {
                        throw StackFileError(location: location(variable.keyNode), message: "invalid variable name '\(variable.key)' \(context)",
                                             hint: "a variable name is letters, digits and underscores, not starting with a digit")
                    }
                    guard !variable.key.hasPrefix("STACKSHIP_TEST_") else {
                        throw StackFileError(location: location(variable.keyNode), message: "'\(variable.key)' \(context) is set by stackship test itself",
                                             hint: "choose another name; STACKSHIP_TEST_HOST, _PORT and _IMAGE say where the container answers")
                    }
                    environment[variable.key] = try scalar(variable, what: variable.key, expected: "a string")
                }
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
        return ImageTestSpec(port: port, command: command, timeout: timeout, environment: environment)
    }

}
