import BuildCache
import Foundation
import Pipelines
import Testing
@testable import Stack

/// `ci: install:`, `ci: setup:`, `ci: trusted_key:` and an image's `steps:` as the reader reads
/// them, and every mistake named at its place.
@Suite("stack.yaml: CI job set-up keys")
struct CIJobSetupKeyTests {
    @Test func installSetupAndTrustedKeyAreRead() throws {
        try withStackDir { dir in
            _ = try dir.mkdir("keys")
            _ = try SigningKey.generate(writingTo: dir.path + "/keys/cache")
            _ = try dir.write("tools/stackship.tar.gz", "artifact")
            let sum = String(repeating: "0f", count: 32)
            let stack = try dir.parse("""
                images: {web: {}}
                ci:
                  install: {url: tools/stackship.tar.gz, sha256: \(sum)}
                  trusted_key: keys/cache.pub
                  setup: ["apt-get install -y golang-go"]
                """)
            #expect(stack.ci.install == .release(url: "tools/stackship.tar.gz", sha256: sum))
            #expect(stack.ci.trustedKey == "keys/cache.pub")
            #expect(stack.ci.setup == PlanInput.Settings.Setup(commands: ["apt-get install -y golang-go"]))
            // Jobs run in the repository root, where the stack file is named from.
            let settings = StackPlanning.fromRepositoryRoot(StackPlanning.settings(stack.ci), stackPath: "services/web/stack.yaml")
            #expect(settings.install == .release(url: "services/web/tools/stackship.tar.gz", sha256: sum))
            #expect(settings.trustedKeys == ["services/web/keys/cache.pub"])
            let remote = try dir.parse("images: {web: {}}\nci:\n  install: {url: https://dl.example/s.tgz, sha256: \(sum)}\n")
            #expect(StackPlanning.fromRepositoryRoot(StackPlanning.settings(remote.ci), stackPath: "a/stack.yaml").install
                    == .release(url: "https://dl.example/s.tgz", sha256: sum))
            #expect(try dir.parse("images: {web: {}}\nci:\n  install: preinstalled\n").ci.install == .preinstalled)
            #expect(try dir.parse("images: {web: {}}\nci:\n  install: {source: https://git.example/s.git, ref: v0.1.0}\n").ci.install
                    == .source(repository: "https://git.example/s.git", ref: "v0.1.0"))
            let perBackend = try dir.parse("""
                images: {web: {}}
                ci:
                  setup:
                    github:
                      - uses: actions/setup-go@0123456789abcdef0123456789abcdef01234567
                        with: {go-version: "1.22"}
                      - go version
                    gitlab: [apt-get install -y golang-go]
                """)
            #expect(perBackend.ci.setup.github == [
                .init(name: nil, uses: "actions/setup-go@0123456789abcdef0123456789abcdef01234567", with: ["go-version": "1.22"], run: nil),
                .run("go version"),
            ])
            #expect(perBackend.ci.setup.gitlab == ["apt-get install -y golang-go"] && perBackend.ci.setup.codebuild.isEmpty)
        }
    }

    @Test func installMistakesAreNamedAtTheirPlace() throws {
        try withStackDir { dir in
            let head = "images: {a: {}}\nci:\n"
            check(dir.error(head + "  install: https://dl.example/s\n"), line: 3, column: 12,
                  message: "`ci.install` must be", hint: "a URL needs its checksum")
            check(dir.error(head + "  install: {url: https://dl.example/s}\n"), line: 3, column: 3,
                  message: "`ci.install.url` needs `sha256:`")
            check(dir.error(head + "  install: {url: https://dl.example/s, sha256: ABC}\n"), line: 3, column: 48,
                  message: "`ci.install.sha256` must be 64 lowercase hex digits")
            check(dir.error(head + "  install: {url: tools/none.tgz, sha256: \(String(repeating: "a", count: 64))}\n"), line: 3, column: 18,
                  message: "ci.install.url 'tools/none.tgz' does not exist")
            check(dir.error(head + "  install: {source: https://git.example/s.git}\n"), line: 3, column: 3,
                  message: "`ci.install.source` needs `ref:`", hint: "ref: v0.1.0")
            check(dir.error(head + "  install: {url: https://x/s, sha256: \(String(repeating: "a", count: 64)), ref: v1}\n"), line: 3, column: 3,
                  message: "both `url:`")
            check(dir.error(head + "  install: {urll: x}\n"), line: 3, column: 13, message: "unknown key 'urll' in ci.install", hint: "did you mean 'url'?")
            check(dir.error(head + "  install: preinstalled\n  install_command: make install\n"), line: 4, column: 3,
                  message: "`ci.install_command` and `ci.install` are both set")
        }
    }

    @Test func setupAndTrustedKeyMistakesAreNamedAtTheirPlace() throws {
        try withStackDir { dir in
            let head = "images: {a: {}}\nci:\n"
            check(dir.error(head + "  setup: apt-get install -y go\n"), line: 3, column: 10, message: "`ci.setup` must be a list of shell commands")
            check(dir.error(head + "  setup: {gitlab: [a], jenkins: [b]}\n"), line: 3, column: 24, message: "unknown key 'jenkins' in ci.setup")
            check(dir.error(head + "  setup:\n    github:\n      - uses: actions/setup-go@v5\n"), line: 5, column: 15,
                  message: "action 'actions/setup-go@v5' is not pinned to a commit", hint: "FULL-40-HEX-SHA")
            check(dir.error(head + "  setup:\n    github:\n      - {run: make, uses: ./local}\n"), line: 5, column: 9,
                  message: "needs exactly one of `uses:` and `run:`")
            check(dir.error(head + "  trusted_key: keys/none.pub\n"), line: 3, column: 16, message: "ci.trusted_key 'keys/none.pub' does not exist")
            _ = try dir.write("keys/not-a-key.pub", "hello")
            check(dir.error(head + "  trusted_key: keys/not-a-key.pub\n"), line: 3, column: 16, message: "is not a stackship public key")
            // The private key by mistake: refused, never shown.
            _ = try dir.mkdir("keys")
            _ = try dir.mkdir("keys")
            _ = try SigningKey.generate(writingTo: dir.path + "/keys/cache")
            let error = dir.error(head + "  trusted_key: keys/cache\n")
            check(error, line: 3, column: 16, message: "is a private signing key", hint: "name the .pub file")
            let secret = try String(contentsOfFile: dir.path + "/keys/cache", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(!"\(String(describing: error))".contains(String(secret.suffix(20))))
        }
    }

    @Test func anImageWithStepsMayNameSourcesTheStepsMake() throws {
        try withStackDir { dir in
            let yaml = """
                images:
                  web:
                    steps: ["go build -o bin/server ."]
                    layers:
                      - {executable: bin/server, destination: /server}
                """
            let stack = try dir.parse(yaml)
            #expect(stack.images[0].steps == ["go build -o bin/server ."])
            #expect(stack.images[0].stepsLocation?.line == 3)
            // Without steps, the same missing source is the usual error.
            check(dir.error("images:\n  web:\n    layers:\n      - {executable: bin/server, destination: /server}\n"),
                  line: 4, column: 22, message: "executable 'bin/server' does not exist")
            check(dir.error("images:\n  web:\n    steps: go build\n"), line: 3, column: 12,
                  message: "`steps` must be a list of shell commands", hint: "steps: [\"go build\"]")
        }
    }
}
