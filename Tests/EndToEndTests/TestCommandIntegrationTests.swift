import Foundation
import Testing

/// A busybox builder stack (as PackageIntegrationTests' one) with a web image served by busybox httpd and a
/// `test:` that fetches from it, built and tested under runc.
enum WebStack {
    static func make(_ project: Project, test: String, entrypoint: String = "[sh, -c, \"mkdir -p /tmp/www && cat /opt/stack/*/share/*.txt > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www\"]",
                     extra: String = "") throws {
        try BusyboxStack.write(project, images: """
              web:
                packages: [c]
                config: {entrypoint: \(entrypoint)}
                test: \(test)
              two:
                packages: [e]
            """, trailer: """
            ci:
              publish: []
            \(extra)
            """)
    }

    /// The host-side test command: fetch the page with busybox wget and look for the packages' text.
    static let fetch = "{port: 80, command: [sh, -c, \"busybox wget -q -O - http://$STACKSHIP_TEST_HOST:$STACKSHIP_TEST_PORT/ | grep -q beta\"], timeout: 30}"
}

@Suite(.serialized)
struct TestCommandIntegrationTests {
    static let env = ["STACKSHIP_CACHE": "", "SOURCE_DATE_EPOCH": ""]

    @Test func passesWhenTheCommandSucceedsAgainstTheRunningImage() throws {
        let project = Project()
        try WebStack.make(project, test: WebStack.fetch)
        let build = try stackship(["build", "stack.yaml", "--image", "web"], cwd: project.path, env: Self.env)
        #expect(build.status == 0, "\(build.err)")
        let r = try stackship(["test", "web"], cwd: project.path, env: Self.env)
        #expect(r.status == 0, "\(r.out)\n\(r.err)")
        #expect(r.err.contains("test web: passed"), "\(r.err)")
        // The container is gone afterwards.
        let ps = try stackship(["ps", "-a"], cwd: project.path, env: Self.env)
        #expect(!ps.out.contains("stackship-test-web"), "\(ps.out)")
    }

    @Test func theExitCodeIsTheCommands() throws {
        let project = Project()
        try WebStack.make(project, test: "{port: 80, command: [sh, -c, \"echo checking $STACKSHIP_TEST_IMAGE; exit 3\"]}")
        let build = try stackship(["build", "stack.yaml", "--image", "web"], cwd: project.path, env: Self.env)
        #expect(build.status == 0, "\(build.err)")
        let r = try stackship(["test", "web"], cwd: project.path, env: Self.env)
        #expect(r.status == 3, "\(r.out)\n\(r.err)")
        #expect(r.out.contains("checking web"))
        #expect(r.err.contains("test web: FAILED: the test command exited with status 3"), "\(r.err)")
    }

    /// The command runs in the stack file's folder (a relative script is the stack's, wherever
    /// `stackship test` is typed) with `test: env:`; a list is run as written, and says so.
    @Test func theCommandRunsInTheStackFolderWithItsEnv() throws {
        let project = Project()
        try project.write("tests/check.sh", "#!/bin/sh\necho \"in $(pwd) greeting=$GREETING port=$STACKSHIP_TEST_PORT\"\n", mode: 0o755)
        try WebStack.make(project, test: "{port: 80, command: [./tests/check.sh, \"$GREETING\"], env: {GREETING: hello}}")
        let build = try stackship(["build", "stack.yaml", "--image", "web"], cwd: project.path, env: Self.env)
        #expect(build.status == 0, "\(build.err)")
        let elsewhere = project.path + "/sub/dir"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        let r = try stackship(["test", "web", "--stack", project.path + "/stack.yaml"], cwd: elsewhere, env: Self.env)
        #expect(r.status == 0, "\(r.out)\n\(r.err)")
        #expect(r.out.contains("in \(project.path) greeting=hello port="), "\(r.out)")
        #expect(r.err.contains("passed as written, `$` and all"), "\(r.err)")

        try project.write("stack.yaml", try String(contentsOfFile: project.path + "/stack.yaml", encoding: .utf8)
            .replacingOccurrences(of: "env: {GREETING: hello}", with: "env: {STACKSHIP_TEST_PORT: \"1\"}"))
        let refused = try stackship(["test", "web"], cwd: project.path, env: Self.env)
        #expect(refused.status != 0 && refused.err.contains("'STACKSHIP_TEST_PORT' in the test of image 'web' is set by stackship test itself"), "\(refused.err)")
    }

    @Test func aPortThatNeverAnswersTimesOutNamingThePortAndTheImage() throws {
        let project = Project()
        try WebStack.make(project, test: "{port: 8080, command: [\"true\"], timeout: 2}",
                          entrypoint: "[sh, -c, \"echo not listening; exec sleep 60\"]")
        let build = try stackship(["build", "stack.yaml", "--image", "web"], cwd: project.path, env: Self.env)
        #expect(build.status == 0, "\(build.err)")
        let started = Date()
        let r = try stackship(["test", "web"], cwd: project.path, env: Self.env)
        #expect(r.status == 124, "\(r.err)")
        #expect(r.err.contains("error: image 'web': port 8080 did not answer within 2 s"), "\(r.err)")
        #expect(r.err.contains("not listening"), "the container's output is shown: \(r.err)")
        #expect(Date().timeIntervalSince(started) < 30)
        let ps = try stackship(["ps", "-a"], cwd: project.path, env: Self.env)
        #expect(!ps.out.contains("stackship-test-web"), "\(ps.out)")
    }

    @Test func anImageWithoutATestOrNotBuiltIsAClearError() throws {
        let project = Project()
        try WebStack.make(project, test: WebStack.fetch)
        let none = try stackship(["test", "two"], cwd: project.path, env: Self.env)
        #expect(none.status == 1)
        #expect(none.err.contains("image 'two' has no `test:`"), "\(none.err)")
        let unbuilt = try stackship(["test", "web"], cwd: project.path, env: Self.env)
        #expect(unbuilt.status == 1)
        #expect(unbuilt.err.contains("build it first"), "\(unbuilt.err)")
    }
}
