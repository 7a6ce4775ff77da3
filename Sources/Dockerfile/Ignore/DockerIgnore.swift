/// A `.dockerignore`: which paths of the build context are left out, as Docker decides it.
///
/// Patterns are read as moby's `ignorefile` reads them (comment lines start with `#` in column
/// one; white space trimmed; `filepath.Clean` applied; a leading `/` dropped) and applied in
/// order, the last pattern that matches a path deciding: a plain pattern excludes it, a `!`
/// exception includes it again. A pattern also matches everything beneath a directory it
/// matches.
public struct DockerIgnore: Sendable, Hashable {
    /// The patterns in file order.
    public let patterns: [IgnorePattern]

    /// Reads the text of a `.dockerignore`; throws for a malformed pattern, naming its line.
    public init(text: String) throws(DockerfileError) {
        var patterns: [IgnorePattern] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = String(rawLine)
            if lineNumber == 1, line.hasPrefix("\u{FEFF}") { line.removeFirst() }
            if line.hasPrefix("#") { continue }
            var pattern = line.trimmingGoSpace()
            if pattern.isEmpty { continue }
            let exception = pattern.hasPrefix("!")
            if exception { pattern = String(pattern.dropFirst()).trimmingGoSpace() }
            if !pattern.isEmpty {
                pattern = GoPath.clean(pattern)
                if pattern.count > 1, pattern.hasPrefix("/") { pattern.removeFirst() }
            }
            patterns.append(try IgnorePattern((exception ? "!" : "") + pattern, line: lineNumber))
        }
        self.patterns = patterns
    }

    /// Patterns given directly (as `docker build` gets them from a file or an API).
    public init(patterns: [String]) throws(DockerfileError) {
        try self.init(text: patterns.joined(separator: "\n"))
    }

    /// Whether any pattern is a `!` exception.
    public var hasExceptions: Bool { patterns.contains(where: \.isException) }

    /// Whether `path` (relative to the context, `/`-separated) is left out of the context.
    /// The context's root (`.`) never is.
    public func isExcluded(_ path: String) -> Bool {
        var file = GoPath.clean(path)
        while file.hasPrefix("/") { file.removeFirst() }
        guard !file.isEmpty, file != "." else { return false }
        let components = file.split(separator: "/").map(String.init)
        let parents = components.indices.dropLast().map { components[...$0].joined(separator: "/") }
        var excluded = false
        for pattern in patterns where pattern.isException == excluded {
            if pattern.matches(file) || parents.contains(where: pattern.matches) {
                excluded = !pattern.isException
            }
        }
        return excluded
    }

    /// Whether a walk of the context may skip directory `path` without looking inside: it is
    /// excluded, and no exception could include anything beneath it. When an exception has a
    /// wildcard before its last part, Docker cannot tell, and the directory must be walked.
    public func canSkipDirectory(_ path: String) -> Bool {
        guard isExcluded(path) else { return false }
        var directory = GoPath.clean(path)
        while directory.hasPrefix("/") { directory.removeFirst() }
        let exceptions = patterns.filter(\.isException)
        guard !exceptions.isEmpty else { return true }
        for exception in exceptions {
            let (prefix, isPlain) = exception.plainPrefix
            guard isPlain else { return false }
            if (prefix + "/").hasPrefix(directory + "/") { return false }
        }
        return true
    }

    /// The ignore files that apply to a build, in precedence order: `<Dockerfile>.dockerignore`
    /// beside the Dockerfile, then `.dockerignore` at the context's root. The first that exists wins.
    public static func candidateFiles(dockerfile: String, contextDirectory: String) -> [String] {
        let root = contextDirectory.hasSuffix("/") ? String(contextDirectory.dropLast()) : contextDirectory
        return [dockerfile + ".dockerignore", (root.isEmpty ? "." : root) + "/.dockerignore"]
    }

    /// The ignore rules for a build: the first of ``candidateFiles(dockerfile:contextDirectory:)``
    /// that `read` returns text for (`nil` meaning absent), or `nil` when neither exists.
    public static func load(dockerfile: String, contextDirectory: String,
                            read: (String) -> String?) throws(DockerfileError) -> (file: String, rules: DockerIgnore)? {
        for file in candidateFiles(dockerfile: dockerfile, contextDirectory: contextDirectory) {
            if let text = read(file) { return (file, try DockerIgnore(text: text)) }
        }
        return nil
    }
}
