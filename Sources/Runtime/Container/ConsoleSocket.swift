#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support

/// The unix socket a container's terminal arrives on (`runc run --console-socket PATH`): runc
/// makes the pseudo-terminal, gives the container its slave, and sends the master here as an
/// `SCM_RIGHTS` message. `run -t` listens before the container starts, so the message waits in
/// the socket until ``receiveMaster(timeout:)`` takes it.
///
/// The socket lives in a private folder of its own under /tmp (or $TMPDIR when that is short):
/// a unix socket's path is limited to 107 bytes, which a store's container folder may exceed.
public final class ConsoleSocket: @unchecked Sendable {
    /// The socket's path, for `--console-socket`.
    public let path: String
    private let folder: String
    private var fd: Int32

    /// Creates the folder (mode 0700) and the listening socket.
    ///
    /// - Throws: ``RuntimeError/io(path:operation:errno:)`` when either cannot be made.
    public init() throws {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty || $0.utf8.count > 60 ? nil : $0 } ?? "/tmp"
        var template = Array((base + "/stackship-tty-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw RuntimeError.io(path: base, operation: "create a folder for the console socket in", errno: errno)
        }
        folder = String(cString: made)
        path = folder + "/console.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            let e = errno
            rmdir(folder)
            throw RuntimeError.io(path: path, operation: "create the console socket", errno: e)
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            Glibc.close(fd)
            rmdir(folder)
            throw RuntimeError.io(path: path, operation: "bind the console socket (the path is too long) at", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 1) == 0 else {
            let e = errno
            Glibc.close(fd)
            rmdir(folder)
            throw RuntimeError.io(path: path, operation: "listen on the console socket", errno: e)
        }
        self.fd = fd
    }

    deinit { close() }

    /// Closes the socket and removes it and its folder (idempotent).
    public func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
        unlink(path)
        rmdir(folder)
    }

    /// Takes runc's connection and the terminal master it sends: the descriptor, close-on-exec.
    ///
    /// - Throws: ``RuntimeError/timeout(what:seconds:)`` when nothing arrives in `timeout`
    ///   seconds; ``RuntimeError/io(path:operation:errno:)`` when the message holds no descriptor.
    public func receiveMaster(timeout: Double = 10) throws -> Int32 {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var ready: Int32
        repeat { ready = poll(&poller, 1, Int32(timeout * 1000)) } while ready < 0 && errno == EINTR
        guard ready > 0 else { throw RuntimeError.timeout(what: "the container's terminal (runc's console socket)", seconds: timeout) }
        let connection = accept(fd, nil, nil)
        guard connection >= 0 else { throw RuntimeError.io(path: path, operation: "accept on", errno: errno) }
        _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
        defer { Glibc.close(connection) }
        return try Self.receiveDescriptor(connection, path: path)
    }

    /// One `SCM_RIGHTS` descriptor from `socket` (runc sends the terminal's name as the data).
    static func receiveDescriptor(_ socket: Int32, path: String) throws -> Int32 {
        // cmsghdr, then the int, padded to the header's alignment (CMSG_SPACE(sizeof(int))).
        let header = MemoryLayout<cmsghdr>.size
        let align = MemoryLayout<Int>.size
        let space = header + ((MemoryLayout<Int32>.size + align - 1) / align) * align
        var control = [UInt8](repeating: 0, count: space)
        var data = [UInt8](repeating: 0, count: 4096)
        var received: Int = -1
        data.withUnsafeMutableBytes { dataBytes in
            control.withUnsafeMutableBytes { controlBytes in
                var vector = iovec(iov_base: dataBytes.baseAddress, iov_len: dataBytes.count)
                withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var message = msghdr()
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = controlBytes.baseAddress
                    message.msg_controllen = controlBytes.count
                    repeat { received = recvmsg(socket, &message, Int32(MSG_CMSG_CLOEXEC)) } while received < 0 && errno == EINTR
                }
            }
        }
        guard received >= 0 else { throw RuntimeError.io(path: path, operation: "receive the terminal on", errno: errno) }
        let (length, level, type, descriptor): (Int, Int32, Int32, Int32) = control.withUnsafeBytes { raw in
            let h = raw.load(as: cmsghdr.self)
            return (Int(h.cmsg_len), h.cmsg_level, h.cmsg_type, raw.loadUnaligned(fromByteOffset: header, as: Int32.self))
        }
        guard level == SOL_SOCKET, type == Int32(SCM_RIGHTS), length >= header + MemoryLayout<Int32>.size, descriptor >= 0 else {
            throw RuntimeError.io(path: path, operation: "receive the terminal (the message held no descriptor) on", errno: EPROTO)
        }
        return descriptor
    }
}
