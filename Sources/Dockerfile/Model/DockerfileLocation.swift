/// A position in a Dockerfile: 1-based line and column, columns counting Unicode scalars.
///
/// Instructions carry the position of their keyword; errors carry the position of the word at
/// fault when it is known, else of the instruction.
public struct DockerfileLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The 1-based line.
    public var line: Int
    /// The 1-based column, in Unicode scalars.
    public var column: Int

    /// Creates a location.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// `LINE:COLUMN`; prefix the file's path for the form editors jump to.
    public var description: String { "\(line):\(column)" }

    /// Earlier in the file first.
    public static func < (lhs: DockerfileLocation, rhs: DockerfileLocation) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}

/// Something Docker accepts but warns about (or silently ignores), reported beside the parse.
public struct DockerfileWarning: Sendable, Hashable, CustomStringConvertible {
    /// What kind of warning: lets a caller filter or test without matching text.
    public enum Kind: String, Sendable, Hashable {
        /// An empty line inside a line continuation (BuildKit: NoEmptyContinuation).
        case emptyContinuationLine
        /// MAINTAINER is deprecated; a `LABEL maintainer=...` says the same.
        case maintainerDeprecated
        /// `ENV key value` / `LABEL key value`, the legacy form (BuildKit: LegacyKeyValueFormat).
        case legacyKeyValueFormat
        /// Flags on an instruction that BuildKit never reads (ARG, STOPSIGNAL, HEALTHCHECK NONE).
        case ignoredFlags
        /// Text that starts like a JSON array but is not valid JSON, so it runs in shell form.
        case malformedJSON
        /// Two stages with the same name; later references find the last one.
        case duplicateStageName
        /// The last line ends with a line continuation (accepted only when asked to).
        case continuationAtEndOfFile
    }

    /// The kind, for filtering.
    public var kind: Kind
    /// Where it is.
    public var location: DockerfileLocation
    /// One line saying what and what to do.
    public var message: String

    /// Creates a warning.
    public init(kind: Kind, location: DockerfileLocation, message: String) {
        self.kind = kind
        self.location = location
        self.message = message
    }

    /// `LINE:COLUMN: warning: MESSAGE`.
    public var description: String { "\(location): warning: \(message)" }
}
