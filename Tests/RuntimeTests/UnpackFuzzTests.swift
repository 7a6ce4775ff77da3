import Foundation
import FuzzSupport
import OCI
import Testing
@testable import Runtime

/// Seeded random fuzzing of the unpacker (whiteouts, links, devices, metadata) on mutated
/// layers: each case ends in an error or an unpacked root, never a trap, and nothing beside the
/// root changes.
@Suite struct UnpackFuzzTests {
    @Test func unpackerGivesAnErrorOrARootAndStaysInside() throws {
        // On tmpfs when there is one: a case is a dozen directory operations, which a loaded disk makes slow.
        let base = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : FileManager.default.temporaryDirectory.path
        let scratch = base + "/stackship-unpack-fuzz-\(UUID().uuidString)"
        let target = try UnpackFuzzTarget(scratch: scratch)
        let corpus = try TarCorpus.archives().filter { !$0.name.hasPrefix("gzip") && !$0.name.hasPrefix("zstd") }
        for (name, bytes) in corpus {
            let outcome = target.run(bytes)
            #expect(outcome.violations.isEmpty, "seed \(name): \(outcome.violations)")
            #expect(outcome.error == nil, "seed \(name): \(outcome.error ?? "")")
        }
        var rng = SeededGenerator(seed: FuzzSettings.seed ^ 0xD1)
        let count = FuzzSettings.iterations(default: 1500)
        var refused = 0, applied = 0
        for i in 0..<count {
            let seed = rng.pick(corpus)
            let input = TarMutator.mutate(seed.bytes, using: &rng)
            FuzzSettings.recordCurrent(input, target: "unpack")
            let outcome = target.run(input)
            #expect(outcome.violations.isEmpty, "case \(i), a mutation of \(seed.name): \(outcome.violations)")
            if outcome.error != nil { refused += 1 } else { applied += 1 }
        }
        #expect(applied > count / 10 && refused > count / 10, "\(applied) applied, \(refused) refused")
    }
}
