#if canImport(Glibc)
import Glibc
#endif
import CRuntime

/// A network namespace with only loopback, pinned at a path (like `ip netns add`), which the
/// container joins and into which published ports are relayed. It has no route out: the
/// "loopback only" network, with nothing to tear down on the host but the pin itself.
public enum NetworkNamespace {
    /// A namespace being made on a thread of its own (~1.4 ms of kernel work), while the caller
    /// does other work. `wait` must be called, before the process forks; it is idempotent.
    public final class Creation {
        public let path: String
        private var job: OpaquePointer?
        private var result: Int32 = 0

        public init(at path: String) throws {
            self.path = path
            let rc = stackship_netns_start(path, &job)
            guard rc == 0 else { throw Self.error(path, rc) }
        }

        public func wait() throws {
            if let job {
                result = stackship_netns_finish(job)
                self.job = nil
            }
            guard result == 0 else { throw Self.error(path, result) }
        }

        deinit { if let job { _ = stackship_netns_finish(job) } }

        static func error(_ path: String, _ rc: Int32) -> RuntimeError {
            .mountFailed(target: path, errno: -rc,
                         hint: "creating a network namespace needs root (CAP_SYS_ADMIN); run as root, or use --network host")
        }
    }

    public static func remove(at path: String) {
        _ = stackship_netns_remove(path)
    }

    /// Whether a path is a pinned namespace (a mount point over the file).
    public static func exists(at path: String) -> Bool {
        var a = stat(), b = stat()
        guard stat(path, &a) == 0 else { return false }
        let parent = path.split(separator: "/").dropLast().joined(separator: "/")
        guard stat("/" + parent, &b) == 0 else { return false }
        return a.st_dev != b.st_dev // nsfs, not the directory's file system
    }

    /// Connects to 127.0.0.1:`port` inside the namespace at `path` (or on the host when nil).
    /// Returns a connected socket.
    public static func connect(namespace path: String?, port: Int, timeoutMilliseconds: Int32 = 2000) throws -> Int32 {
        var nsfd: Int32 = -1
        if let path {
            nsfd = open(path, O_RDONLY | O_CLOEXEC)
            guard nsfd >= 0 else { throw RuntimeError.io(path: path, operation: "open the network namespace", errno: errno) }
        }
        defer { if nsfd >= 0 { close(nsfd) } }
        let fd = stackship_connect_loopback(nsfd, Int32(port), timeoutMilliseconds)
        guard fd >= 0 else { throw RuntimeError.io(path: "127.0.0.1:\(port)", operation: "connect to", errno: -fd) }
        return fd
    }
}
