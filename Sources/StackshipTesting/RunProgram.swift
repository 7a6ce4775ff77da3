#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
import Runtime
import Support

/// What a program run by ``runProgram(_:_:cwd:environment:)`` did.
public struct ProgramResult: Sendable {
    /// Its exit status (128+N when killed by signal N).
    public var status: Int32
    /// What it wrote to stdout.
    public var out: String
    /// What it wrote to stderr.
    public var err: String
}

/// Runs `program` (looked up on PATH by /usr/bin/env) to completion, through ChildProcess (a
/// clean signal mask, unlike Foundation's Process), with stdin from /dev/null and stdout and
/// stderr captured separately in unlinked temporary files (pipe reads abort on EINTR here).
@discardableResult
public func runProgram(_ program: String, _ arguments: [String], cwd: String? = nil,
                       environment: [String: String]? = nil) throws -> ProgramResult {
    func scratch() throws -> Int32 {
        let path = NSTemporaryDirectory() + "program-\(FileIO.randomSuffix())"
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RuntimeError.io(path: path, operation: "create", errno: errno) }
        unlink(path)
        return fd
    }
    let out = try scratch()
    defer { close(out) }
    let err = try scratch()
    defer { close(err) }
    let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
    defer { close(null) }
    let pid = try ChildProcess.spawn("/usr/bin/env", [program] + arguments, environment: environment,
                                     fds: [null, out, err], directory: cwd)
    let status = ChildProcess.wait(pid)
    return ProgramResult(status: status, out: String(decoding: ChildProcess.readFromStart(out), as: UTF8.self),
                         err: String(decoding: ChildProcess.readFromStart(err), as: UTF8.self))
}
