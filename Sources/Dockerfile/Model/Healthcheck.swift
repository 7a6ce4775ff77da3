/// `HEALTHCHECK NONE` or `HEALTHCHECK [--interval=...] [--timeout=...] [--start-period=...]
/// [--start-interval=...] [--retries=N] CMD command`.
///
/// Durations are `nil` when not given or given as zero (the runtime's default applies), as in
/// the image config Docker writes.
public struct Healthcheck: Sendable, Hashable {
    /// What the check runs.
    public enum Test: Sendable, Hashable {
        /// `NONE`: turn off a check inherited from the base image.
        case none
        /// `CMD ...`: the command, in shell or exec form.
        case command(CommandForm)
    }

    /// What the check runs.
    public var test: Test
    /// `--interval`.
    public var interval: Duration?
    /// `--timeout`.
    public var timeout: Duration?
    /// `--start-period`.
    public var startPeriod: Duration?
    /// `--start-interval`.
    public var startInterval: Duration?
    /// `--retries`.
    public var retries: Int?

    /// Creates a health check.
    public init(test: Test, interval: Duration? = nil, timeout: Duration? = nil, startPeriod: Duration? = nil,
                startInterval: Duration? = nil, retries: Int? = nil) {
        self.test = test
        self.interval = interval
        self.timeout = timeout
        self.startPeriod = startPeriod
        self.startInterval = startInterval
        self.retries = retries
    }

    /// The image config's `Test` array: `["NONE"]`, `["CMD", args...]` for exec form, or
    /// `["CMD-SHELL", command]` for shell form.
    public var testArguments: [String] {
        switch test {
        case .none: return ["NONE"]
        case let .command(.exec(arguments)): return ["CMD"] + arguments
        case let .command(.shell(text)): return ["CMD-SHELL", text]
        }
    }

    /// `duration` in whole nanoseconds, the unit of the image config's health-check fields.
    public static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        let (total, overflowAgain) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflowAgain ? Int64.max : total
    }
}
