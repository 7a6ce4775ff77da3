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

    /// Every section, `ci:` and `aws:` included, is read here (Settings/ holds their models).
    static let topLevelKeys = ["version", "context", "images", "packages", "bases", "prefix", "aws", "ci"]
    static let imageKeys = ["base", "tags", "platform", "compression", "packages", "layers", "config", "annotations", "test",
                            "dockerfile", "context", "args", "target", "steps"]
    static let testKeys = ["port", "command", "timeout", "env"]
    static let layerKeys = ["source", "executable", "destination", "mode", "follow_symlinks", "exclude", "comment"]
    static let configKeys = ["entrypoint", "cmd", "env", "workdir", "user", "exposed_ports", "labels",
                             "stop_signal", "volumes"]

    init(file: String, directory: String) {
        self.file = file
        self.directory = directory
        context = StackPaths.resolved(directory)
    }

    /// Parses the file: always its YAML and top-level keys, then the `sections` asked for.
    mutating func parse(yaml: String, sections: StackFile.Sections = .all) throws -> StackFile {
        let root = try YAMLComposer(file: file).compose(yaml)
        let needs = sections.contains(.build) ? "an `images:` mapping with at least one image"
            : "an `aws:` section with at least `project:` and one stack section"
        guard let root, !isNull(root) else {
            throw StackFileError(location: location(line: 1, column: 1), message: "the stack file is empty",
                                 hint: "it needs \(needs); see README for an example")
        }
        guard case let .mapping(mapping) = root else {
            throw StackFileError(location: location(root),
                                 message: "the top level must be a mapping with `version:` and `images:`, found \(describe(root))",
                                 hint: "start the file with `images:`; see README for an example")
        }
        let entries = try entries(of: mapping, context: "at the top level", allowed: Self.topLevelKeys,
                                  allowsExtensions: true)
        func entry(_ key: String) -> Entry? { entries.first { $0.key == key } }
        var version = 1
        if let entry = entry("version") {
            version = try parseVersion(entry)
        }
        var stack = StackFile(path: file, directory: directory, version: version, images: [], context: context)
        if sections.contains(.build) {
            try parseBuildSections(entries, root: root, into: &stack)
        }
        if let entry = entry("ci") { stack.ciLocation = location(entry.keyNode) }
        if sections.contains(.ci), let entry = entry("ci"), !isNull(entry.value) {
            stack.ci = try parseCI(entry)
            if sections.contains(.build) { try validatePublishedImages(stack) }
        }
        if sections.contains(.aws), let entry = entry("aws"), !isNull(entry.value) {
            let node = SettingsNode(node: entry.value, path: YAMLKeyPath(components: [.key("aws")]), keyNode: entry.keyNode, parser: self)
            // Every problem of the section at once, each at its line and column.
            stack.aws = try SettingsProblems.collecting { try AWSSettings.read(node) }
        }
        return stack
    }

    /// `context:`, `prefix:`, `bases:`, `packages:` and `images:`, and the checks that tie them together.
    mutating func parseBuildSections(_ entries: [Entry], root: Node, into stack: inout StackFile) throws {
        func entry(_ key: String) -> Entry? { entries.first { $0.key == key } }
        if stack.version < 2, let v2 = entries.first(where: { ["packages", "bases", "prefix"].contains($0.key) }) {
            throw StackFileError(location: location(v2.keyNode), message: "`\(v2.key):` needs stack file version 2",
                                 hint: "add `version: 2` at the top of the file")
        }
        // Read before anything that names a host path, which it decides about.
        if let entry = entry("context"), !isNull(entry.value) {
            try parseContext(entry)
        }
        stack.context = context
        stack.contextLocation = contextLocation
        if let entry = entry("prefix") {
            stack.prefix = try absolutePath(try scalar(entry, what: "prefix", expected: "an absolute path such as /opt/stack"),
                                            what: "prefix", at: valueLocation(entry))
            if stack.prefix == "/" {
                throw StackFileError(location: valueLocation(entry), message: "`prefix` cannot be '/'",
                                     hint: "packages each get a folder under it; use a path such as /opt/stack")
            }
        }
        if let entry = entry("bases") {
            stack.bases = try parseBases(entry)
        }
        if let entry = entry("packages") {
            stack.packages = try parsePackages(entry)
        }
        if let imagesEntry = entry("images") {
            stack.images = try parseImages(imagesEntry)
            stack.imagesLocation = location(imagesEntry.keyNode)
            try validateUniqueTags(stack.images)
        } else if stack.packages.isEmpty {
            throw StackFileError(location: location(root), message: "missing key 'images' at the top level",
                                 hint: "add an `images:` mapping with at least one image; see README for an example")
        }
        try validatePackageReferences(stack)
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

}
