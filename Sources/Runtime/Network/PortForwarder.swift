#if canImport(Glibc)
import Glibc
#endif
import CRuntime

/// Publishes container ports on the host with a userspace TCP relay, as docker-proxy does: a
/// listening socket per port on the host; each connection is relayed to the container's
/// 127.0.0.1:port inside its network namespace. The listeners are bound by `run` itself, so a
/// taken port is reported before anything starts, and then handed to the container's monitor.
public enum PortForwarder {
    /// Binds a listening socket for each mapping; port 0 picks a free one, recorded in the result.
    /// On failure nothing stays bound.
    public static func bind(_ mappings: [PortMapping]) throws -> [(mapping: PortMapping, fd: Int32)] {
        var bound: [(PortMapping, Int32)] = []
        do {
            for mapping in mappings {
                let fd = try listen(on: mapping)
                var resolved = mapping
                resolved.hostPort = localPort(fd) ?? mapping.hostPort
                bound.append((resolved, fd))
            }
            return bound
        } catch {
            for (_, fd) in bound { close(fd) }
            throw error
        }
    }

    static func listen(on mapping: PortMapping) throws -> Int32 {
        guard let ip = IPv4.parse(mapping.hostIP) else {
            throw RuntimeError.badOption(option: "-p \(mapping)", reason: "'\(mapping.hostIP)' is not an IPv4 address")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RuntimeError.io(path: "socket", operation: "create", errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(mapping.hostPort).bigEndian)
        addr.sin_addr.s_addr = ip.bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            if code == EADDRINUSE { throw RuntimeError.portInUse(hostIP: mapping.hostIP, port: mapping.hostPort) }
            if code == EADDRNOTAVAIL {
                throw RuntimeError.badOption(option: "-p \(mapping)", reason: "\(mapping.hostIP) is not an address of this host")
            }
            throw RuntimeError.io(path: "\(mapping.hostIP):\(mapping.hostPort)", operation: "listen on", errno: code)
        }
        guard Glibc.listen(fd, 511) == 0 else {
            let code = errno
            close(fd)
            throw RuntimeError.io(path: "\(mapping.hostIP):\(mapping.hostPort)", operation: "listen on", errno: code)
        }
        return fd
    }

    static func localPort(_ fd: Int32) -> Int? {
        var addr = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return rc == 0 ? Int(UInt16(bigEndian: addr.sin_port)) : nil
    }

    /// Serves `listener` on a background thread for the life of the process, relaying into the
    /// namespace at `namespace` (the host's when nil). Takes ownership of the descriptor.
    public static func serve(listener: Int32, namespace: String?, containerPort: Int) throws {
        var nsfd: Int32 = -1
        if let namespace {
            nsfd = open(namespace, O_RDONLY | O_CLOEXEC)
            guard nsfd >= 0 else { throw RuntimeError.io(path: namespace, operation: "open the network namespace", errno: errno) }
        }
        let rc = stackship_forward_start(listener, nsfd, Int32(containerPort))
        guard rc == 0 else {
            if nsfd >= 0 { close(nsfd) }
            throw RuntimeError.io(path: "port \(containerPort)", operation: "start relaying", errno: -rc)
        }
    }
}
