import Foundation
import Support

/// The mounts this process sees, for tests that check a container or a build step left none.
public enum HostMounts {
    /// The lines of /proc/self/mountinfo that name `path` (mounted at or from it, or below it).
    /// Read to the end: Foundation's `String(contentsOfFile:)` returns only the first 4 KiB of
    /// a /proc file, and a loaded machine has many more mounts than fit in that.
    public static func lines(containing path: String) throws -> [String] {
        let text = String(decoding: try FileIO.readFile("/proc/self/mountinfo"), as: UTF8.self)
        return text.split(separator: "\n").filter { $0.contains(path) }.map(String.init)
    }
}
