import Foundation

/// A deterministic random number generator (SplitMix64): the same seed gives the same fuzz
/// cases, so a failure is reproduced by running the test again.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator that starts at `seed`.
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A random index below `count` (which must be > 0).
    public mutating func below(_ count: Int) -> Int { Int.random(in: 0..<count, using: &self) }

    /// True with probability `percent` / 100.
    public mutating func chance(_ percent: Int) -> Bool { below(100) < percent }

    /// One of `items` (which must not be empty).
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// How long the seeded fuzz tests run: a few thousand cases by default (seconds in the normal
/// suite); `STACKSHIP_FUZZ_ITERATIONS` raises the count, `STACKSHIP_FUZZ_SEED` changes the seed.
public enum FuzzSettings {
    /// The number of cases, `STACKSHIP_FUZZ_ITERATIONS` or `defaultCount`.
    public static func iterations(default defaultCount: Int) -> Int {
        ProcessInfo.processInfo.environment["STACKSHIP_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? defaultCount
    }

    /// The seed, `STACKSHIP_FUZZ_SEED` or a fixed default (so the normal suite is deterministic).
    public static var seed: UInt64 {
        ProcessInfo.processInfo.environment["STACKSHIP_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_57AC_4541_1600
    }

    /// Saves the case about to run to `$TMPDIR/stackship-fuzz-<target>-current`, so that when a
    /// case traps (and takes the test process with it) the input that did it is on disk.
    public static func recordCurrent(_ bytes: [UInt8], target: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stackship-fuzz-\(target)-current").path
        try? UnpackFuzzTarget.write(bytes, to: path, mode: 0o644)
    }
}
