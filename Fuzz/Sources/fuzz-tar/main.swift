import CFuzzerDriver
import Foundation
import FuzzSupport

// The tar reader behind the decompressor: an error or valid entries (TarFuzzTarget), never a
// trap. A broken invariant aborts, which libFuzzer records as a crash with its input.

FuzzHarness.writeIfAsked(try? TarCorpus.archives())
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let outcome = TarFuzzTarget.run(bytes)
    if !outcome.violations.isEmpty { FuzzHarness.fail(outcome.violations) }
    return 0
})
