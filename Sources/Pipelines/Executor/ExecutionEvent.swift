import Foundation

/// What the local executor reports while it runs, in order per job.
public enum ExecutionEvent: Sendable, Equatable {
    /// A job's command started.
    case jobStarted(id: String, at: Date)
    /// One line a job printed (stdout and stderr interleaved as written).
    case output(id: String, line: String)
    /// A job finished (succeeded or failed).
    case jobFinished(JobResult)
    /// A job will not run: a job it needs failed, or the run stopped after a failure.
    case jobSkipped(JobResult)

    /// The event as a log line: `[job-id] line` for output, a short status line otherwise.
    public var formatted: String {
        switch self {
        case .jobStarted(let id, _): return "[\(id)] started"
        case .output(let id, let line): return "[\(id)] \(line)"
        case .jobFinished(let r):
            let secs = String(format: "%.2f", r.duration)
            return r.status == .succeeded ? "[\(r.id)] succeeded in \(secs) s" : "[\(r.id)] FAILED (exit \(r.exitCode.map(String.init) ?? "?")) after \(secs) s"
        case .jobSkipped(let r): return "[\(r.id)] skipped: \(r.reason ?? "")"
        }
    }
}
