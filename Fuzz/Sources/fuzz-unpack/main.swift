#if canImport(Glibc)
import Glibc
#endif
import CFuzzerDriver
import Foundation
import FuzzSupport

// SafeExtractor (image layers) on a base layer plus the input: an error or an unpacked root, never a trap,
// and nothing beside the root changes (UnpackFuzzTarget). run.sh starts it as user nobody, so
// an escape nobody has found yet cannot touch the host's files.

FuzzHarness.writeIfAsked(try? TarCorpus.archives())

// Made before libFuzzer starts, so that what it allocates is not counted against the first
// input by the leak checker. (With -jobs, libFuzzer's parent process makes one too, unused.)
let base = ProcessInfo.processInfo.environment["STACKSHIP_FUZZ_SCRATCH"] ?? FileManager.default.temporaryDirectory.path
let scratch = base + "/stackship-fuzz-unpack-\(getpid())"
let target: UnpackFuzzTarget
do {
    target = try UnpackFuzzTarget(scratch: scratch)
} catch {
    FuzzHarness.fail(["cannot prepare \(scratch): \(error)"])
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let outcome = target.run(bytes)
    if !outcome.violations.isEmpty { FuzzHarness.fail(outcome.violations) }
    return 0
})
