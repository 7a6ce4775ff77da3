import Foundation
import OCI

/// What went wrong reading `aws:` settings or writing templates. Each description names the
/// settings key (as a path like `aws.registry.github_repository`) and says how to fix it.
/// No case ever carries a secret's value.
public enum TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A required key is absent.
    case missingKey(path: String, hint: String)
    /// A key is present but its value is not acceptable.
    case invalidValue(path: String, value: String, reason: String)
    /// A key that the settings do not know (often a typo).
    case unknownKey(path: String, known: [String])
    /// A stack kind that is not one of ``StackKind``'s.
    case unknownStackKind(path: String, value: String)
    /// A stack kind was asked for but its settings section is absent.
    case missingSection(kind: StackKind, path: String)
    /// A secret's value was written into settings; the value itself is never kept.
    case secretInSettings(path: String, hint: String)
    /// Writing a template file failed.
    case writeFailed(path: String, reason: String)

    /// What happened and what to do about it.
    public var description: String {
        switch self {
        case .missingKey(let path, let hint):
            return "\(path) is required but missing; \(hint)"
        case .invalidValue(let path, let value, let reason):
            return "\(path): \(TemplateRendering.quoted(value)) is not valid: \(reason)"
        case .unknownKey(let path, let known):
            let key = path.split(separator: ".").last.map(String.init) ?? path
            var text = "\(path) is not a known setting"
            if let close = Self.closest(to: key, in: known) { text += "; did you mean '\(close)'?" }
            return text + " Known keys here: \(known.sorted().joined(separator: ", "))."
        case .unknownStackKind(let path, let value):
            return "\(path): \(TemplateRendering.quoted(value)) is not a stack kind; use one of "
                + StackKind.allCases.map(\.rawValue).joined(separator: ", ") + "."
        case .missingSection(let kind, let path):
            return "the \(kind.rawValue) stack needs its settings, but \(path) is missing; add an '\(path.split(separator: ".").last ?? "")' section or remove \(kind.rawValue) from aws.stacks"
        case .secretInSettings(let path, let hint):
            return "\(path) holds a secret value, which must never be in a stack file (its value is not shown here); \(hint)"
        case .writeFailed(let path, let reason):
            return "could not write \(path): \(reason); check that the folder exists and is writable"
        }
    }

    /// The settings error inside `error`: Yams reports errors thrown by a type's `init(from:)`
    /// as `DecodingError.dataCorrupted` with the original as its underlying error.
    static func wrapped(in error: any Error) -> TemplateError? {
        var current: (any Error)? = error
        while let error = current {
            if let found = error as? TemplateError { return found }
            guard case DecodingError.dataCorrupted(let context) = error else { return nil }
            current = context.underlyingError
        }
        return nil
    }

    /// The known key with the smallest edit distance to `key`, if it is close enough to be a typo.
    static func closest(to key: String, in known: [String]) -> String? {
        Suggestions.closest(to: key, in: known, maxDistance: max(2, key.count / 3), prefixes: true)
    }
}
