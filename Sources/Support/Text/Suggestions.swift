/// "Did you mean …?" support: finds the candidate closest to something the user mistyped.
public enum Suggestions {
    /// The edit distance between `a` and `b`: Levenshtein (insertions, deletions and
    /// substitutions of Unicode scalars each cost 1), also counting a swap of two neighbours as 1
    /// (optimal string alignment), since swapped letters are the commonest typo.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let s = Array(a.unicodeScalars)
        let t = Array(b.unicodeScalars)
        if s.isEmpty { return t.count }
        if t.isEmpty { return s.count }
        var beforePrevious = [Int](repeating: 0, count: t.count + 1)
        var previous = Array(0...t.count)
        var current = [Int](repeating: 0, count: t.count + 1)
        for i in 1...s.count {
            current[0] = i
            for j in 1...t.count {
                let cost = s[i - 1] == t[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, s[i - 1] == t[j - 2], s[i - 2] == t[j - 1] {
                    current[j] = min(current[j], beforePrevious[j - 2] + 1)
                }
            }
            (beforePrevious, previous, current) = (previous, current, beforePrevious)
        }
        return previous[t.count]
    }

    /// `text` lowercased without `_` and `-`, so `exposedPorts`, `Exposed-Ports` and
    /// `exposed_ports` compare equal.
    public static func folded(_ text: String) -> String {
        String(text.lowercased().unicodeScalars.filter { $0 != "_" && $0 != "-" })
    }

    /// The candidate `input` most likely meant, or `nil` when none is near.
    ///
    /// A candidate that differs only in case, `_` or `-` wins outright; with `prefixes`, so does
    /// one that `input` (3 or more characters) shortens or lengthens (`github_repo` for
    /// `github_repository`), the first in sorted order; otherwise the one with the smallest edit
    /// distance, when that distance is at most `maxDistance` and smaller than the longer of the
    /// two (so that `x` does not "mean" `id`). Ties go to the earlier candidate.
    public static func closest(to input: String, in candidates: [String], maxDistance: Int = 2, prefixes: Bool = false) -> String? {
        let foldedInput = folded(input)
        if let match = candidates.first(where: { $0 != input && folded($0) == foldedInput }) {
            return match
        }
        if prefixes, foldedInput.count >= 3,
           let match = candidates.filter({ folded($0).hasPrefix(foldedInput) || foldedInput.hasPrefix(folded($0)) }).sorted().first {
            return match
        }
        var best: (candidate: String, distance: Int)?
        for candidate in candidates where candidate != input {
            let distance = min(editDistance(input, candidate), editDistance(input.lowercased(), candidate.lowercased()))
            guard distance <= maxDistance,
                  distance < max(input.unicodeScalars.count, candidate.unicodeScalars.count) else { continue }
            if let current = best, current.distance <= distance { continue }
            best = (candidate, distance)
        }
        return best?.candidate
    }

    /// `'a', 'b' and 'c'`: a readable list for messages (`conjunction` "or" for alternatives).
    public static func list(_ items: [String], quote: String = "'", conjunction: String = "and") -> String {
        let quoted = items.map { quote + $0 + quote }
        switch quoted.count {
        case 0: return "none"
        case 1: return quoted[0]
        default: return quoted.dropLast().joined(separator: ", ") + " \(conjunction) " + quoted[quoted.count - 1]
        }
    }
}
