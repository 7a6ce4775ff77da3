#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CSupport

/// Starting and waiting for programs without Foundation's Process, whose children inherit a
/// blocked signal mask on Linux and which cannot hand over chosen descriptors.
public enum ChildProcess {
    /// Starts `path` with `arguments`, its descriptors 0, 1, 2, ... being `fds` (nothing else is
    /// inherited), in `directory` when given. Returns the pid.
    public static func spawn(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                             fds: [Int32], newSession: Bool = false, directory: String? = nil) throws -> pid_t {
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        // Without an environment of its own, the child gets this process's as it is.
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        let pid = fds.withUnsafeBufferPointer { fdp in
            if let envp { return stackship_spawn(path, argv, envp, fdp.baseAddress, Int32(fds.count), newSession ? 1 : 0, directory) }
            return stackship_spawn(path, argv, environ, fdp.baseAddress, Int32(fds.count), newSession ? 1 : 0, directory)
        }
        guard pid > 0 else { throw SupportError.io(path: path, operation: "start", errno: -pid) }
        return pid
    }

    /// Waits for `pid`; returns its exit code (128+N when killed by signal N, as shells do).
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return exitCode(status)
    }

    public static func exitCode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        if signal == 0 { return (status >> 8) & 0xff }
        return 128 + signal
    }

    /// Runs a program to completion, capturing what it writes (stdout and stderr together, in a
    /// temporary file rather than a pipe, so a blocked reader can never stall it).
    ///
    /// With `appendingTo`, the output is appended to that file instead (a build log) and the
    /// returned output is empty.
    public static func run(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                           stdin: Int32? = nil, directory: String? = nil,
                           appendingTo logFile: String? = nil) throws -> (status: Int32, output: String) {
        let out: Int32
        if let logFile {
            out = open(logFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard out >= 0 else { throw SupportError.io(path: logFile, operation: "open", errno: errno) }
        } else {
            let outPath = NSTemporaryDirectory() + "stackship-out-\(String(UInt64.random(in: 0 ... .max), radix: 16))"
            out = open(outPath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard out >= 0 else { throw SupportError.io(path: outPath, operation: "create", errno: errno) }
            unlink(outPath)
        }
        defer { close(out) }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        let pid = try spawn(path, arguments, environment: environment, fds: [stdin ?? null, out, out], directory: directory)
        let status = wait(pid)
        return (status, logFile == nil ? String(decoding: readFromStart(out), as: UTF8.self) : "")
    }

    /// Everything in the file open at `fd`, from its start.
    public static func readFromStart(_ fd: Int32) -> Data {
        lseek(fd, 0, SEEK_SET)
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return data
    }

    /// Whether a process exists (and is not a zombie).
    public static func isAlive(_ pid: pid_t) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(close, offsetBy: 2)...].first
        return state != "Z" && state != "X"
    }

    /// The absolute path of a program named `name` on PATH (or `name` itself when it has a slash).
    public static func which(_ name: String, path: String? = getenv("PATH").map { String(cString: $0) }) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
