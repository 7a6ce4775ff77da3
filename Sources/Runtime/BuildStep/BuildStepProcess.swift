#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support

/// `runc run` (or crun's) in the foreground for one build step, on a thread of its own: the
/// runtime stays the container's parent and returns its exit code, so no monitor is needed.
/// Output is read from one pipe (stdout and stderr together) as it comes.
final class BuildStepProcess: @unchecked Sendable {
    /// How a run ended.
    struct Outcome: Sendable {
        /// The runtime's exit status: the command's exit code once the container started.
        var status: Int32
        var timedOut: Bool
        var cancelled: Bool
    }

    let runtime: OCIRuntime
    let containerID: String
    let bundle: String
    let logPath: String
    let timeout: Double?
    private let lock = NSLock()
    private var cancelRequested = false

    init(runtime: OCIRuntime, containerID: String, bundle: String, logPath: String, timeout: Double?) {
        self.runtime = runtime
        self.containerID = containerID
        self.bundle = bundle
        self.logPath = logPath
        self.timeout = timeout
    }

    /// Asks the running container to be killed (the task was cancelled); safe from any thread.
    func cancel() {
        lock.lock()
        cancelRequested = true
        lock.unlock()
    }

    private var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelRequested
    }

    /// Runs the container to its end, feeding `output`; returns how it ended. Cancelling the
    /// calling task kills the container.
    func run(output: BuildStepOutput) async throws -> Outcome {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw RuntimeError.io(path: "pipe", operation: "create", errno: errno) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let (executable, arguments) = runtime.launch(runtime.arguments(["--log", logPath, "--log-format", "json", "run", "--bundle", bundle, containerID]))
        let pid: pid_t
        do {
            defer { close(fds[1]); close(null) }
            pid = try ChildProcess.spawn(executable, arguments, fds: [null, fds[1], fds[1]])
        } catch {
            close(fds[0])
            throw error
        }
        let reader = fds[0]
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                Thread.detachNewThread {
                    let outcome = self.follow(pid: pid, reader: reader, output: output)
                    close(reader)
                    continuation.resume(returning: outcome)
                }
            }
        } onCancel: {
            self.cancel()
        }
    }

    /// Reads the output until the runtime has exited and the pipe is closed, killing the
    /// container when its time is up or the task is cancelled.
    private func follow(pid: pid_t, reader: Int32, output: BuildStepOutput) -> Outcome {
        let started = Date()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
        defer { buffer.deallocate() }
        var status: Int32?
        var open = true
        var timedOut = false, cancelled = false
        var firstKill: Date?, lastKill: Date?
        var exitedAt: Date?
        // Until the runtime has exited and its output ended (or a second after its exit).
        while open || status == nil {
            var poller = pollfd(fd: reader, events: Int16(POLLIN), revents: 0)
            if !open {
                usleep(2_000) // the output has ended: the runtime is exiting
            } else if poll(&poller, 1, 100) > 0 {
                let n = read(reader, buffer.baseAddress, buffer.count)
                if n > 0 {
                    output.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    open = false
                }
            }
            if status == nil {
                var raw: Int32 = 0
                if waitpid(pid, &raw, WNOHANG) == pid {
                    status = ChildProcess.exitCode(raw)
                    exitedAt = Date()
                }
            }
            // The container's processes die with its init (the pid namespace ends), so the
            // pipe closes with the runtime; a second is a generous wait for the last bytes.
            if let exitedAt, Date().timeIntervalSince(exitedAt) > 1 { break }
            if status == nil {
                if !timedOut, let timeout, Date().timeIntervalSince(started) > timeout { timedOut = true }
                if !cancelled, isCancelled { cancelled = true }
                // Again each second: `kill` fails while the runtime is still creating the container.
                if (timedOut || cancelled) && (lastKill.map { Date().timeIntervalSince($0) > 1 } ?? true) {
                    kill(pid: pid, since: firstKill)
                    lastKill = Date()
                    firstKill = firstKill ?? lastKill
                }
            }
        }
        output.finish()
        if status == nil { status = ChildProcess.wait(pid) }
        return Outcome(status: status ?? -1, timedOut: timedOut, cancelled: cancelled)
    }

    /// SIGKILL to the container's init through the runtime (its pid namespace goes with it);
    /// if the runtime is still there 5 s later (stuck before the container existed), to the
    /// runtime itself.
    private func kill(pid: pid_t, since first: Date?) {
        _ = try? ChildProcess.run(runtime.executable, runtime.arguments(["kill", containerID, "KILL"]))
        if let first, Date().timeIntervalSince(first) > 5 { Glibc.kill(pid, SIGKILL) }
    }
}
