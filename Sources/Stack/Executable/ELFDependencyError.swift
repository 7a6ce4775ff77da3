#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Why the shared libraries of an `executable:` layer could not be worked out. Each case names
/// the file concerned, and its description says what to do about it.
public enum ELFDependencyError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The file does not start with the ELF magic (a script, or not a program at all).
    case notELF(path: String)
    /// An ELF file this reader does not handle: 32-bit, big-endian, or not an executable.
    case unsupported(path: String, reason: String)
    /// An ELF file whose headers contradict themselves or point outside the file.
    case malformed(path: String, reason: String)
    /// The file could not be opened or read.
    case unreadable(path: String, errno: Int32)
    /// The program interpreter (PT_INTERP) named by `executable` is not on this machine, or
    /// is not for the same machine as `executable`.
    case interpreterNotFound(interpreter: String, executable: String, reason: String)
    /// No directory the dynamic loader would search holds a usable `library`.
    /// `skipped` lists candidates that were passed over, with why (wrong architecture, ...).
    case libraryNotFound(library: String, neededBy: String, searched: [String], skipped: [String])

    public var description: String {
        switch self {
        case let .notELF(path):
            return "\(path) is not an ELF executable; use `source:` for ordinary files and scripts"
        case let .unsupported(path, reason):
            return "\(path) is \(reason); `executable:` layers take 64-bit little-endian ELF programs (x86_64, aarch64), use `source:` for anything else"
        case let .malformed(path, reason):
            return "\(path) is not a valid ELF file (\(reason)); rebuild it, or use `source:` to copy it as it is"
        case let .unreadable(path, code):
            return "cannot read \(path) (\(String(cString: strerror(code)))); check that it exists and is readable"
        case let .interpreterNotFound(interpreter, executable, reason):
            return "\(executable) needs the program interpreter \(interpreter), which \(reason); build it on a machine "
                + "with the C library it should run with, or link it statically"
        case let .libraryNotFound(library, neededBy, searched, skipped):
            var text = "\(neededBy) needs \(library), which is not in any directory the dynamic loader searches ("
                + (searched.isEmpty ? "none apply" : searched.joined(separator: ", ")) + ")"
            if !skipped.isEmpty { text += "; passed over " + skipped.joined(separator: ", ") }
            return text + "; install the package that provides it (`apt-file search \(library)` names it), "
                + "or build with --static-swift-stdlib if it is a Swift runtime library"
        }
    }

    public var errorDescription: String? { description }
}
