import ArgumentParser
import Foundation
import Support
import OCI

/// Shared CLI plumbing: error reporting without stack traces, paths, the store location.
enum CLI {
    /// Runs `body`, turning known errors into a one-line message and exit code 1.
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as ExitCode {
            throw error
        } catch let error as CleanExit {
            throw error
        } catch {
            FileHandle.standardError.write(Data("error: \(describe(error))\n".utf8))
            throw ExitCode.failure
        }
    }

    /// Does `body` for each name, printing the name when it succeeds and the error when not
    /// (docker's behaviour for `stop a b c`); fails at the end if any did.
    static func forEach(_ names: [String], _ body: (String) throws -> Void) throws {
        var failed = false
        for name in names {
            do {
                try body(name)
                print(name)
            } catch {
                FileHandle.standardError.write(Data("error: \(describe(error))\n".utf8))
                failed = true
            }
        }
        if failed { throw ExitCode.failure }
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? LocalizedError, let text = e.errorDescription { return text }
        return "\(error)"
    }

    static func absolute(_ path: String) -> String {
        FileIO.standardize(path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path)
    }

    static var isTerminal: Bool { isatty(2) == 1 && ProcessInfo.processInfo.environment["CI"] == nil }
}
