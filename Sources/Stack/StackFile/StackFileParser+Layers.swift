import Foundation
import OCI
import Yams

/// `layers:`: host files and programs copied into an image.
extension StackFileParser {

    func parseLayers(_ entry: Entry, image: String, madeBySteps: Bool = false) throws -> [LayerSpec] {
        let items = try sequence(entry, what: "layers", expected: "a list of mappings",
                                 scalarHint: { _ in "write each layer as `- source: PATH` with `destination: /PATH` under it" })
        var layers: [LayerSpec] = []
        for (index, item) in items.enumerated() {
            layers.append(try parseLayer(item, number: index + 1, image: image, madeBySteps: madeBySteps))
        }
        return layers
    }

    func parseLayer(_ node: Node, number: Int, image: String, madeBySteps: Bool = false) throws -> LayerSpec {
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
                let kind: StackPaths.Kind
                if madeBySteps, case .missing = StackPaths.inspect(path) {
                    // Made by the image's `steps:`; `stackship build` reads the file again after them.
                    kind = .file
                } else {
                    kind = try checkPath(raw: raw, absolute: path, what: what, at: at)
                    try confine(raw: raw, absolute: path, what: what, at: at)
                }
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

}
