#if canImport(Glibc)
import Glibc
#endif
import Foundation
import FuzzSupport

// The JSON readers: CanonicalJSON.decode of every image-spec type throws only OCIError, and
// JSONReader's fast path reads what JSONDecoder reads, to the same value (JSONFuzzTarget).

@_cdecl("LLVMFuzzerInitialize")
public func fuzzJSONInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    FuzzHarness.writeIfAsked(JSONCorpus.documents())
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let violations = JSONFuzzTarget.run(bytes)
    if !violations.isEmpty { FuzzHarness.fail(violations) }
    return 0
}
