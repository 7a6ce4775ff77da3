import Foundation

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
