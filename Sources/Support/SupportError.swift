#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Errors of the support code: a system call on a path that failed.
public enum SupportError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    case io(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case let .io(path, operation, code):
            return "cannot \(operation) \(path): \(String(cString: strerror(code)))" + (code == ENOENT ? " (check the path, or install the program)" : "")
        }
    }

    public var errorDescription: String? { description }
}
