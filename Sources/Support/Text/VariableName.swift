/// Environment-variable and CI-secret names: letters, digits and underscores, not starting with
/// a digit (what POSIX shells, GitHub Actions secrets and GitLab CI variables all accept).
public enum VariableName {
    /// Whether `name` is such a name.
    public static func isValid(_ name: String) -> Bool {
        func letter(_ b: UInt8) -> Bool { (65...90).contains(b) || (97...122).contains(b) || b == 95 }
        guard let first = name.utf8.first, letter(first) else { return false }
        return name.utf8.allSatisfy { letter($0) || (48...57).contains($0) }
    }
}
