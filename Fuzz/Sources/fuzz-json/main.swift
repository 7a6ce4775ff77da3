import CFuzzerDriver
import Foundation
import FuzzSupport

// The JSON readers: CanonicalJSON.decode of every image-spec type throws only OCIError, and
// JSONReader's fast path reads what JSONDecoder reads, to the same value (JSONFuzzTarget).

FuzzHarness.writeIfAsked(JSONCorpus.documents())
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let violations = JSONFuzzTarget.run(bytes)
    if !violations.isEmpty { FuzzHarness.fail(violations) }
    return 0
})
