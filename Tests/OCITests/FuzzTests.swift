import Foundation
import FuzzSupport
import Testing
@testable import OCI

/// Seeded random fuzzing of every reader of untrusted bytes in OCI: the tar reader (behind the
/// decompressor) and the JSON readers. Each case must end in an error or a valid value, never
/// a trap; the seed is fixed, so a failure comes back on the next run (and a trapping input is
/// in `$TMPDIR/stackship-fuzz-<target>-current`). `STACKSHIP_FUZZ_ITERATIONS` runs more cases.
/// The coverage-guided counterpart is Fuzz/ (libFuzzer).
@Suite struct FuzzTests {
    @Test func tarSeedsReadCleanly() throws {
        for (name, bytes) in try TarCorpus.archives() {
            let outcome = TarFuzzTarget.run(bytes)
            #expect(outcome.error == nil, "\(name): \(outcome.error.map { "\($0)" } ?? "")")
            #expect(outcome.violations.isEmpty, "\(name): \(outcome.violations)")
            #expect(outcome.entries > 0 || name == "empty", "\(name) reads as no entries")
        }
    }

    @Test func tarReaderGivesAnErrorOrValidEntries() throws {
        let corpus = try TarCorpus.archives()
        var rng = SeededGenerator(seed: FuzzSettings.seed)
        let count = FuzzSettings.iterations(default: 4000)
        var refused = 0, read = 0, malformed = 0
        for i in 0..<count {
            let seed = rng.pick(corpus)
            let input = TarMutator.mutate(seed.bytes, using: &rng)
            FuzzSettings.recordCurrent(input, target: "tar")
            let outcome = TarFuzzTarget.run(input)
            #expect(outcome.violations.isEmpty, "case \(i), a mutation of \(seed.name): \(outcome.violations)")
            if let error = outcome.error {
                refused += 1
                if case .malformedTar = error { malformed += 1 }
            } else {
                read += 1
            }
        }
        // The mutations reach both outcomes, and get past the checksum to the fields behind it.
        #expect(refused > count / 10 && read > count / 10, "\(refused) refused, \(read) read")
        #expect(malformed > count / 10, "only \(malformed) of \(count) cases reached the header checks")
    }

    @Test func jsonSeedsReadAsTheirTypes() throws {
        let docs = Dictionary(uniqueKeysWithValues: JSONCorpus.documents().map { ($0.name, Data($0.bytes)) })
        _ = try CanonicalJSON.decode(ImageConfig.self, from: try #require(docs["config"]), what: "config")
        _ = try CanonicalJSON.decode(Manifest.self, from: try #require(docs["manifest"]), what: "manifest")
        _ = try CanonicalJSON.decode(Index.self, from: try #require(docs["index"]), what: "index")
        #expect(try CanonicalJSON.decode(MediaTypeProbe.self, from: try #require(docs["docker-list"]), what: "list").manifests?.count == 1)
        for (name, bytes) in JSONCorpus.documents() {
            #expect(JSONFuzzTarget.run(bytes).isEmpty, "\(name)")
        }
    }

    @Test func jsonReadersGiveAnErrorOrTheSameValue() {
        let corpus = JSONCorpus.documents()
        var rng = SeededGenerator(seed: FuzzSettings.seed ^ 0x15)
        let count = FuzzSettings.iterations(default: 3000)
        for i in 0..<count {
            let seed = rng.pick(corpus)
            let input = JSONMutator.mutate(seed.bytes, using: &rng)
            FuzzSettings.recordCurrent(input, target: "json")
            let violations = JSONFuzzTarget.run(input)
            #expect(violations.isEmpty, "case \(i), a mutation of \(seed.name): \(String(decoding: input, as: UTF8.self).debugDescription): \(violations)")
        }
    }
}
