import Foundation

/// A synthetic workload for the benchmark (Benchmarks/pipelines): a random package DAG, and
/// the time to plan it and emit it for every backend.
public enum PipelinesBenchmark {
    /// Timings of one benchmark run, in seconds.
    public struct Result: Sendable {
        /// Jobs in the plan.
        public var jobs: Int
        /// Bytes of all emitted files.
        public var emittedBytes: Int
        /// Notes the emitters returned.
        public var notes: Int
        /// Seconds to make the plan.
        public var plan: Double
        /// Seconds per backend.
        public var emit: [String: Double]
    }

    /// A random input: `packages` packages, each depending on up to 4 earlier ones; about a
    /// third cached; `images` images of 30 packages each plus one of 120 (so GitLab needs
    /// fan-ins). Deterministic for a seed.
    public static func syntheticInput(packages: Int = 2000, images: Int = 20, seed: UInt64 = 42) -> PlanInput {
        var rng = SplitMix64(seed: seed)
        var list: [PlanInput.Package] = []
        for i in 0..<packages {
            var deps = Set<String>()
            if i > 0 { for _ in 0..<Int(rng.next() % 5) { deps.insert("pkg-\(Int(rng.next() % UInt64(i)))") } }
            list.append(.init(name: "pkg-\(i)", hash: Hashing.hex(["bench", String(i)]), dependencies: deps.sorted(),
                              cached: rng.next() % 3 == 0, changedSinceBase: nil))
        }
        var imgs: [PlanInput.Image] = []
        for i in 0...images {
            let size = i == images ? 120 : 30
            let members = Set((0..<size).map { _ in "pkg-\(Int(rng.next() % UInt64(packages)))" }).sorted()
            imgs.append(.init(name: "image-\(i)", packages: members, tests: true, publishTags: ["latest"]))
        }
        return PlanInput(stackName: "bench", stackFile: "stack.yaml", packages: list, images: imgs)
    }

    /// Plans `input` and emits it for every backend, timing each step.
    /// - Throws: whatever planning or emitting throws.
    public static func run(_ input: PlanInput) throws -> Result {
        let clock = ContinuousClock()
        var plan: Plan?
        let planTime = try clock.measure { plan = try Plan.make(from: input) }
        var emit: [String: Double] = [:]
        var bytes = 0
        var notes = 0
        for backend in CIBackend.allCases {
            var out: EmittedPipeline?
            let t = try clock.measure { out = try backend.emit(plan!) }
            emit[backend.rawValue] = seconds(t)
            bytes += out!.files.values.reduce(0) { $0 + $1.utf8.count }
            notes += out!.notes.count
        }
        return Result(jobs: plan!.jobs.count, emittedBytes: bytes, notes: notes, plan: seconds(planTime), emit: emit)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// A small deterministic PRNG (SplitMix64).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
