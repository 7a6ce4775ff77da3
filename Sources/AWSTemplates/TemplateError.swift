import Foundation
import Stack

/// What went wrong building or writing templates. The `aws:` settings themselves are checked by
/// the stack file reader (``Stack/StackFileError``), so a template fails only for a stack kind
/// whose section is absent, or a file that cannot be written.
public enum TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stack kind was asked for but its settings section is absent.
    case missingSection(kind: StackKind, path: String)
    /// Writing a template file failed.
    case writeFailed(path: String, reason: String)

    /// What happened and what to do about it.
    public var description: String {
        switch self {
        case .missingSection(let kind, let path):
            return "the \(kind.rawValue) stack needs its settings, but \(path) is missing; add an '\(path.split(separator: ".").last ?? "")' section or remove \(kind.rawValue) from aws.stacks"
        case .writeFailed(let path, let reason):
            return "could not write \(path): \(reason); check that the folder exists and is writable"
        }
    }
}
