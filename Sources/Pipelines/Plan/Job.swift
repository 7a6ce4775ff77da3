/// One unit of work of a plan: a stackship command with the jobs it needs.
public struct Job: Sendable, Codable, Equatable, Identifiable {
    /// What a job does.
    public enum Kind: String, Sendable, Codable, CaseIterable, Comparable {
        /// Builds one package into the binary cache.
        case package
        /// Assembles one image from cached packages.
        case image
        /// Runs an image's tests against its running container.
        case test
        /// Pushes an image to the registry.
        case publish
        /// Rebuilds the cache index after packages were added.
        case reindex
        /// Garbage-collects the cache at the end.
        case cleanup
        /// Does nothing: the plan had nothing left to do, or a CI fan-in.
        case noop

        /// Orders kinds as the pipeline runs them.
        public static func < (a: Kind, b: Kind) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// The job id: letters, digits and underscores only, starting with a letter, at most 100
    /// characters, so it is valid unchanged in GitHub Actions, GitLab CI and CodeBuild.
    public var id: String
    /// What the job does.
    public var kind: Kind
    /// The command: `argv[0]` is the program (`stackship`), the rest its arguments.
    public var argv: [String]
    /// Ids of the jobs that must succeed before this one starts.
    public var needs: [String]
    /// Dependency depth: 0 for a job with no needs, else 1 + the deepest need's stage.
    public var stage: Int
    /// Extra environment for the command (sorted by key when emitted).
    public var env: [String: String]
    /// The package or image this job is about (nil for reindex, cleanup, noop).
    public var subject: String?
    /// A hex key that changes exactly when something this job consumes changes (its package's
    /// hash, its dependencies' keys, its image's packages' keys).
    public var key: String

    /// Creates a job; `stage` is recomputed when a `Plan` is made from jobs.
    public init(id: String, kind: Kind, argv: [String], needs: [String] = [], stage: Int = 0,
                env: [String: String] = [:], subject: String? = nil, key: String = "") {
        self.id = id
        self.kind = kind
        self.argv = argv
        self.needs = needs
        self.stage = stage
        self.env = env
        self.subject = subject
        self.key = key
    }
}
