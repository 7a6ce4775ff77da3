import Foundation

/// How one job of a local run ended.
public struct JobResult: Sendable, Codable, Equatable {
    /// The outcome.
    public enum Status: String, Sendable, Codable {
        /// The command exited 0.
        case succeeded
        /// The command exited non-zero, died of a signal, or could not start.
        case failed
        /// Not run (a need failed, or the run stopped).
        case skipped
        /// Not run because the cache already held the package (or it was unchanged): planned away.
        case cacheHit
    }

    /// The job id (for a cache hit, the id the package's job would have had).
    public var id: String
    /// The job kind.
    public var kind: Job.Kind
    /// The package or image.
    public var subject: String?
    /// The outcome.
    public var status: Status
    /// The exit status (nil when not run, or killed by a signal).
    public var exitCode: Int32?
    /// When the command started.
    public var start: Date?
    /// When it ended.
    public var end: Date?
    /// Why it was skipped or failed to start, or why it is a cache hit.
    public var reason: String?
    /// The per-job log file (stdout and stderr).
    public var logFile: String?
    /// The last lines of the log.
    public var logTail: [String]

    /// Seconds between start and end (0 when not run).
    public var duration: TimeInterval {
        guard let start, let end else { return 0 }
        return max(0, end.timeIntervalSince(start))
    }

    /// Creates a result.
    public init(id: String, kind: Job.Kind, subject: String? = nil, status: Status, exitCode: Int32? = nil,
                start: Date? = nil, end: Date? = nil, reason: String? = nil, logFile: String? = nil, logTail: [String] = []) {
        self.id = id
        self.kind = kind
        self.subject = subject
        self.status = status
        self.exitCode = exitCode
        self.start = start
        self.end = end
        self.reason = reason
        self.logFile = logFile
        self.logTail = logTail
    }
}

/// Everything a local run produced, for reports.
public struct ExecutionReport: Sendable, Codable, Equatable {
    /// The stack's name.
    public var stackName: String
    /// When the run started.
    public var started: Date
    /// When the last job ended.
    public var finished: Date
    /// Cache hits first, then every job in plan order.
    public var results: [JobResult]

    /// True when no job failed or was skipped.
    public var succeeded: Bool { results.allSatisfy { $0.status == .succeeded || $0.status == .cacheHit } }
    /// Results with the given status.
    public func results(_ status: JobResult.Status) -> [JobResult] { results.filter { $0.status == status } }

    /// Creates a report.
    public init(stackName: String, started: Date, finished: Date, results: [JobResult]) {
        self.stackName = stackName
        self.started = started
        self.finished = finished
        self.results = results
    }
}
