import Foundation

/// A position in a stack file: the file as the user named it, and a 1-based line and column
/// (columns count Unicode scalars, as libyaml does).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file's path as it was given to the loader (relative when the user passed a relative path).
    public var file: String
    /// The 1-based line.
    public var line: Int
    /// The 1-based column.
    public var column: Int

    /// Creates a location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `FILE:LINE:COLUMN`, the form compilers and editors understand.
    public var description: String { "\(file):\(line):\(column)" }
}

/// A problem with a stack file: where it is, what is wrong, and what to do about it.
///
/// Its description reads like a compiler diagnostic:
/// `stack.yaml:12:7: unknown key 'entrypiont' in config; did you mean 'entrypoint'?`
public struct StackFileError: Error, Sendable, CustomStringConvertible, LocalizedError {
    /// Where the problem is; `nil` only when the file itself cannot be read.
    public var location: SourceLocation?
    /// What is wrong, naming the key or value concerned.
    public var message: String
    /// What to do about it, such as `did you mean 'entrypoint'?`; `nil` when the message says it all.
    public var hint: String?
    /// Further problems found in the same reading (the `aws:` section reports every one it
    /// finds, not only the first), in file order after this one.
    public var more: [StackFileError] = []

    /// Every problem this error reports: itself, then ``more``.
    public var all: [StackFileError] {
        var first = self
        first.more = []
        return [first] + more
    }

    /// Creates an error.
    public init(location: SourceLocation?, message: String, hint: String? = nil) {
        self.location = location
        self.message = message
        self.hint = hint
    }

    /// `LOCATION: MESSAGE; HINT`, leaving out the parts that are absent; with ``more``, a count
    /// and then one such line per problem.
    public var description: String {
        guard !more.isEmpty else { return line }
        return "\(more.count + 1) problems in the stack file:\n" + all.map { "  " + $0.line }.joined(separator: "\n")
    }

    private var line: String {
        var text = location.map { "\($0): " } ?? ""
        text += message
        if let hint, !hint.isEmpty { text += "; " + hint }
        return text
    }

    /// The same text as ``description``.
    public var errorDescription: String? { description }
}
