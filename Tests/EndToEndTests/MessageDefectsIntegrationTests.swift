import Foundation
import StackshipTesting
import Testing

/// Issue 23's message defects and the `.stackship/.gitignore`, as a user meets them: each test
/// runs the CLI and fails on the message as it was before its fix.
@Suite(.serialized) struct MessageDefectsIntegrationTests {
    /// A stack with a base image made in the stack itself and an image on it: the app image's
    /// size includes its base, as `images` counts it.
    static func writeBasedStack(_ p: Project) throws {
        try p.write("base/etc/base-release", String(repeating: "base layer content\n", count: 4000))
        try p.write("app/hello.txt", "hello\n")
        try p.write("stack.yaml", """
            images:
              base:
                layers:
                  - source: ./base
                    destination: /
              app:
                base: base:latest
                layers:
                  - source: ./app
                    destination: /srv
            """)
    }

    @Test func buildSummarySizeIsTheSizeImagesShows() throws {
        let p = Project()
        try Self.writeBasedStack(p)
        let build = try stackship(["build"], cwd: p.path)
        #expect(build.status == 0, "\(build.out)\n\(build.err)")
        let images = try stackship(["images"], cwd: p.path)
        let row = try #require(images.out.split(separator: "\n").first { $0.hasPrefix("app ") }, "\(images.out)")
        // SIZE is the last column; its value is "NUMBER UNIT".
        let size = row.split(separator: " ").suffix(2).joined(separator: " ")
        let summary = try #require(build.out.split(separator: "\n").first { $0.hasPrefix("app: ") }, "\(build.out)")
        #expect(summary.hasSuffix("(1 layer on a base of 1 layer, \(size))"), "build said \(summary); images said \(row)")
    }

    @Test func buildWritesAGitignoreWhenItCreatesTheStateFolder() throws {
        try requireTool("git", package: "git")
        let p = Project()
        try p.makeHello()
        let build = try stackship(["build"], cwd: p.path)
        #expect(build.status == 0, "\(build.out)\n\(build.err)")
        let ignore = try String(contentsOfFile: p.path + "/.stackship/.gitignore", encoding: .utf8)
        #expect(ignore == "*\n")
        // git itself keeps the store out: a `git add -A` adds the project, not .stackship.
        #expect(try run("git", ["init", "-q"], cwd: p.path).status == 0)
        let add = try run("git", ["add", "-A"], cwd: p.path)
        #expect(add.status == 0, "\(add.err)")
        let staged = try run("git", ["diff", "--cached", "--name-only"], cwd: p.path).out.split(separator: "\n")
        #expect(staged.contains("stack.yaml") && !staged.contains { $0.hasPrefix(".stackship") }, "\(staged)")

        // A .stackship the user made is theirs: no .gitignore appears in it.
        let q = Project()
        try q.makeHello()
        try FileManager.default.createDirectory(atPath: q.path + "/.stackship", withIntermediateDirectories: true)
        #expect(try stackship(["build"], cwd: q.path).status == 0)
        #expect(!FileManager.default.fileExists(atPath: q.path + "/.stackship/.gitignore"))
    }

    @Test func awsErrorsAreAllReportedAtOnceWithTheirPlaces() throws {
        let p = try AWSProject(endpoint: "http://127.0.0.1:\(try Loopback.freePort())")
        try p.write("stack.yaml", """
            aws:
              project: Hello_World
              registry:
                github_repository: acme/hello
                keep_imagez: 3
              bogus: 1
            """)
        let r = try p.stackship(["aws", "render", "--all", "--output", "cfn"])
        #expect(r.status == 1, "\(r.out)\n\(r.err)")
        for place in ["stack.yaml:2:12: aws.project: \"Hello_World\" is not valid", "stack.yaml:5:5: unknown key 'keep_imagez' in aws.registry; did you mean 'keep_images'?",
                      "stack.yaml:6:3: unknown key 'bogus' in aws;"] {
            #expect(r.err.contains(place), "missing '\(place)' in:\n\(r.err)")
        }
        #expect(r.err.contains("error: 3 problems in the stack file:"), "\(r.err)")
    }

    @Test func healthSaysItsRegistryAdviceOnce() throws {
        let port = try Loopback.freePort()
        let p = try AWSProject(endpoint: "http://127.0.0.1:\(port)", credentials: false)
        let r = try p.stackship(["health", "--registry", "127.0.0.1:\(port)"])
        let lines = r.out.split(separator: "\n").map(String.init)
        let at = try #require(lines.firstIndex { $0.hasPrefix("FAIL registry 127.0.0.1:\(port)") }, "\(r.out)")
        let fix = lines[at + 1]
        #expect(fix.hasPrefix("     fix: "), "\(r.out)")
        #expect(fix.components(separatedBy: "HTTPS_PROXY").count == 2, "the proxy advice is given twice: \(fix)")
        #expect(fix.lowercased().components(separatedBy: "check the host").count == 2, "the host advice is given twice: \(fix)")
        #expect(fix.contains("--insecure") && fix.contains("--ca-cert"), "\(fix)")
    }

    @Test func loginECRWarnsWhenTheTokenHasExpiredAlready() async throws {
        // moto answers GetAuthorizationToken with expiresAt 2015-01-01, a token already dead.
        try await MotoServer.with { moto in
            let p = try AWSProject(endpoint: moto.endpoint)
            let r = try p.stackship(["login", "ecr"])
            #expect(r.status == 0, "\(r.out)\n\(r.err)")
            #expect(r.out.contains("Login Succeeded for "), "\(r.out)")
            #expect(!r.out.contains("valid until 2015"), "a validity in the past is not a validity: \(r.out)")
            #expect(r.err.contains("warning: the token's validity ended at 2015-01-01"), "\(r.err)")
            #expect(r.err.contains("check this machine's clock"), "\(r.err)")
        }
    }
}
