import Dockerfile
import Testing

/// `.dockerignore` rules, with the examples of Docker's documentation.
@Suite struct DockerIgnoreTests {
    @Test func theDocumentedExample() throws {
        let rules = try DockerIgnore(text: "# comment\n*/temp*\n*/*/temp*\ntemp?\n")
        #expect(rules.patterns.map(\.description) == ["*/temp*", "*/*/temp*", "temp?"])
        #expect(rules.isExcluded("somedir/temporary.txt"))
        #expect(rules.isExcluded("somedir/temp"))
        #expect(rules.isExcluded("somedir/subdir/temporary.txt"))
        #expect(rules.isExcluded("tempa"))
        #expect(rules.isExcluded("tempb"))
        #expect(!rules.isExcluded("temp"))
        #expect(!rules.isExcluded("temporary.txt"))
        #expect(!rules.isExcluded("a/b/c/temp.txt"))
        // What a pattern matches, it matches beneath too.
        #expect(rules.isExcluded("somedir/temp/inner/file"))
    }

    @Test func rootedAndRelativePatternsAreTheSame() throws {
        let rooted = try DockerIgnore(text: "/foo/bar\n")
        let relative = try DockerIgnore(text: "foo/bar\n")
        for path in ["foo/bar", "foo/bar/baz", "foo/baz", "bar", "x/foo/bar"] {
            #expect(rooted.isExcluded(path) == relative.isExcluded(path), "\(path)")
        }
        #expect(rooted.isExcluded("foo/bar") && !rooted.isExcluded("x/foo/bar"))
    }

    @Test func doubleStarMatchesAnyNumberOfDirectories() throws {
        let rules = try DockerIgnore(text: "**/*.go\n")
        #expect(rules.isExcluded("main.go"))
        #expect(rules.isExcluded("cmd/app/main.go"))
        #expect(!rules.isExcluded("main.go.txt"))
        let inside = try DockerIgnore(text: "src/**/test\nbuild/**\n**/node_modules\n")
        #expect(inside.isExcluded("src/test"))
        #expect(inside.isExcluded("src/a/b/test"))
        #expect(!inside.isExcluded("src/a/testing"))
        #expect(inside.isExcluded("build/out/x.o"))
        #expect(!inside.isExcluded("build"))
        #expect(inside.isExcluded("node_modules"))
        #expect(inside.isExcluded("web/app/node_modules/react/index.js"))
    }

    @Test func exceptionsAndTheLastMatchingLine() throws {
        let readme = try DockerIgnore(text: "*.md\n!README.md\n")
        #expect(readme.isExcluded("CHANGES.md"))
        #expect(!readme.isExcluded("README.md"))
        // The placement of exceptions: the last line matching a file decides.
        let secretExcluded = try DockerIgnore(text: "*.md\n!README*.md\nREADME-secret.md\n")
        #expect(secretExcluded.isExcluded("README-secret.md"))
        #expect(!secretExcluded.isExcluded("README-public.md"))
        #expect(secretExcluded.isExcluded("notes.md"))
        let allReadmes = try DockerIgnore(text: "*.md\nREADME-secret.md\n!README*.md\n")
        #expect(!allReadmes.isExcluded("README-secret.md"))
        // Include-only: exclude everything, then list what goes in.
        let only = try DockerIgnore(text: "*\n!src\n!package.json\n")
        #expect(only.isExcluded("docs/index.md"))
        #expect(!only.isExcluded("src/index.js"))
        #expect(!only.isExcluded("package.json"))
    }

    @Test func linesAreCleanedAsDockerCleansThem() throws {
        let rules = try DockerIgnore(text: "\u{FEFF}  ./a/../b//c/  \n! d/./e\n #not a comment\n\n# comment\n")
        #expect(rules.patterns.map(\.description) == ["b/c", "!d/e", "#not a comment"])
        #expect(rules.isExcluded("/b/c/file"))
        #expect(!rules.isExcluded("."))
    }

    @Test func malformedPatternsAreRefusedWithTheirLine() {
        let bang = dockerfileError { () throws(DockerfileError) in _ = try DockerIgnore(text: "a\n!\n") }
        #expect(bang == .invalidIgnorePattern(pattern: "!", reason: "'!' needs a pattern after it", line: 2))
        let bracket = dockerfileError { () throws(DockerfileError) in _ = try DockerIgnore(text: "file[0-9\n") }
        #expect(bracket?.description == "1:1: invalid .dockerignore pattern 'file[0-9': '[' is never closed; add ']' or escape it as '\\['")
        #expect(throws: DockerfileError.self) { try DockerIgnore(text: "trailing\\") }
    }

    @Test func classesAndEscapes() throws {
        let rules = try DockerIgnore(text: "log[0-9].txt\ndata[^a].bin\nliteral\\*star\n")
        #expect(rules.isExcluded("log7.txt") && !rules.isExcluded("logx.txt"))
        #expect(rules.isExcluded("datab.bin") && !rules.isExcluded("dataa.bin"))
        #expect(rules.isExcluded("literal*star") && !rules.isExcluded("literalXstar"))
    }

    @Test func aDirectoryIsSkippedOnlyWhenNoExceptionCanReachInside() throws {
        let plain = try DockerIgnore(text: "node_modules\n.git\n")
        #expect(plain.canSkipDirectory("node_modules"))
        #expect(!plain.canSkipDirectory("src"))
        let keep = try DockerIgnore(text: "vendor\n!vendor/keep\n")
        #expect(!keep.canSkipDirectory("vendor"))
        #expect(keep.canSkipDirectory("vendor/other"))
        #expect(!keep.canSkipDirectory("vendor/keep"))
        #expect(!keep.isExcluded("vendor/keep/file") && keep.isExcluded("vendor/other/file"))
        // A wildcard exception could match anywhere: the walk must go in.
        let wildcard = try DockerIgnore(text: "build\n!**/*.keep\n")
        #expect(!wildcard.canSkipDirectory("build"))
        #expect(!wildcard.isExcluded("build/x.keep") && wildcard.isExcluded("build/x.o"))
        // A trailing /** on an exception is still a plain prefix.
        let tail = try DockerIgnore(text: "*\n!docs/**\n")
        #expect(tail.canSkipDirectory("src") && !tail.canSkipDirectory("docs"))
    }

    @Test func theDockerfileSpecificIgnoreFileComesFirst() throws {
        #expect(DockerIgnore.candidateFiles(dockerfile: "build/app.Dockerfile", contextDirectory: "ctx/")
            == ["build/app.Dockerfile.dockerignore", "ctx/.dockerignore"])
        let files = ["build/app.Dockerfile.dockerignore": "*.tmp\n", "ctx/.dockerignore": "*.log\n"]
        let chosen = try #require(try DockerIgnore.load(dockerfile: "build/app.Dockerfile", contextDirectory: "ctx") { files[$0] })
        #expect(chosen.file == "build/app.Dockerfile.dockerignore")
        #expect(chosen.rules.isExcluded("a.tmp") && !chosen.rules.isExcluded("a.log"))
        let fallback = try DockerIgnore.load(dockerfile: "Dockerfile", contextDirectory: "ctx") { files[$0] }
        #expect(fallback?.file == "ctx/.dockerignore")
        #expect(try DockerIgnore.load(dockerfile: "Dockerfile", contextDirectory: ".") { _ in nil } == nil)
    }
}
