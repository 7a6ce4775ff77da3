#if canImport(Glibc)
import Glibc
#endif
import Foundation
import FuzzSupport

// The tar reader behind the decompressor: an error or valid entries (TarFuzzTarget), never a
// trap. A broken invariant aborts, which libFuzzer records as a crash with its input.

@_cdecl("LLVMFuzzerInitialize")
public func fuzzTarInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    FuzzHarness.writeIfAsked(try? TarCorpus.archives())
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTar(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let outcome = TarFuzzTarget.run(bytes)
    if !outcome.violations.isEmpty { FuzzHarness.fail(outcome.violations) }
    return 0
}
