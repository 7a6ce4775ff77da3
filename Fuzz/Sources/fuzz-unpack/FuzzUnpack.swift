#if canImport(Glibc)
import Glibc
#endif
import Foundation
import FuzzSupport

// RootFSUnpacker on a base layer plus the input: an error or an unpacked root, never a trap,
// and nothing beside the root changes (UnpackFuzzTarget). run.sh starts it as user nobody, so
// an escape nobody has found yet cannot touch the host's files.

nonisolated(unsafe) var target: UnpackFuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzUnpackInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    FuzzHarness.writeIfAsked(try? TarCorpus.archives())
    let scratch = ProcessInfo.processInfo.environment["STACKSHIP_FUZZ_SCRATCH"]
        ?? FileManager.default.temporaryDirectory.appendingPathComponent("stackship-fuzz-unpack-\(getpid())").path
    do {
        target = try UnpackFuzzTarget(scratch: scratch)
    } catch {
        fputs("fuzz-unpack: cannot prepare \(scratch): \(error)\n", stderr)
        exit(1)
    }
    if target?.chmodsThroughLinks == true || target?.whiteoutClimbs == true {
        fputs("fuzz-unpack: known escapes still open (chmod through links: \(target!.chmodsThroughLinks), whiteout '..': \(target!.whiteoutClimbs)); inputs that could hit them are skipped\n", stderr)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUnpack(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let target else { return 0 }
    let outcome = target.run(bytes)
    if outcome.skipped { return -1 } // kept out of the corpus: it would only be skipped again
    if !outcome.violations.isEmpty { FuzzHarness.fail(outcome.violations) }
    return 0
}
