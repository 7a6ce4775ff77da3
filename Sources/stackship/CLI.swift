import ArgumentParser
import Foundation
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

    static func describe(_ error: Error) -> String {
        if let e = error as? LocalizedError, let text = e.errorDescription { return text }
        return "\(error)"
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return (path as NSString).standardizingPath }
        return ((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path) as NSString).standardizingPath
    }

    static var isTerminal: Bool { isatty(2) == 1 && ProcessInfo.processInfo.environment["CI"] == nil }
}

/// Shows progress on stderr: a line redrawn in place on a terminal, plain lines in CI.
final class ProgressReporter {
    private let label: String
    private let start = Date()
    private var lastPlain = Date.distantPast
    private var drawn = false

    init(label: String) { self.label = label }

    func update(_ p: LayerProgress) {
        let mb = Double(p.bytesDone) / 1_048_576
        let totalMB = Double(p.bytesTotal) / 1_048_576
        let text = String(format: "%@: %.1f/%.1f MiB, %d/%d files", label, mb, totalMB, p.filesDone, p.filesTotal)
        if CLI.isTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
            drawn = true
        } else if Date().timeIntervalSince(lastPlain) >= 5 {
            lastPlain = Date()
            FileHandle.standardError.write(Data("\(text)\n".utf8))
        }
    }

    func done() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
