#if canImport(Glibc)
import Glibc
#endif
import CFuzzerDriver
import Foundation
import FuzzSupport

// RootFSUnpacker on a base layer plus the input: an error or an unpacked root, never a trap,
// and nothing beside the root changes (UnpackFuzzTarget). run.sh starts it as user nobody, so
// an escape nobody has found yet cannot touch the host's files.

FuzzHarness.writeIfAsked(try? TarCorpus.archives())

/// Made on the first input, so libFuzzer's parent process (-jobs) makes none.
nonisolated(unsafe) var target: UnpackFuzzTarget?

func unpackTarget() -> UnpackFuzzTarget {
    if let target { return target }
    let base = ProcessInfo.processInfo.environment["STACKSHIP_FUZZ_SCRATCH"] ?? FileManager.default.temporaryDirectory.path
    let scratch = base + "/stackship-fuzz-unpack-\(getpid())"
    do {
        let made = try UnpackFuzzTarget(scratch: scratch)
        if made.chmodsThroughLinks || made.whiteoutClimbs {
            FileHandle.standardError.write(Data("fuzz-unpack: known escapes still open (chmod through a hardlinked symlink: \(made.chmodsThroughLinks), whiteout '..': \(made.whiteoutClimbs)); inputs that could hit them are skipped\n".utf8))
        }
        target = made
        return made
    } catch {
        FuzzHarness.fail(["cannot prepare \(scratch): \(error)"])
    }
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let outcome = unpackTarget().run(bytes)
    if outcome.skipped { return -1 } // kept out of the corpus: it would only be skipped again
    if !outcome.violations.isEmpty { FuzzHarness.fail(outcome.violations) }
    return 0
})
