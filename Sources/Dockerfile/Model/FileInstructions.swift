/// A here-document: `<<EOF` on an instruction line and the lines up to the one reading `EOF`.
public struct Heredoc: Sendable, Hashable {
    /// The delimiter word with its quotes removed (`EOF` for `<<"EOF"`); also the file name an
    /// inline COPY source gets.
    public var name: String
    /// The lines between the instruction and the delimiter, each with its line ending, exactly
    /// as read (leading tabs kept even for `<<-`: see ``content``).
    public var rawContent: String
    /// Whether `$VAR` references in the body are expanded (false when any part of the
    /// delimiter was quoted, as in `<<"EOF"` or `<<'EOF'`).
    public var expands: Bool
    /// Whether it was written `<<-`, which strips leading tabs from the body and the delimiter line.
    public var stripsLeadingTabs: Bool
    /// The file descriptor the body is redirected to (`0` unless written like `3<<EOF`).
    public var fileDescriptor: Int

    /// Creates a here-document.
    public init(name: String, rawContent: String, expands: Bool = true, stripsLeadingTabs: Bool = false, fileDescriptor: Int = 0) {
        self.name = name
        self.rawContent = rawContent
        self.expands = expands
        self.stripsLeadingTabs = stripsLeadingTabs
        self.fileDescriptor = fileDescriptor
    }

    /// The body as the command sees it: ``rawContent`` with leading tabs removed from every line
    /// when written `<<-`.
    public var content: String {
        guard stripsLeadingTabs else { return rawContent }
        var result = String.UnicodeScalarView()
        var atLineStart = true
        for scalar in rawContent.unicodeScalars {
            if atLineStart, scalar == "\t" { continue }
            atLineStart = scalar == "\n"
            result.append(scalar)
        }
        return String(result)
    }
}

/// One source of COPY or ADD: a path (or URL, for ADD) or an inline here-document.
public enum FileSource: Sendable, Hashable {
    /// A path in the build context, a stage or an image; for ADD also a URL or git address.
    case path(String)
    /// A file made from a here-document, named after its delimiter.
    case inline(Heredoc)
}

/// `COPY [--from=...] [--chown=...] [--chmod=...] [--link] [--parents] [--exclude=...] src... dest`.
public struct CopyInstruction: Sendable, Hashable {
    /// The sources in order (paths as written; here-documents inline).
    public var sources: [FileSource]
    /// The destination as written.
    public var destination: String
    /// `--from`: a stage name, a stage index or an image reference (never expanded: Docker
    /// refuses variables there).
    public var from: String?
    /// `--chown=user:group`.
    public var chown: String?
    /// `--chmod=mode`.
    public var chmod: String?
    /// `--link`.
    public var link: Bool
    /// `--parents`: keep the sources' parent directories.
    public var parents: Bool
    /// `--exclude=pattern`, as many as given.
    public var excludes: [String]

    /// Creates a COPY.
    public init(sources: [FileSource], destination: String, from: String? = nil, chown: String? = nil,
                chmod: String? = nil, link: Bool = false, parents: Bool = false, excludes: [String] = []) {
        self.sources = sources
        self.destination = destination
        self.from = from
        self.chown = chown
        self.chmod = chmod
        self.link = link
        self.parents = parents
        self.excludes = excludes
    }
}

/// `ADD [--checksum=...] [--chown=...] [--chmod=...] [--keep-git-dir] [--link] [--unpack] [--exclude=...] src... dest`.
public struct AddInstruction: Sendable, Hashable {
    /// The sources in order.
    public var sources: [FileSource]
    /// The destination as written.
    public var destination: String
    /// `--checksum=sha256:...` for a remote source.
    public var checksum: String?
    /// `--chown=user:group`.
    public var chown: String?
    /// `--chmod=mode`.
    public var chmod: String?
    /// `--keep-git-dir[=bool]`; `nil` when not given.
    public var keepGitDir: Bool?
    /// `--link`.
    public var link: Bool
    /// `--unpack[=bool]`; `nil` when not given (local archives unpack, remote ones do not).
    public var unpack: Bool?
    /// `--exclude=pattern`, as many as given.
    public var excludes: [String]

    /// Creates an ADD.
    public init(sources: [FileSource], destination: String, checksum: String? = nil, chown: String? = nil,
                chmod: String? = nil, keepGitDir: Bool? = nil, link: Bool = false, unpack: Bool? = nil,
                excludes: [String] = []) {
        self.sources = sources
        self.destination = destination
        self.checksum = checksum
        self.chown = chown
        self.chmod = chmod
        self.keepGitDir = keepGitDir
        self.link = link
        self.unpack = unpack
        self.excludes = excludes
    }
}
