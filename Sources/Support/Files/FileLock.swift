#if canImport(Glibc)
import Glibc
#endif

/// An advisory lock on a file (flock), shared between processes; released when the body ends.
public enum FileLock {
    public static func with<T>(_ lockPath: String, exclusive: Bool = true, _ body: () throws -> T) throws -> T {
        let fd = try acquire(lockPath, exclusive: exclusive)
        defer { release(fd) }
        return try body()
    }

    public static func acquire(_ lockPath: String, exclusive: Bool) throws -> Int32 {
        let fd = try FileIO.open(lockPath, O_RDWR | O_CREAT, mode: 0o644)
        while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            if errno != EINTR {
                let code = errno
                close(fd)
                throw SupportError.io(path: lockPath, operation: "lock", errno: code)
            }
        }
        return fd
    }

    public static func release(_ fd: Int32) {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
