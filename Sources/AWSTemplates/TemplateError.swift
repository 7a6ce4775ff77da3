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
    /// The service stack has no image: neither `aws.service.image` nor `--image`.
    case serviceImageMissing

    /// What happened and what to do about it.
    public var description: String {
        switch self {
        case .missingSection(let kind, let path):
            return "the \(kind.rawValue) stack needs its settings, but \(path) is missing; add an '\(path.split(separator: ".").last ?? "")' section or remove \(kind.rawValue) from aws.stacks"
        case .serviceImageMissing:
            return "the service stack runs an image pinned by digest, but aws.service.image is not set; give --image REF (a tag in a registry such as ACCOUNT.dkr.ecr.REGION.amazonaws.com/hello:latest, or an image in the store that is pushed to the registry stack's repository), which resolves the digest, or set aws.service.image to REPOSITORY@sha256:…"
        case .writeFailed(let path, let reason):
            return "could not write \(path): \(reason); check that the folder exists and is writable"
        }
    }
}
