import Foundation
import OCI
import Yams
import Support

/// A node of a settings section (`aws:` and below) with its full path, for typed reading.
struct SettingsNode {
    let node: Node
    /// The path users read in errors: `aws.ci_build.branches[1]`.
    let path: YAMLKeyPath
    /// The key the node is the value of, when it has one.
    let keyNode: Node?
    let parser: StackFileParser

    /// The value's location, or its key's when the value is empty.
    var location: SourceLocation {
        if let keyNode, parser.isNull(node) { return parser.location(keyNode) }
        return parser.location(node)
    }

    /// "`aws.x.y` must be EXPECTED, found a list".
    func typeError(_ expected: String, hint: String? = nil) -> StackFileError {
        StackFileError(location: location, message: "`\(path)` must be \(expected), found \(parser.describe(node))", hint: hint)
    }

    /// The scalar's text; throws a type error naming `expected` for anything else.
    func scalar(_ expected: String) throws -> String {
        guard case let .scalar(scalar) = node, !parser.isNull(node) else { throw typeError(expected) }
        return scalar.string
    }
}

/// A value a settings section holds, read from its node; errors name the full path.
protocol SettingsValue {
    static func read(_ value: SettingsNode) throws -> Self
}

/// A settings section: a mapping with known keys, read by ``init(_:)``.
protocol SettingsSection: SettingsValue {
    /// The keys the section knows; any other is refused with a did-you-mean.
    static var keys: [String] { get }
    /// Reads and checks the section.
    init(_ r: SettingsMapping) throws
}

extension SettingsSection {
    static func read(_ value: SettingsNode) throws -> Self {
        try Self(SettingsMapping(value, known: keys))
    }
}

extension String: SettingsValue {
    static func read(_ value: SettingsNode) throws -> String { try value.scalar("a string") }
}

extension Int: SettingsValue {
    static func read(_ value: SettingsNode) throws -> Int {
        guard let number = Int(try value.scalar("a whole number")) else { throw value.typeError("a whole number") }
        return number
    }
}

extension Bool: SettingsValue {
    static func read(_ value: SettingsNode) throws -> Bool {
        guard value.parser.tagName(value.node) == .bool, let flag = value.node.bool else { throw value.typeError("true or false") }
        return flag
    }
}

extension Array: SettingsValue where Element: SettingsValue {
    static func read(_ value: SettingsNode) throws -> [Element] {
        guard case let .sequence(sequence) = value.node else {
            throw value.typeError("a list", hint: "write the items in brackets, such as [a, b]")
        }
        return try sequence.enumerated().map { index, item in
            try Element.read(SettingsNode(node: item, path: value.path.appending(.index(index)), keyNode: nil, parser: value.parser))
        }
    }
}

extension Dictionary: SettingsValue where Key == String, Value == String {
    static func read(_ value: SettingsNode) throws -> [String: String] {
        guard case let .mapping(mapping) = value.node else {
            throw value.typeError("a mapping of names to strings", hint: "write `\(value.path.components.last.map { "\($0)" } ?? "name"): {NAME: value}`")
        }
        var result: [String: String] = [:]
        for entry in try value.parser.entries(of: mapping, context: value.path.context, allowed: nil) {
            let item = SettingsNode(node: entry.value, path: value.path.appending(.key(entry.key)), keyNode: entry.keyNode, parser: value.parser)
            result[entry.key] = try item.scalar("a string")
        }
        return result
    }
}

/// The problems found while reading a settings section, so that a user sees every one of them
/// in one run instead of fixing them one per run. Reading under ``collecting(_:)`` records an
/// unknown key and goes on without it, and ``SettingsMapping/attempt(_:)`` records a part's
/// problem and goes on with the next part.
final class SettingsProblems: @unchecked Sendable {
    @TaskLocal static var current: SettingsProblems?
    private var errors: [StackFileError] = []
    /// Errors that only follow from one already reported: "missing key 'github_repository'"
    /// after "unknown key 'github_repo'; did you mean 'github_repository'?".
    private var consequences: Set<String> = []
    private let lock = NSLock()

    func add(_ error: StackFileError) {
        lock.withLock { errors += error.all }
    }

    /// Marks `error` as following from another problem, so that it is not reported.
    func addConsequence(_ error: StackFileError) {
        lock.withLock { _ = consequences.insert(error.description) }
    }

    /// Runs `body` collecting its problems; throws them all as one error (in file order,
    /// each at its line and column), or returns what `body` read when there were none.
    static func collecting<T>(_ body: () throws -> T) throws -> T {
        let problems = SettingsProblems()
        let result: T? = $current.withValue(problems) {
            do { return try body() } catch let error as StackFileError {
                problems.add(error)
                return nil
            } catch {
                problems.add(StackFileError(location: nil, message: "\(error)"))
                return nil
            }
        }
        var found = problems.lock.withLock { problems.errors.filter { !problems.consequences.contains($0.description) } }
        if let result, found.isEmpty { return result }
        // Two ways of reading may name the same problem (an unknown key seen twice through a merge).
        var seen = Set<String>()
        found = found.filter { seen.insert($0.description).inserted }
        found = found.enumerated().sorted { a, b in
            let l = a.element.location.map { ($0.line, $0.column) } ?? (Int.max, Int.max)
            let r = b.element.location.map { ($0.line, $0.column) } ?? (Int.max, Int.max)
            return l != r ? l < r : a.offset < b.offset
        }.map(\.element)
        var first = found.removeFirst()
        first.more = found
        throw first
    }
}

/// One mapping of a settings section: its entries, read through the stack file parser
/// (locations, did-you-mean for unknown keys, merge keys), with typed getters whose errors
/// name the key's full path (`aws.registry.github_repository`) and point at the value.
///
/// A key whose value is empty (`key:` or `key: ~`) counts as absent, as everywhere in a
/// stack file.
struct SettingsMapping {
    let node: SettingsNode
    private let fields: [String: StackFileParser.Entry]
    /// The keys suggested for this mapping's unknown keys (`github_repository` for
    /// `github_repo`), while problems are collected.
    private let suggested: Set<String>

    /// Reads the mapping at `node`; throws for a node that is not a mapping and for a key
    /// outside `known`.
    init(_ node: SettingsNode, known: [String]) throws {
        guard case let .mapping(mapping) = node.node else {
            throw node.typeError("a mapping of settings", hint: "write its keys on the lines below `\(node.path.components.last.map { "\($0)" } ?? "aws"):`, indented")
        }
        self.node = node
        var fields: [String: StackFileParser.Entry] = [:]
        let problems = SettingsProblems.current
        var suggested: Set<String> = []
        for entry in try node.parser.entries(of: mapping, context: node.path.context, allowed: known, prefixes: true,
                                             unknown: problems.map { p in { error in
                                                 p.add(error)
                                                 if let hint = error.hint, hint.hasPrefix("did you mean '"), hint.hasSuffix("'?") {
                                                     suggested.insert(String(hint.dropFirst(14).dropLast(2)))
                                                 }
                                             } })
        where !node.parser.isNull(entry.value) {
            fields[entry.key] = entry
        }
        self.fields = fields
        self.suggested = suggested
    }

    var parser: StackFileParser { node.parser }

    /// Reads a part of the section with `body`. While problems are collected (see
    /// ``SettingsProblems``), a problem is recorded and nil returned so that reading goes on;
    /// otherwise it is thrown.
    func attempt<T>(_ body: () throws -> T?) throws -> T? {
        guard let problems = SettingsProblems.current else { return try body() }
        do { return try body() } catch let error as StackFileError {
            problems.add(error)
            return nil
        }
    }

    /// `aws.registry.KEY`.
    func path(_ key: String) -> String { node.path.appending(.key(key)).description }

    /// Whether `key` is set (to something other than nothing).
    func has(_ key: String) -> Bool { fields[key] != nil }

    /// The node of `key`'s value, when set.
    func value(_ key: String) -> SettingsNode? {
        fields[key].map { SettingsNode(node: $0.value, path: node.path.appending(.key(key)), keyNode: $0.keyNode, parser: parser) }
    }

    /// The value at `key`, or nil when absent.
    func optional<T: SettingsValue>(_ key: String, _ type: T.Type = T.self) throws -> T? {
        guard let value = value(key) else { return nil }
        return try T.read(value)
    }

    /// The value at `key`; a missing key is an error with `hint`.
    func required<T: SettingsValue>(_ key: String, _ type: T.Type = T.self, hint: String) throws -> T {
        guard let value = try optional(key, T.self) else { throw missing(key, hint: hint) }
        return value
    }

    /// "missing key 'KEY' in aws.registry", at the section's key (or the mapping).
    func missing(_ key: String, hint: String) -> StackFileError {
        let here = node.keyNode.map(parser.location) ?? parser.location(node.node)
        let error = StackFileError(location: here, message: "missing key '\(key)' \(node.path.context)", hint: hint)
        // Missing because misspelled: the misspelling is the problem, reported already.
        if suggested.contains(key) { SettingsProblems.current?.addConsequence(error) }
        return error
    }

    /// "aws.x.KEY: 'VALUE' is not valid", at the value, or at the list item or mapping member
    /// (`member`) that holds `value`.
    func invalid(_ key: String, value text: String, member: String? = nil, reason: String) -> StackFileError {
        var here = value(key)?.location ?? node.location
        var shown = path(key)
        if let member {
            shown += ".\(member)"
            if case let .mapping(mapping)? = fields[key]?.value,
               let (memberKey, _) = mapping.first(where: { $0.key.string == member }) {
                here = parser.location(memberKey)
            }
        } else if case let .sequence(items)? = fields[key]?.value,
                  let item = items.first(where: { $0.scalar?.string == text }) {
            here = parser.location(item)
        }
        return StackFileError(location: here, message: "\(shown): \(JSONString.literal(text)) is not valid", hint: reason)
    }

    /// Refuses a key whose value would be a secret; the error never repeats the value.
    func refuseSecret(_ key: String, hint: String) throws {
        guard let entry = fields[key] else { return }
        throw StackFileError(location: parser.location(entry.keyNode),
                             message: "\(path(key)) holds a secret value, which must never be in a stack file (its value is not shown here)",
                             hint: hint)
    }

    /// An integer at `key` within `range`, `defaultValue` when absent.
    func int(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>) throws -> Int {
        let number = try optional(key, Int.self) ?? defaultValue
        guard range.contains(number) else {
            throw invalid(key, value: String(number), reason: "must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return number
    }

    /// A string at `key` that must be one of `allowed`.
    func oneOf(_ key: String, _ allowed: [String], default defaultValue: String?) throws -> String? {
        guard let text = try optional(key, String.self) ?? defaultValue else { return nil }
        guard allowed.contains(text) else {
            let close = Suggestions.closest(to: text, in: allowed).map { "did you mean '\($0)'? " } ?? ""
            throw invalid(key, value: text, reason: close + "use one of \(allowed.joined(separator: ", "))")
        }
        return text
    }

    /// A log retention in days, which CloudWatch only accepts from a fixed list.
    func logRetention(_ key: String, default defaultValue: Int?) throws -> Int? {
        guard let days = try optional(key, Int.self) ?? defaultValue else { return nil }
        guard Self.retentionDays.contains(days) else {
            throw invalid(key, value: String(days), reason: "CloudWatch Logs keeps logs for one of \(Self.retentionDays.map(String.init).joined(separator: ", ")) days")
        }
        return days
    }

    /// Environment variables whose names do not look like secrets.
    func plainVariables(_ key: String, secretHint: String) throws -> [String: String] {
        let variables = try optional(key, [String: String].self) ?? [:]
        for name in variables.keys.sorted() {
            try checkVariableName(name, in: key)
            if Self.looksSecret(name) {
                let memberKey = memberKeyNode(key, name)
                throw StackFileError(location: memberKey.map(parser.location) ?? node.location,
                                     message: "\(path(key)).\(name) holds a secret value, which must never be in a stack file (its value is not shown here)",
                                     hint: secretHint)
            }
        }
        return variables
    }

    /// Throws unless `name` (a member of the mapping at `key`) is a variable name.
    func checkVariableName(_ name: String, in key: String) throws {
        let ok = VariableName.isValid(name)
        if !ok {
            throw invalid(key, value: name, member: name, reason: "a variable name is letters, digits and underscores, not starting with a digit")
        }
    }

    private func memberKeyNode(_ key: String, _ member: String) -> Node? {
        guard case let .mapping(mapping)? = fields[key]?.value else { return nil }
        return mapping.first(where: { $0.key.string == member })?.key
    }

    /// Whether `text` matches the regular expression `pattern` as a whole.
    static func matches(_ text: String, _ pattern: String) -> Bool {
        text.range(of: "^(?:\(pattern))$", options: .regularExpression) != nil
    }

    /// Checks a Secrets Manager secret name (path-like, letters, digits and `/_+=.@-`) or a
    /// secret ARN at `key` (or its `member`).
    func checkSecretName(_ name: String, key: String, member: String? = nil) throws {
        if name.hasPrefix("arn:") {
            guard Self.matches(name, #"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+"#) else {
                throw invalid(key, value: name, member: member, reason: "a secret ARN looks like arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME")
            }
            return
        }
        guard Self.matches(name, #"[A-Za-z0-9/_+=.@-]{1,512}"#) else {
            throw invalid(key, value: name, member: member, reason: "give the Secrets Manager secret's name (letters, digits and /_+=.@-) or its ARN")
        }
    }

    /// Checks an image pinned by digest: `REPOSITORY@sha256:<64 hex>`.
    func checkImageByDigest(_ image: String, key: String) throws {
        guard Self.matches(image, #"[a-z0-9][a-z0-9._:/-]*@sha256:[a-f0-9]{64}"#) else {
            throw invalid(key, value: image, reason: "pin the image by digest, as REPOSITORY@sha256:<64 hex digits> (stackship push prints the digest), so a deployment runs exactly the image that was tested")
        }
    }

    /// Variable names whose values are credentials by convention; those belong in Secrets Manager.
    static func looksSecret(_ name: String) -> Bool {
        let upper = name.uppercased()
        return ["TOKEN", "PASSWORD", "PASSWD", "SECRET", "SECRET_KEY", "SECRET_ACCESS_KEY", "PRIVATE_KEY", "API_KEY"].contains {
            upper == $0 || upper.hasSuffix("_\($0)")
        }
    }

    static let retentionDays = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]
}
