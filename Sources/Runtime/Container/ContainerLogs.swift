#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support

/// A container's output (stdout and stderr, interleaved as written) from its log file.
public enum LogFollower {
    /// Writes the log to `handle`: the last `tail` lines, or all; with `follow`, keeps writing
    /// what arrives until the container has exited.
    public static func follow(_ engine: ContainerEngine, _ id: String, tail: Int?, follow: Bool, to handle: FileHandle) throws {
        let path = engine.logPath(of: id)
        var fd = open(path, O_RDONLY | O_CLOEXEC)
        var offset: off_t = 0
        if fd >= 0, let tail {
            offset = tailOffset(fd, lines: tail)
        }
        defer { if fd >= 0 { close(fd) } }
        var buffer = [UInt8](repeating: 0, count: 65536)
        func drain() {
            guard fd >= 0 else { return }
            while true {
                let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
                if n <= 0 { return }
                offset += off_t(n)
                handle.write(Data(buffer[0..<n]))
            }
        }
        drain()
        guard follow else { return }
        while true {
            if fd < 0 { fd = open(path, O_RDONLY | O_CLOEXEC) }
            drain()
            guard let state = try? engine.load(id) else { return } // removed (--rm)
            if state.status == .exited || (state.status == .created && state.error != nil) { drain(); return }
            if state.status == .running, let monitor = state.monitorPid, !ChildProcess.isAlive(monitor) { drain(); return }
            usleep(50_000)
        }
    }

    /// The offset where the last `lines` lines begin.
    static func tailOffset(_ fd: Int32, lines: Int) -> off_t {
        var st = stat()
        guard fstat(fd, &st) == 0, lines >= 0 else { return 0 }
        if lines == 0 { return st.st_size }
        var position = st.st_size
        var found = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        // A final newline ends the last line rather than starting an empty one.
        var skipFinal = true
        while position > 0 {
            let chunk = min(off_t(buffer.count), position)
            position -= chunk
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Int(chunk), position) }
            guard n > 0 else { return 0 }
            for i in stride(from: n - 1, through: 0, by: -1) where buffer[i] == UInt8(ascii: "\n") {
                if skipFinal && position + off_t(i) == st.st_size - 1 { skipFinal = false; continue }
                found += 1
                if found > lines { return position + off_t(i) + 1 }
            }
            skipFinal = false
        }
        return 0
    }
}

extension ContainerEngine {
    /// Sends a signal to a running container's process (`kill`).
    public func signal(_ reference: String, signal: String) throws {
        let state = try find(reference)
        guard state.status == .running else { throw RuntimeError.containerNotRunning(state.name) }
        try runtime(for: state).run(["kill", state.id, signal])
    }
}
