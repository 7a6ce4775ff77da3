import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Pipelines

/// Collects events from the executor's tasks.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [ExecutionEvent] = []
    func add(_ e: ExecutionEvent) { lock.lock(); items.append(e); lock.unlock() }
    var events: [ExecutionEvent] { lock.lock(); defer { lock.unlock() }; return items }
    var lines: [String] { events.map(\.formatted) }
}

@Suite("Pipelines local executor")
struct ExecutorTests {
    static func sh(_ id: String, _ script: String, needs: [String] = [], kind: Job.Kind = .package) -> Job {
        Job(id: id, kind: kind, argv: ["/bin/sh", "-c", script], needs: needs, subject: id)
    }

    static func run(_ plan: Plan, jobs: Int = 2, keepGoing: Bool = false, program: String? = nil) async throws -> (ExecutionReport, EventLog, URL) {
        let dir = try Fixtures.temporaryDirectory("executor")
        let log = EventLog()
        let executor = LocalExecutor(options: .init(jobs: jobs, keepGoing: keepGoing, program: program, logDirectory: dir.appendingPathComponent("logs")))
        let report = try await executor.run(plan) { log.add($0) }
        return (report, log, dir)
    }

    static func result(_ report: ExecutionReport, _ id: String) -> JobResult { report.results.first { $0.id == id }! }

    @Test func runsInOrderStreamsPrefixedLinesAndWritesLogs() async throws {
        let plan = try Plan(stackName: "ok", jobs: [
            Self.sh("a", "echo hello from a; echo second line >&2"),
            Self.sh("b", "echo b ran", needs: ["a"]),
            Self.sh("c", "printf 'no newline at end'", needs: ["b"]),
        ])
        let (report, log, dir) = try await Self.run(plan)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(report.succeeded)
        #expect(report.results.map(\.status) == [.succeeded, .succeeded, .succeeded])
        let lines = log.lines
        #expect(lines.contains("[a] hello from a"))
        #expect(lines.contains("[a] second line"))
        #expect(lines.contains("[c] no newline at end"))
        #expect(lines.firstIndex(of: "[a] started")! < lines.firstIndex(of: "[b] started")!)
        let a = Self.result(report, "a"), b = Self.result(report, "b")
        #expect(b.start! >= a.end!)
        #expect(a.duration >= 0 && a.exitCode == 0)
        let text = try String(contentsOfFile: a.logFile!, encoding: .utf8)
        #expect(text.contains("hello from a") && text.contains("second line"))
        #expect(a.logTail == ["hello from a", "second line"])
    }

    @Test func failureSkipsDependentsAndStopsWithoutKeepGoing() async throws {
        let plan = try Plan(stackName: "fail", jobs: [
            Self.sh("a_bad", "echo about to fail; exit 3"),
            Self.sh("b", "echo never", needs: ["a_bad"]),
            Self.sh("c", "echo never", needs: ["b"]),
            Self.sh("z_other", "echo independent"),
        ])
        let (report, log, dir) = try await Self.run(plan, jobs: 1)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(!report.succeeded)
        let bad = Self.result(report, "a_bad")
        #expect(bad.status == .failed && bad.exitCode == 3)
        #expect(bad.logTail == ["about to fail"])
        #expect(Self.result(report, "b").status == .skipped)
        #expect(Self.result(report, "b").reason == "needs a_bad, which failed")
        #expect(Self.result(report, "c").status == .skipped)
        // jobs = 1 and no keep-going: the independent job never started.
        #expect(Self.result(report, "z_other").status == .skipped)
        #expect(Self.result(report, "z_other").reason?.contains("keep-going is off") == true)
        #expect(!log.lines.contains("[z_other] independent"))
        #expect(log.lines.contains("[a_bad] FAILED (exit 3) after \(String(format: "%.2f", bad.duration)) s"))
    }

    @Test func keepGoingRunsIndependentJobs() async throws {
        let plan = try Plan(stackName: "keep", jobs: [
            Self.sh("a_bad", "exit 1"),
            Self.sh("b", "echo never", needs: ["a_bad"]),
            Self.sh("z_other", "echo independent"),
            Self.sh("z_after", "echo after", needs: ["z_other"]),
        ])
        let (report, log, dir) = try await Self.run(plan, jobs: 1, keepGoing: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(Self.result(report, "a_bad").status == .failed)
        #expect(Self.result(report, "b").status == .skipped)
        #expect(Self.result(report, "z_other").status == .succeeded)
        #expect(Self.result(report, "z_after").status == .succeeded)
        #expect(log.lines.contains("[z_after] after"))
    }

    @Test func runsJobsConcurrentlyUpToTheLimit() async throws {
        let jobs = (1...4).map { Self.sh("sleep\($0)", "sleep 1") }
        let plan = try Plan(stackName: "par", jobs: jobs)
        func maxOverlap(_ r: ExecutionReport) -> Int {
            var best = 0
            for x in r.results {
                let overlapping = r.results.filter { $0.start! < x.end! && x.start! < $0.end! }.count
                best = max(best, overlapping)
            }
            return best
        }
        let (parallel, _, d1) = try await Self.run(plan, jobs: 4)
        defer { try? FileManager.default.removeItem(at: d1) }
        #expect(parallel.succeeded)
        #expect(maxOverlap(parallel) > 1, "jobs ran at the same time")
        let (serial, _, d2) = try await Self.run(plan, jobs: 1)
        defer { try? FileManager.default.removeItem(at: d2) }
        #expect(maxOverlap(serial) == 1, "one at a time with jobs = 1")
    }

    @Test func programOverrideAndLaunchFailure() async throws {
        let plan = try Plan(stackName: "prog", jobs: [
            Job(id: "x", kind: .package, argv: ["stackship", "-c", "echo overridden"]),
        ])
        let (report, log, dir) = try await Self.run(plan, program: "/bin/sh")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(report.succeeded)
        #expect(log.lines.contains("[x] overridden"))

        let missing = try Plan(stackName: "missing", jobs: [
            Job(id: "m", kind: .package, argv: ["/nonexistent/stackship", "build"]),
            Job(id: "n", kind: .image, argv: ["/bin/true"], needs: ["m"]),
        ])
        let (r2, _, d2) = try await Self.run(missing)
        defer { try? FileManager.default.removeItem(at: d2) }
        let m = Self.result(r2, "m")
        #expect(m.status == .failed && m.exitCode == nil)
        #expect(m.reason?.contains("could not start '/nonexistent/stackship'") == true)
        #expect(Self.result(r2, "n").status == .skipped)
    }

    @Test func planFromStackRunsWithCacheHitsAndLiveView() async throws {
        let plan = try Plan.make(from: Fixtures.hello)
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let executor = LocalExecutor(options: .init(jobs: 3, program: "/bin/echo", logDirectory: dir))
        let (events, task) = executor.stream(plan)
        var view = LiveView(plan: plan)
        #expect(view.waiting.count == plan.jobs.count)
        var sawRunning = false
        var lines: [String] = []
        for await event in events {
            view.apply(event)
            if !view.running.isEmpty { sawRunning = true }
            lines.append(event.formatted)
        }
        let report = try await task.value
        #expect(report.succeeded)
        #expect(sawRunning)
        #expect(view.waiting.isEmpty && view.running.isEmpty)
        #expect(view.succeeded.count == plan.jobs.count && view.doneCount == plan.jobs.count)
        #expect(view.render().hasPrefix("running 0 · waiting 0 · done \(plan.jobs.count) · 2 cache hits"))
        #expect(lines.contains("[package_openssl] build examples/hello/stack.yaml --package openssl"))
        let hits = report.results(.cacheHit)
        #expect(hits.map(\.id) == ["package_busybox", "package_zlib"])
        #expect(hits.allSatisfy { $0.start == nil && $0.reason?.hasPrefix("in the cache") == true })
    }

    @Test func unusableLogDirectoryIsAClearError() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let executor = LocalExecutor(options: .init(logDirectory: file.appendingPathComponent("logs")))
        let plan = try Plan(stackName: "t", jobs: [Self.sh("a", "true")])
        let error = await #expect(throws: PipelineError.self) { try await executor.run(plan) }
        #expect(error?.description.contains("could not write") == true)
    }

    static func mixedReport() async throws -> (ExecutionReport, URL) {
        var input = Fixtures.hello
        input.stackName = "mixed <&> \"stack\""
        let base = try Plan.make(from: input)
        // The same DAG with shell commands: openssl fails with hostile output, the rest succeed.
        let jobs = base.jobs.map { job -> Job in
            var job = job
            job.argv = job.id == "package_openssl"
                ? ["/bin/sh", "-c", "echo 'compiling <crypto> & \"friends\"'; printf 'bell\\a]]>\\n'; exit 2"]
                : ["/bin/sh", "-c", "echo ok \(job.id)"]
            return job
        }
        let plan = try Plan(stackName: base.stackName, stackFile: base.stackFile, jobs: jobs, pruned: base.pruned, settings: base.settings)
        let (report, _, dir) = try await run(plan, jobs: 2, keepGoing: true)
        return (report, dir)
    }

    @Test func junitParsesBackWithFailuresAndEscapedTails() async throws {
        let (report, dir) = try await Self.mixedReport()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (junitURL, _) = try HTMLReport.writeReports(report, to: dir)
        let doc = try XMLDocument(contentsOf: junitURL, options: [])
        let root = try #require(doc.rootElement())
        #expect(root.name == "testsuites")
        #expect(root.attribute(forName: "name")?.stringValue == "mixed <&> \"stack\"")
        #expect(root.attribute(forName: "tests")?.stringValue == String(report.results.count))
        #expect(root.attribute(forName: "failures")?.stringValue == "1")
        let cases = try doc.nodes(forXPath: "//testcase").compactMap { $0 as? XMLElement }
        #expect(Set(cases.compactMap { $0.attribute(forName: "name")?.stringValue }) == Set(report.results.map(\.id)))
        let failures = try doc.nodes(forXPath: "//testcase/failure").compactMap { $0 as? XMLElement }
        #expect(failures.count == 1)
        let failureText = failures.first?.stringValue ?? ""
        #expect(failureText.contains("compiling <crypto> & \"friends\""))
        #expect(failureText.contains("bell\u{FFFD}]]>"))
        #expect((failures.first?.parent as? XMLElement)?.attribute(forName: "name")?.stringValue == "package_openssl")
        let skipped = try doc.nodes(forXPath: "//testcase/skipped").compactMap { $0 as? XMLElement }
        // curl, hello-app, image_hello, test_hello, publish_hello, reindex, cleanup skipped; 2 cache hits.
        #expect(skipped.count == report.results(.skipped).count + 2)
        #expect(skipped.contains { $0.attribute(forName: "message")?.stringValue?.hasPrefix("cache hit") == true })
        let suites = try doc.nodes(forXPath: "/testsuites/testsuite").compactMap { ($0 as? XMLElement)?.attribute(forName: "name")?.stringValue }
        #expect(suites == ["package", "image", "test", "publish", "reindex", "cleanup"])
    }

}

extension ExecutorTests {
    /// The tests of this suite that start a real component or need root:
    /// `swift test --skip Integration` (the unit tier) leaves them out.
    @Suite struct Integration {
        @Test func htmlReportHasEveryJobAndRendersInChromium() async throws {
            let (report, dir) = try await ExecutorTests.mixedReport()
            defer { try? FileManager.default.removeItem(at: dir) }
            let (_, htmlURL) = try HTMLReport.writeReports(report, to: dir)
            let html = try String(contentsOf: htmlURL, encoding: .utf8)
            for r in report.results { #expect(html.contains("id=\"row-\(r.id)\"")) }
            #expect(html.contains("compiling &lt;crypto&gt; &amp; &quot;friends&quot;"))
            #expect(html.contains("mixed &lt;&amp;&gt; &quot;stack&quot;"))
            #expect(!html.contains("src=") && !html.contains("href="))
            #expect(html.contains("class=\"bar failed\""))
            #expect(html.contains("cache hit"))

            guard let chromium = Fixtures.tool("chromium", hint: "apt-get install chromium") else { return }
            let profile = dir.appendingPathComponent("chromium-profile")
            let r = try Fixtures.run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                                "--user-data-dir=\(profile.path)", "--dump-dom", htmlURL.absoluteString])
            #expect(r.status == 0, "chromium: \(r.output.suffix(2000))")
            // The job index only exists in the DOM if the page's own script ran.
            #expect(r.output.contains("data-rendered=\"script\""), "the page's script ran")
            for result in report.results {
                #expect(r.output.contains("data-job=\"\(result.id)\""), "\(result.id) in the rendered DOM")
            }
        }
    }
}
