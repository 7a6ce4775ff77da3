import Dockerfile
import Foundation
import Testing

/// Random and mutated Dockerfiles: parsing returns or throws a ``DockerfileError`` (never
/// crashes), and so do planning, resolving and building RUN invocations of what parsed.
@Suite struct MutationPropertyTests {
    /// SplitMix64: fast, and the same sequence for the same seed on every machine.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let fragments: [String] = [
        "\\", "`", "\"", "'", "$", "${", "}", "${A:-", "${A#", "${A/", "<<", "<<-", "<<EOF", "<<'EOF'", "\nEOF\n", "\n", "\r\n", "\t", " ",
        "#", "# escape=`\n", "# syntax=x\n", "[", "]", "[\"a\", 1]", "--", "--mount=", "--from=", "=", ",", "type=cache", "from=", "\u{FEFF}",
        "é", "\u{0}", "FROM ", "RUN ", "COPY ", "ONBUILD ", "HEALTHCHECK --interval=", "ARG ", "ENV ", "EXPOSE 1-", "AS ", "0", "-", "*", "?",
    ]

    static func seeds() throws -> [String] {
        var seeds = parserCases.map(\.text)
        for name in ["go-service.Dockerfile", "spack-containerize.Dockerfile"] {
            seeds.append(try RealWorldTests.fixture(name))
        }
        return seeds
    }

    static func mutate(_ text: String, using random: inout Generator, donors: [String]) -> String {
        var scalars = Array(text.unicodeScalars)
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let position = scalars.isEmpty ? 0 : Int.random(in: 0...scalars.count, using: &random)
            switch Int.random(in: 0..<5, using: &random) {
            case 0:
                let fragment = fragments.randomElement(using: &random) ?? ""
                scalars.insert(contentsOf: fragment.unicodeScalars, at: position)
            case 1 where !scalars.isEmpty:
                let end = min(scalars.count, position + Int.random(in: 1...8, using: &random))
                if position < end { scalars.removeSubrange(position..<end) }
            case 2 where !scalars.isEmpty:
                let start = Int.random(in: 0..<scalars.count, using: &random)
                let end = min(scalars.count, start + Int.random(in: 1...20, using: &random))
                scalars.insert(contentsOf: Array(scalars[start..<end]), at: position)
            case 3:
                let donor = Array((donors.randomElement(using: &random) ?? "").unicodeScalars)
                guard !donor.isEmpty else { continue }
                let start = Int.random(in: 0..<donor.count, using: &random)
                let end = min(donor.count, start + Int.random(in: 1...40, using: &random))
                scalars.insert(contentsOf: donor[start..<end], at: position)
            default:
                if let scalar = Unicode.Scalar(UInt32.random(in: 0...0x2FF, using: &random)) { scalars.insert(scalar, at: position) }
            }
        }
        return String(String.UnicodeScalarView(scalars))
    }

    /// Everything the library does with a text; throws only ``DockerfileError``.
    static func exercise(_ text: String) -> (parsed: Bool, error: DockerfileError?) {
        do {
            let dockerfile = try Dockerfile.parse(text)
            #expect(!dockerfile.stages.isEmpty)
            for stage in dockerfile.stages {
                for instruction in stage.instructions {
                    if case let .run(run) = instruction.kind { _ = run.invocation() }
                }
            }
            let plan = try BuildPlan(dockerfile, options: BuildOptions(buildArguments: ["A": "x/y*z", "GO_VERSION": "1"]))
            _ = try plan.resolve { _ in ["HOME=/root"] }
            return (true, nil)
        } catch {
            return (false, error)
        }
    }

    @Test func mutatedDockerfilesParseOrThrow() throws {
        let seeds = try Self.seeds()
        let seed = ProcessInfo.processInfo.environment["DOCKERFILE_FUZZ_SEED"].flatMap(UInt64.init) ?? 0xD0C4_E5F1
        var random = Generator(state: seed)
        var parsed = 0
        var failed = 0
        for round in 0..<4000 {
            let base = seeds[round % seeds.count]
            let text = Self.mutate(base, using: &random, donors: seeds)
            let outcome = Self.exercise(text)
            if outcome.parsed { parsed += 1 }
            if let error = outcome.error {
                failed += 1
                // Lines end at "\n" scalars ("\r\n" is one Character to Swift's String, not to a Dockerfile).
                let lines = text.unicodeScalars.filter { $0 == "\n" }.count + 1
                if let location = error.location {
                    #expect(location.line >= 1 && location.line <= lines + 1 && location.column >= 1, "\(error) in \(text.debugDescription)")
                }
                #expect(!error.description.isEmpty && !error.description.contains("\n") || error.description.contains("'"),
                        "multi-line description: \(error.description.debugDescription)")
            }
        }
        // Both outcomes happen, so the mutations neither break everything nor nothing.
        #expect(parsed > 400 && failed > 400, "parsed \(parsed), failed \(failed)")
    }

    @Test func randomTextParsesOrThrows() {
        var random = Generator(state: 42)
        let alphabet = Array("FROMRUNCOPYARGENV \n\t\\`\"'$<>{}[]#=-,:/.*?!abcXYZ019é".unicodeScalars)
        for _ in 0..<1500 {
            let length = Int.random(in: 0...200, using: &random)
            let text = String(String.UnicodeScalarView((0..<length).map { _ in alphabet.randomElement(using: &random) ?? "a" }))
            _ = Self.exercise(text)
            _ = Self.exercise("FROM alpine\n" + text)
        }
    }

    @Test func deepNestingAndLongLinesAreRefusedOrRead() {
        let nested = "FROM alpine\nENV A=" + String(repeating: "${a:-", count: 100_000) + "\n"
        let nestedOutcome = Self.exercise(nested)
        guard case let .substitution(_, reason, at)? = nestedOutcome.error else {
            Issue.record("expected a substitution error, got \(String(describing: nestedOutcome.error))")
            return
        }
        #expect(reason == "substitutions nested more than 256 deep")
        #expect(at == DockerfileLocation(line: 2, column: 1))
        // Go's JSON reader allows 10,000 levels: within them a nested array is "not strings";
        // beyond them the text is not JSON, so it runs in shell form.
        func nestedArray(_ depth: Int) -> String { "FROM alpine\nCMD " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n" }
        #expect(Self.exercise(nestedArray(5_000)).error == .notStringArray(instruction: "CMD", at: DockerfileLocation(line: 2, column: 5)))
        #expect(Self.exercise(nestedArray(50_000)).parsed)
        let long = "FROM alpine\nRUN echo " + String(repeating: "x \\\n", count: 20_000) + "end\n"
        #expect(Self.exercise(long).parsed)
    }

    @Test func mutatedIgnoreFilesReadOrThrow() throws {
        var random = Generator(state: 7)
        let seeds = ["*/temp*\n*/*/temp*\ntemp?\n", "**/*.go\n!main.go\n", "*.md\n!README*.md\nREADME-secret.md\n", "a/[0-9]/b\n\\*\n",
                     "build/**\n!build/keep/**\n"]
        let paths = ["a", "a/b", "temp1", "x/temp/y", "main.go", "cmd/a.go", "README-secret.md", "build/keep/x", "a/5/b", "*", "é/ü"]
        for round in 0..<3000 {
            let text = Self.mutate(seeds[round % seeds.count], using: &random, donors: seeds)
            do {
                let rules = try DockerIgnore(text: text)
                for path in paths {
                    let excluded = rules.isExcluded(path)
                    if rules.canSkipDirectory(path) { #expect(excluded, "\(path) skippable but not excluded by \(text.debugDescription)") }
                }
            } catch {
                #expect(error.location != nil)
            }
        }
    }
}
