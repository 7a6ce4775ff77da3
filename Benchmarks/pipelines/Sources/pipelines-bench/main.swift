// Times planning and emitting a synthetic 2,000-package stack (see Benchmarks/pipelines/run.sh).
import Foundation
import Pipelines

var packages = 2000
var args = CommandLine.arguments.dropFirst()
while let arg = args.popFirst() {
    if arg == "--packages", let n = args.popFirst().flatMap(Int.init) { packages = n }
}
let input = PipelinesBenchmark.syntheticInput(packages: packages)
do {
    let r = try PipelinesBenchmark.run(input)
    print("packages \(packages)  jobs \(r.jobs)  emitted \(r.emittedBytes) bytes  notes \(r.notes)")
    print(String(format: "plan %.3f s", r.plan))
    for (k, v) in r.emit.sorted(by: { $0.key < $1.key }) { print(String(format: "emit %@ %.3f s", k, v)) }
} catch {
    FileHandle.standardError.write(Data("pipelines-bench: \(error)\n".utf8))
    exit(1)
}
