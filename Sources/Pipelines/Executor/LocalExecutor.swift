#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support

/// Runs a plan on this machine: up to `jobs` commands at once, each after the jobs it needs
/// succeeded. A failed job's dependents are skipped; with `keepGoing` everything independent
/// still runs, without it nothing new starts after the first failure. Output streams as events
/// (`[job-id] line`) and goes to one log file per job. The executor never prints.
public struct LocalExecutor: Sendable {
    /// How to run.
    public struct Options: Sendable {
        /// The most jobs running at once (at least 1).
        public var jobs: Int
        /// Keep starting independent jobs after a failure.
        public var keepGoing: Bool
        /// When set, replaces every job's `argv[0]` (e.g. a built `stackship` binary).
        public var program: String?
        /// Where per-job logs go (`<id>.log`); created if missing.
        public var logDirectory: URL
        /// The environment every job starts with (each job's `env` is added on top).
        public var environment: [String: String]
        /// How many trailing log lines a result keeps.
        public var logTailLines: Int
        /// How often a running job's log is read for new lines.
        public var pollInterval: Duration

        /// Creates options; the environment defaults to this process's.
        public init(jobs: Int = 2, keepGoing: Bool = false, program: String? = nil, logDirectory: URL,
                    environment: [String: String] = ProcessInfo.processInfo.environment,
                    logTailLines: Int = 40, pollInterval: Duration = .milliseconds(50)) {
            self.jobs = jobs
            self.keepGoing = keepGoing
            self.program = program
            self.logDirectory = logDirectory
            self.environment = environment
            self.logTailLines = logTailLines
            self.pollInterval = pollInterval
        }
    }

    /// The options.
    public var options: Options

    /// Creates an executor.
    public init(options: Options) { self.options = options }

    /// Runs the plan to the end and returns the report; events arrive on `onEvent` as they
    /// happen (from several tasks; the callback must be thread-safe).
    /// - Throws: `PipelineError.writeFailed` when the log directory cannot be created. A job
    ///   that fails, or cannot start, does not throw: it is a failed result.
    public func run(_ plan: Plan, onEvent: @escaping @Sendable (ExecutionEvent) -> Void = { _ in }) async throws -> ExecutionReport {
        do {
            try FileManager.default.createDirectory(at: options.logDirectory, withIntermediateDirectories: true)
        } catch {
            throw PipelineError.writeFailed(path: options.logDirectory.path, reason: error.localizedDescription)
        }
        let started = Date()
        let order = Dictionary(uniqueKeysWithValues: plan.jobs.enumerated().map { ($0.element.id, $0.offset) })
        let dependents = plan.dependents
        var waitingOn = Dictionary(uniqueKeysWithValues: plan.jobs.map { ($0.id, Set($0.needs)) })
        var ready = plan.jobs.filter { $0.needs.isEmpty }
        var results: [String: JobResult] = [:]
        var stopped = false
        let limit = max(1, options.jobs)

        func skip(dependentsOf id: String, reason: String) {
            var pending = dependents[id] ?? []
            while let next = pending.popLast() {
                guard results[next] == nil else { continue }
                let job = plan.jobs[order[next]!]
                let r = JobResult(id: job.id, kind: job.kind, subject: job.subject, status: .skipped, reason: reason)
                results[next] = r
                onEvent(.jobSkipped(r))
                pending += dependents[next] ?? []
            }
        }

        await withTaskGroup(of: JobResult.self) { group in
            var running = 0
            while true {
                while running < limit && !stopped && !ready.isEmpty {
                    let job = ready.removeFirst()
                    running += 1
                    group.addTask { await self.runJob(job, onEvent: onEvent) }
                }
                guard running > 0, let result = await group.next() else { break }
                running -= 1
                results[result.id] = result
                onEvent(.jobFinished(result))
                if result.status == .succeeded {
                    var newly: [Job] = []
                    for d in dependents[result.id] ?? [] {
                        waitingOn[d]?.remove(result.id)
                        if waitingOn[d]?.isEmpty == true && results[d] == nil { newly.append(plan.jobs[order[d]!]) }
                    }
                    ready = (ready + newly).sorted { order[$0.id]! < order[$1.id]! }
                } else {
                    skip(dependentsOf: result.id, reason: "needs \(result.id), which failed")
                    if !options.keepGoing { stopped = true }
                }
            }
        }
        for job in plan.jobs where results[job.id] == nil {
            let r = JobResult(id: job.id, kind: job.kind, subject: job.subject, status: .skipped,
                              reason: "not started: the run stopped after a failure (keep-going is off)")
            results[job.id] = r
            onEvent(.jobSkipped(r))
        }
        let packageIDs = JobID.assign(prefix: "package_", names: plan.pruned.map(\.name))
        let hits = plan.pruned.map {
            JobResult(id: packageIDs[$0.name]!, kind: .package, subject: $0.name, status: .cacheHit,
                      reason: $0.reason == .cached ? "in the cache (\($0.hash))" : "unchanged since the base ref")
        }
        return ExecutionReport(stackName: plan.stackName, started: started, finished: Date(),
                               results: hits + plan.jobs.map { results[$0.id]! })
    }

    /// Runs the plan in a task and returns its events as a stream (finished when the run ends)
    /// together with that task, whose value is the report.
    public func stream(_ plan: Plan) -> (events: AsyncStream<ExecutionEvent>, report: Task<ExecutionReport, any Error>) {
        let (events, continuation) = AsyncStream<ExecutionEvent>.makeStream()
        let task = Task {
            defer { continuation.finish() }
            return try await run(plan) { continuation.yield($0) }
        }
        return (events, task)
    }

    private func runJob(_ job: Job, onEvent: @escaping @Sendable (ExecutionEvent) -> Void) async -> JobResult {
        let logURL = options.logDirectory.appendingPathComponent("\(job.id).log")
        var argv = job.argv
        if let program = options.program { argv[0] = program }
        let start = Date()
        func failed(_ reason: String) -> JobResult {
            JobResult(id: job.id, kind: job.kind, subject: job.subject, status: .failed, start: start, end: Date(),
                      reason: reason, logFile: logURL.path, logTail: [reason])
        }
        guard FileManager.default.createFile(atPath: logURL.path, contents: nil),
              let readHandle = FileHandle(forReadingAtPath: logURL.path) else {
            return failed(PipelineError.writeFailed(path: logURL.path, reason: "cannot create the job's log file").description)
        }
        defer { try? readHandle.close() }
        guard let executable = Self.resolve(argv[0], path: options.environment["PATH"]) else {
            return failed(PipelineError.launchFailed(job: job.id, program: argv[0], reason: "not found on PATH").description)
        }
        // Started through ChildProcess, not Foundation's Process: its children inherit a blocked
        // signal mask on Linux, so a job could not be stopped with SIGTERM or SIGINT.
        let output = open(logURL.path, O_WRONLY | O_APPEND | O_CLOEXEC)
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        let pid: pid_t
        do {
            guard output >= 0 else { throw SupportError.io(path: logURL.path, operation: "open", errno: errno) }
            pid = try ChildProcess.spawn(executable, Array(argv.dropFirst()),
                                         environment: options.environment.merging(job.env) { _, new in new }, fds: [null, output, output])
            close(output)
        } catch {
            if output >= 0 { close(output) }
            return failed(PipelineError.launchFailed(job: job.id, program: executable, reason: "\(error)").description)
        }
        onEvent(.jobStarted(id: job.id, at: start))

        // Output goes to the file (pipes hit EINTR here); new bytes are read back while it runs.
        var splitter = LineSplitter(tailLimit: options.logTailLines)
        func drain() {
            guard let data = try? readHandle.readToEnd(), !data.isEmpty else { return }
            for line in splitter.feed(data) { onEvent(.output(id: job.id, line: line)) }
        }
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || (reaped < 0 && errno != EINTR) { break }
            drain()
            try? await Task.sleep(for: options.pollInterval)
        }
        drain()
        if let last = splitter.finish() { onEvent(.output(id: job.id, line: last)) }
        let end = Date()
        let signaled = (status & 0x7f) != 0
        let code = signaled ? status & 0x7f : (status >> 8) & 0xff
        let ok = !signaled && code == 0
        return JobResult(id: job.id, kind: job.kind, subject: job.subject, status: ok ? .succeeded : .failed,
                         exitCode: signaled ? nil : code, start: start, end: end,
                         reason: ok ? nil : (signaled ? "killed by signal \(code)" : "exited with status \(code)"),
                         logFile: logURL.path, logTail: splitter.tail)
    }

    /// The program's path: as given when it holds a slash, else the first executable on PATH.
    static func resolve(_ program: String, path: String?) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// Splits a byte stream into lines (LF, with CR stripped) and keeps the last few.
struct LineSplitter {
    let tailLimit: Int
    private var partial = Data()
    private(set) var tail: [String] = []

    init(tailLimit: Int) { self.tailLimit = max(1, tailLimit) }

    mutating func feed(_ data: Data) -> [String] {
        partial.append(data)
        var lines: [String] = []
        while let nl = partial.firstIndex(of: 0x0A) {
            lines.append(decode(partial[partial.startIndex..<nl]))
            partial = Data(partial[(nl + 1)...])
        }
        for line in lines { remember(line) }
        return lines
    }

    mutating func finish() -> String? {
        guard !partial.isEmpty else { return nil }
        let line = decode(partial)
        partial = Data()
        remember(line)
        return line
    }

    private mutating func remember(_ line: String) {
        tail.append(line)
        if tail.count > tailLimit { tail.removeFirst(tail.count - tailLimit) }
    }

    private func decode(_ bytes: Data) -> String {
        var s = String(decoding: bytes, as: UTF8.self)
        if s.hasSuffix("\r") { s.removeLast() }
        return s
    }
}
