#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Joins this process's terminal to a container's (`run -t`, `run -it`): what the user types goes
/// to the container's terminal master, what the container writes comes back, and the window size
/// follows this terminal's, as docker's attach does.
///
/// One thread, one `poll` loop: input (with -i) and the master are read as they become readable
/// and written on in full. The loop ends when the master reports the terminal closed (every
/// process in the container has let go of it). The window size is compared with this terminal's
/// on every wake-up and at least five times a second, so a resize reaches the container (as
/// SIGWINCH, from the kernel) without a signal handler here.
public enum TerminalRelay {
    /// Relays between `input` (nil: none, `run -t` alone), `output` and the container's terminal
    /// `master` until the container lets go of it. When `input` is a terminal, it is put in raw
    /// mode for the duration (keys such as Ctrl-C then reach the container's terminal, whose
    /// line discipline turns them into signals) and restored afterwards. What the container
    /// writes also goes to `log` when given (its log file, for `stackship logs`).
    public static func relay(master: Int32, input: Int32?, output: Int32, log: Int32? = nil) {
        var saved = termios()
        let raw = input.map { isatty($0) == 1 && tcgetattr($0, &saved) == 0 } ?? false
        if raw, let input {
            var settings = saved
            cfmakeraw(&settings)
            // TCSANOW, not TCSAFLUSH: what was typed before the container started is kept.
            _ = tcsetattr(input, TCSANOW, &settings)
        }
        defer { if raw, let input { _ = tcsetattr(input, TCSANOW, &saved) } }

        let sizeSource = [input, output].compactMap { $0 }.first { isatty($0) == 1 }
        var lastSize = winsize()
        func followWindowSize() {
            guard let sizeSource else { return }
            var size = winsize()
            guard ioctl(sizeSource, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0 || size.ws_col > 0 else { return }
            if size.ws_row != lastSize.ws_row || size.ws_col != lastSize.ws_col {
                lastSize = size
                _ = ioctl(master, UInt(TIOCSWINSZ), &size)
            }
        }
        followWindowSize()

        var reading = input
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            var fds = [pollfd(fd: master, events: Int16(POLLIN), revents: 0)]
            if let reading { fds.append(pollfd(fd: reading, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), 200)
            followWindowSize()
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if ready == 0 { continue }
            if fds[0].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
                if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                // EIO: the last holder of the terminal's slave closed it; the container is done.
                if n <= 0 { return }
                writeAll(output, buffer, count: n)
                if let log { writeAll(log, buffer, count: n) }
            }
            if fds.count > 1, fds[1].revents != 0, let source = reading {
                let n = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
                if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if n <= 0 {
                    // End of input: the terminal's end-of-file character, as a user's Ctrl-D,
                    // so that a program reading to the end (cat) ends too.
                    reading = nil
                    writeAll(master, [4], count: 1)
                    continue
                }
                writeAll(master, buffer, count: n)
            }
        }
    }

    /// Writes `count` bytes of `bytes` to `fd`, through short writes and interruptions.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], count: Int) {
        var offset = 0
        while offset < count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, count - offset) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return
            }
            offset += n
        }
    }
}
