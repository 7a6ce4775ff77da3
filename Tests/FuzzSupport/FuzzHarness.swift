#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// What Fuzz/'s libFuzzer harnesses share: writing their seed corpus, and failing a case.
public enum FuzzHarness {
    /// When `STACKSHIP_FUZZ_WRITE_SEEDS` names a folder, writes `seeds` there (one file each)
    /// and exits: run.sh makes each target's seed corpus this way, so it is never stale.
    public static func writeIfAsked(_ seeds: [(name: String, bytes: [UInt8])]?) {
        guard let folder = ProcessInfo.processInfo.environment["STACKSHIP_FUZZ_WRITE_SEEDS"] else { return }
        guard let seeds else {
            FileHandle.standardError.write(Data("cannot build the seed corpus\n".utf8))
            exit(1)
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (name, bytes) in seeds { try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + name)) }
        } catch {
            FileHandle.standardError.write(Data("cannot write the seed corpus to \(folder): \(error)\n".utf8))
            exit(1)
        }
        exit(0)
    }

    /// Reports the broken invariants and aborts, which libFuzzer records as a crash (with the input).
    public static func fail(_ violations: [String]) -> Never {
        FileHandle.standardError.write(Data(("invariant broken:\n" + violations.map { "  " + $0 }.joined(separator: "\n") + "\n").utf8))
        abort()
    }
}
