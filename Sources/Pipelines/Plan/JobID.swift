/// Job ids valid in every backend: `[A-Za-z][A-Za-z0-9_]*`, at most 100 characters (CodeBuild
/// allows 127 for an identifier; the margin leaves room for fan-in suffixes).
public enum JobID {
    /// The longest id a plan uses.
    public static let maxLength = 100

    /// Throws unless `id` is a valid job id.
    public static func validate(_ id: String) throws {
        guard let first = id.unicodeScalars.first, first.isASCIILetter else {
            throw PipelineError.invalidName(name: id, reason: "a job id must start with a letter")
        }
        guard id.unicodeScalars.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" }) else {
            throw PipelineError.invalidName(name: id, reason: "a job id may hold only letters, digits and underscores")
        }
        guard id.utf8.count <= maxLength else {
            throw PipelineError.invalidName(name: id, reason: "a job id may be at most \(maxLength) characters")
        }
    }

    /// Ids for `names` under `prefix`: other characters become `_`; a name whose cleaned form is
    /// shared with another name, or is too long, gets an 8-hex suffix from its own hash, so ids
    /// are unique and stable whatever else the stack holds.
    static func assign(prefix: String, names: [String]) -> [String: String] {
        var cleaned: [String: String] = [:]
        var owners: [String: Set<String>] = [:]
        for name in names {
            let scalars = name.unicodeScalars.map { s -> Character in
                (s.isASCIILetter || s.isASCIIDigit || s == "_") ? Character(s) : "_"
            }
            let id = prefix + String(scalars)
            cleaned[name] = id
            owners[id, default: []].insert(name)
        }
        var out: [String: String] = [:]
        for name in names {
            let id = cleaned[name]!
            if owners[id]!.count > 1 || id.utf8.count > maxLength {
                let suffix = "_" + Hashing.hex([name]).prefix(8)
                out[name] = String(id.prefix(maxLength - suffix.count)) + suffix
            } else {
                out[name] = id
            }
        }
        return out
    }
}

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
