import Stack
import Crypto
import Foundation

/// Physical names derived from the project and stack kind, always within AWS's length limits.
///
/// A name that would be too long keeps its start and ends with 8 hex digits of its SHA-256, so
/// it stays deterministic and distinct from other long names with the same start.
public struct ResourceNames: Sendable, Hashable {
    /// The project name.
    public let project: String
    /// The stack kind.
    public let kind: StackKind

    /// Names for `project`'s `kind` stack.
    public init(project: String, kind: StackKind) {
        self.project = project
        self.kind = kind
    }

    /// `<project>-<kind>[-suffix]`, fitted to `maxLength`.
    public func name(_ suffix: String? = nil, maxLength: Int) -> String {
        let base = "\(project)-\(kind.rawValue)" + (suffix.map { "-\($0)" } ?? "")
        return Self.fit(base, maxLength: maxLength)
    }

    /// A globally unique S3 bucket name: `<project>-<suffix>-<account>-<region>` as an `Fn::Sub`
    /// string, its fixed part fitted so the whole stays within 63 characters in every region.
    public func bucketNameSub(_ suffix: String) -> String {
        // 63 - "-" - 12 (account) - "-" - 15 (longest region, us-isof-south-1) = 34.
        "\(Self.fit("\(project)-\(suffix)", maxLength: 34))-${AWS::AccountId}-${AWS::Region}"
    }

    /// `name` when it fits, else its first characters, `-` and 8 hex digits of its SHA-256.
    public static func fit(_ name: String, maxLength: Int) -> String {
        guard name.count > maxLength else { return name }
        let hash = SHA256.hash(data: Data(name.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
        var head = String(name.prefix(max(0, maxLength - 9)))
        while head.hasSuffix("-") { head.removeLast() }
        return "\(head)-\(hash)"
    }
}
