import ArgumentParser
import Foundation
import Pipelines

struct PipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Run the stack's pipeline on this machine.",
        subcommands: [PipelineRunCommand.self]
    )
}

struct PipelineRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the plan's jobs here, up to --jobs at once, each after the jobs it needs.",
        discussion: """
        Every job is a stackship command, run with this stackship. Its output streams as \
        `[job-id] line` and goes to .stackship/pipeline/logs/JOB.log beside the stack file; on a \
        terminal a status line shows what runs. A failed job's dependents are skipped; without \
        --keep-going nothing new starts after the first failure. The exit code is 0 only when \
        every job succeeded.

        Examples:
          stackship pipeline run -j 4
          stackship pipeline run --junit report/junit.xml --html report/index.html --keep-going
        """
    )

    @Option(name: [.short, .long], help: "How many jobs run at once.")
    var jobs: Int = 2

    @Flag(name: .long, help: "Go on starting jobs that do not need a failed one.")
    var keepGoing = false

    @Option(name: .long, help: ArgumentHelp("Write a JUnit XML report here.", valueName: "file"))
    var junit: String?

    @Option(name: .long, help: ArgumentHelp("Write a self-contained HTML report here.", valueName: "file"))
    var html: String?

    @OptionGroup var planOptions: PlanOptions

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        let me = self
        try AsyncCLI.run {
            let plan = try me.planOptions.plan()
            let stackDirectory = (CLI.absolute(me.planOptions.stack) as NSString).deletingLastPathComponent
            // --cache and --push-cache reach every job (as STACKSHIP_CACHE, the push target first).
            var environment = ProcessInfo.processInfo.environment
            let cache = me.planOptions.cacheOptions
            if !cache.caches.isEmpty || cache.pushCache != nil {
                var locations = cache.pushCache.map { [CacheLocationOptions.normalise($0)] } ?? []
                for location in cache.caches.map(CacheLocationOptions.normalise) where !locations.contains(location) { locations.append(location) }
                environment["STACKSHIP_CACHE"] = locations.joined(separator: ",")
            }
            let executor = LocalExecutor(options: .init(
                jobs: me.jobs, keepGoing: me.keepGoing, program: RuntimeOptions.selfExecutable,
                logDirectory: URL(fileURLWithPath: stackDirectory + "/.stackship/pipeline/logs"), environment: environment))
            let view = PipelineView(plan: plan, live: CLI.isTerminal)
            let report = try await executor.run(plan) { view.show($0) }
            view.finish()
            if let junit = me.junit { try writeAtomically(JUnitReport.xml(report), to: junit) }
            if let html = me.html { try writeAtomically(HTMLReport.html(report), to: html) }
            let count = { (s: JobResult.Status) in report.results(s).count }
            let summary = "pipeline: \(count(.succeeded)) succeeded, \(count(.failed)) failed, \(count(.skipped)) skipped, \(count(.cacheHit)) from the cache"
            FileHandle.standardError.write(Data("\(summary)\n".utf8))
            if !report.succeeded {
                for r in report.results(.failed) {
                    FileHandle.standardError.write(Data("failed: \(r.id): \(r.reason ?? "") (log \(r.logFile ?? "-"))\n".utf8))
                }
                throw ExitCode.failure
            }
        }
    }
}

/// Streams the executor's events as `[job-id] line` on stdout; on a terminal, the live view's
/// first line is redrawn below them on stderr.
final class PipelineView: @unchecked Sendable {
    private let lock = NSLock()
    private var live: LiveView
    private let progress = ProgressLine()
    private let isLive: Bool

    init(plan: Plan, live: Bool) {
        self.live = LiveView(plan: plan)
        self.isLive = live
    }

    func show(_ event: ExecutionEvent) {
        lock.withLock {
            live.apply(event)
            if isLive { progress.clear() }
            let line = event.formatted + "\n"
            FileHandle.standardOutput.write(Data(line.utf8))
            if isLive {
                let lines = live.render().split(separator: "\n")
                let running = lines.dropFirst().map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "▶ ", with: "") }
                progress.status(String(lines.first ?? "") + (running.isEmpty ? "" : " · " + running.joined(separator: ", ")))
            }
        }
    }

    func finish() {
        lock.withLock { progress.clear() }
    }
}
