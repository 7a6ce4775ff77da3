import Foundation

/// A build step's output as it streams: cut into lines, secret values replaced by `***`,
/// passed to the step's callback, the last lines kept for an error.
///
/// Used by one thread at a time (the runner's reader, then the caller once it has finished).
final class BuildStepOutput: @unchecked Sendable {
    static let tailLines = 20
    /// A line longer than this is passed on in pieces (a progress bar without newlines).
    static let maxLine = 64 * 1024

    private let redactions: [String]
    private let callback: (@Sendable (String) -> Void)?
    private var pending: [UInt8] = []
    private(set) var tail: [String] = []

    init(secrets: [BuildSecret], callback: (@Sendable (String) -> Void)?) {
        var all: [String] = []
        for secret in secrets { all += secret.redactions }
        redactions = all.sorted { $0.utf8.count > $1.utf8.count }
        self.callback = callback
    }

    /// Takes the next bytes of output.
    func consume(_ bytes: UnsafeRawBufferPointer) {
        var start = 0
        for (i, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            pending.append(contentsOf: bytes[start..<i])
            flush()
            start = i + 1
        }
        pending.append(contentsOf: bytes[start...])
        while pending.count > Self.maxLine {
            let rest = Array(pending[Self.maxLine...])
            pending.removeSubrange(Self.maxLine...)
            flush()
            pending = rest
        }
    }

    /// Passes on what is left after the last newline (at the end of the output).
    func finish() {
        if !pending.isEmpty { flush() }
    }

    private func flush() {
        var line = String(decoding: pending, as: UTF8.self)
        pending.removeAll(keepingCapacity: true)
        if line.hasSuffix("\r") { line.removeLast() }
        line = redact(line)
        tail.append(line)
        if tail.count > Self.tailLines { tail.removeFirst(tail.count - Self.tailLines) }
        callback?(line)
    }

    /// `text` with every secret value in it replaced by `***`.
    func redact(_ text: String) -> String {
        var out = text
        for secret in redactions where out.contains(secret) {
            out = out.replacingOccurrences(of: secret, with: "***")
        }
        return out
    }
}
