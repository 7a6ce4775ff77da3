/// What a live display shows during a local run: which jobs wait, run and are done. Fold the
/// executor's events into it with `apply(_:)` and render it however the CLI likes.
public struct LiveView: Sendable, Equatable {
    /// Jobs not started yet, in plan order.
    public private(set) var waiting: [String]
    /// Jobs running now, in start order.
    public private(set) var running: [String]
    /// Jobs that succeeded, in finish order.
    public private(set) var succeeded: [String]
    /// Jobs that failed, in finish order.
    public private(set) var failed: [String]
    /// Jobs skipped.
    public private(set) var skipped: [String]
    /// The number of packages planned away (cache hits).
    public let cacheHits: Int

    /// Everything waiting, for a plan about to run.
    public init(plan: Plan) {
        waiting = plan.jobs.map(\.id)
        running = []
        succeeded = []
        failed = []
        skipped = []
        cacheHits = plan.pruned.count
    }

    /// Jobs finished one way or another.
    public var doneCount: Int { succeeded.count + failed.count + skipped.count }

    /// Updates the view for one event.
    public mutating func apply(_ event: ExecutionEvent) {
        switch event {
        case .jobStarted(let id, _):
            waiting.removeAll { $0 == id }
            running.append(id)
        case .output:
            break
        case .jobFinished(let r):
            running.removeAll { $0 == r.id }
            waiting.removeAll { $0 == r.id }
            if r.status == .succeeded { succeeded.append(r.id) } else { failed.append(r.id) }
        case .jobSkipped(let r):
            waiting.removeAll { $0 == r.id }
            skipped.append(r.id)
        }
    }

    /// A few plain-text lines: the counts, then the running jobs.
    public func render() -> String {
        var out = "running \(running.count) · waiting \(waiting.count) · done \(doneCount)"
        if !failed.isEmpty || !skipped.isEmpty { out += " (\(failed.count) failed, \(skipped.count) skipped)" }
        if cacheHits > 0 { out += " · \(cacheHits) cache hit\(cacheHits == 1 ? "" : "s")" }
        for id in running { out += "\n  ▶ \(id)" }
        return out
    }
}
