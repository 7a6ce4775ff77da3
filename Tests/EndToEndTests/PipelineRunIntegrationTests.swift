import Foundation
import Testing

/// `stackship pipeline run` on the busybox builder stack under runc: packages, images, the web
/// image's test against its running container, cache reindex and cleanup, with reports.
@Suite(.serialized)
struct PipelineRunIntegrationTests {
    static let env = ["STACKSHIP_CACHE": "", "SOURCE_DATE_EPOCH": ""]

    @Test func runsTheStackEndToEndWithReportsAndEveryJobInTheHTML() throws {
        let project = Project()
        try WebStack.make(project, test: WebStack.fetch)
        let plan = try stackship(["plan"], cwd: project.path, env: Self.env)
        #expect(plan.status == 0, "\(plan.err)")
        let r = try stackship(["pipeline", "run", "-j", "2", "--junit", "reports/junit.xml", "--html", "reports/report.html"],
                              cwd: project.path, env: Self.env)
        #expect(r.status == 0, "\(r.out)\n\(r.err)")
        let jobs = ["package_a", "package_b", "package_c", "package_d", "package_e", "image_builder", "image_web", "image_two",
                    "test_web", "cache_reindex", "cache_cleanup"]
        for id in jobs {
            #expect(r.out.contains("[\(id)] succeeded in "), "\(id): \(r.out)")
        }
        // Output streams prefixed with the job id; the test ran against the running container.
        #expect(r.out.contains("[test_web] test web: port 80 answers on 127.0.0.1:"), "\(r.out)")
        #expect(r.out.contains("[test_web] test web: passed"), "\(r.out)")
        #expect(r.err.contains("pipeline: 11 succeeded, 0 failed, 0 skipped"), "\(r.err)")
        #expect(FileManager.default.fileExists(atPath: project.path + "/.stackship/pipeline/logs/test_web.log"))

        let junit = try String(contentsOfFile: project.path + "/reports/junit.xml", encoding: .utf8)
        for id in jobs { #expect(junit.contains(id), "\(id) in junit.xml") }
        #expect(junit.contains("failures=\"0\""))

        let chromium = try PipelineIntegrationTests.tool("chromium", hint: "apt-get install chromium")
        let profile = project.path + "/chromium-profile"
        let dom = try run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                     "--user-data-dir=\(profile)", "--dump-dom", "file://\(project.path)/reports/report.html"])
        #expect(dom.status == 0, "chromium: \(dom.err.suffix(2000))")
        #expect(dom.out.contains("data-rendered=\"script\""), "the page's script ran")
        for id in jobs { #expect(dom.out.contains("data-job=\"\(id)\""), "\(id) in the rendered DOM") }

        // Second run: the packages are in the store, the same images come out.
        let digest = try project.digest(of: "web:latest")
        let again = try stackship(["pipeline", "run"], cwd: project.path, env: Self.env)
        #expect(again.status == 0, "\(again.out)\n\(again.err)")
        #expect(try project.digest(of: "web:latest") == digest)
    }

    @Test func aFailingTestSkipsWhatNeedsItAndKeepGoingRunsTheRest() throws {
        let project = Project()
        try WebStack.make(project, test: "{port: 80, command: [\"false\"]}")
        let r = try stackship(["pipeline", "run", "--keep-going", "--junit", "junit.xml"], cwd: project.path, env: Self.env)
        #expect(r.status == 1, "\(r.out)\n\(r.err)")
        #expect(r.out.contains("[test_web] FAILED (exit 1)"), "\(r.out)")
        #expect(r.out.contains("[cache_cleanup] skipped: needs test_web, which failed"), "\(r.out)")
        #expect(r.out.contains("[image_two] succeeded"), "--keep-going runs what does not need the test: \(r.out)")
        #expect(r.err.contains("failed: test_web: exited with status 1"), "\(r.err)")
        let junit = try String(contentsOfFile: project.path + "/junit.xml", encoding: .utf8)
        #expect(junit.contains("test_web"))
    }
}
