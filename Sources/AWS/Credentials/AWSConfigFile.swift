import Foundation

/// The AWS CLI's shared `config` and `credentials` files, parsed: INI sections of `key = value`
/// lines. In the config file a profile is `[profile NAME]` (or `[default]`), an SSO session is
/// `[sso-session NAME]`; in the credentials file a profile is `[NAME]`.
///
/// Nested values (`s3 =` followed by indented `key = value` lines) are kept flattened as
/// `s3.key`; comments start with `#` or `;` at the start of a line.
public struct AWSConfigFile: Sendable {
    /// A section's keys (lowercased) and values.
    public typealias Section = [String: String]

    /// Sections by their header text with the brackets removed and whitespace collapsed, e.g.
    /// "profile dev", "default", "sso-session corp".
    public private(set) var sections: [String: Section] = [:]
    /// The file's path, for messages.
    public let path: String

    /// Parses `text` read from `path`.
    public init(text: String, path: String) {
        self.path = path
        var current: String?
        var parentKey: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let line = String(rawLine)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("[") {
                guard let close = trimmed.lastIndex(of: "]") else { current = nil; continue }
                let name = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
                    .split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
                current = name
                parentKey = nil
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let section = current, let eq = trimmed.firstIndex(of: "=") else { continue }
            let key = trimmed[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            var value = trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            // An inline comment needs whitespace before it (values like URLs may contain '#').
            for marker in [" #", " ;", "\t#", "\t;"] {
                if let r = value.range(of: marker) { value = String(value[..<r.lowerBound]).trimmingCharacters(in: .whitespaces) }
            }
            let indented = line.first == " " || line.first == "\t"
            if indented, let parent = parentKey {
                sections[section]?["\(parent).\(key)"] = value
            } else {
                sections[section]?[key] = value
                parentKey = value.isEmpty ? key : nil
            }
        }
    }

    /// Reads and parses the file at `path`; nil when it does not exist.
    public static func load(path: String) throws -> AWSConfigFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AWSError.fileUnreadable(path: path, reason: "permission denied or not a file")
        }
        return AWSConfigFile(text: String(decoding: data, as: UTF8.self), path: path)
    }

    /// The profile named `name` as the config file spells it (`[profile name]`, or `[default]`
    /// for "default", which also accepts `[profile default]`).
    public func configProfile(_ name: String) -> Section? {
        if name == "default" { return sections["default"] ?? sections["profile default"] }
        return sections["profile \(name)"]
    }

    /// The profile named `name` as the credentials file spells it (`[name]`).
    public func credentialsProfile(_ name: String) -> Section? {
        sections[name]
    }

    /// The `[sso-session name]` section.
    public func ssoSession(_ name: String) -> Section? {
        sections["sso-session \(name)"]
    }
}
