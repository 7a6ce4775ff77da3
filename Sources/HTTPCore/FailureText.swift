import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL

/// A transport failure as one line for a message: never a source path (BoringSSL's errors
/// name the C file they were raised in on the build machine), TLS failures as their reason
/// codes, socket failures as their errno.
public enum FailureText {
    /// A short description of `error`, a failure to get an answer.
    public static func describe(_ error: Error) -> String {
        if let e = error as? HTTPError { return e.detail }
        let text: String
        if let e = error as? HTTPClientError, e == .getConnectionFromPoolTimeout {
            text = "no pooled connection became free in time (every connection stayed busy: the server, or this process, is overloaded)"
        } else if let e = error as? HTTPClientError, e == .deadlineExceeded || e == .readTimeout {
            text = "no answer in time (the request timed out)"
        } else if let e = error as? HTTPClientError, e == .connectTimeout {
            text = "the connection timed out"
        } else if let e = error as? HTTPClientError { text = "\(e)" }
        // NIO's own wording ("connection reset (error set): Connection refused)") says less than the errno.
        else if let e = error as? IOError { text = "\(String(cString: strerror(e.errnoCode))) (errno \(e.errnoCode))" }
        else { text = "\(error)" }
        let reasons = tlsReasons(in: text)
        if !reasons.isEmpty { return "handshake failed: " + reasons.joined(separator: ", ") }
        return withoutSourcePaths(text)
    }

    /// Whether `error` is a TLS failure (handshake, verification), as opposed to a connection
    /// that failed or an answer. A TLS handshake that timed out is a slow connection, not this.
    public static func isTLSFailure(_ error: Error) -> Bool {
        if case .tlsFailed? = error as? HTTPError { return true }
        if error is HTTPError || error is HTTPClientError { return false }
        if error is NIOSSLError { return true }
        let name = String(reflecting: type(of: error))
        return name.contains("SSL") || name.contains("TLS")
    }

    /// `text` on one line, without source-file locations: BoringSSL's
    /// `... at /…/.build/checkouts/…/tls_record.cc:231` and any other `/path/file.swift:LINE`
    /// are dropped, so a user never sees the build machine's paths.
    public static func withoutSourcePaths(_ text: String) -> String {
        var words: [String] = []
        for word in text.split(whereSeparator: { $0.isWhitespace || $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true }) {
            guard isSourceLocation(word) else {
                words.append(String(word))
                continue
            }
            // "... WRONG_VERSION_NUMBER at /path/x.cc:231": the "at" goes with the path.
            if words.last == "at" { words.removeLast() }
            // Keep the closing brackets that followed the path, so what remains still balances.
            let closers = String(word.reversed().prefix { ")]}".contains($0) }.reversed())
            if !closers.isEmpty {
                if words.isEmpty { words.append(closers) } else { words[words.count - 1] += closers }
            }
        }
        return words.joined(separator: " ")
    }

    /// The reason codes in a BoringSSL error description (`…:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED
    /// at …`), which say more to a user than the rest of it; empty when there are none.
    public static func tlsReasons(in text: String) -> [String] {
        var reasons: [String] = []
        var rest = Substring(text)
        while let range = rest.range(of: "OPENSSL_internal:") {
            let code = rest[range.upperBound...].prefix { $0.isUppercase || $0.isNumber || $0 == "_" }
            if !code.isEmpty && !reasons.contains(String(code)) { reasons.append(String(code)) }
            rest = rest[range.upperBound...]
        }
        return reasons
    }

    /// `/a/b/c.swift:12`, `/x/.build/…`, `/x/checkouts/…`, possibly inside brackets or quotes.
    static func isSourceLocation(_ word: Substring) -> Bool {
        let bare = word.trimmingCharacters(in: CharacterSet(charactersIn: "[](){}\"',;"))
        guard bare.hasPrefix("/") || bare.contains("/.build/") else { return false }
        if bare.contains("/.build/") || bare.contains("/checkouts/") { return true }
        var name = Substring(bare)
        if let colon = name.lastIndex(of: ":"), name[name.index(after: colon)...].allSatisfy(\.isNumber) {
            name = name[..<colon]
        }
        guard let dot = name.lastIndex(of: ".") else { return false }
        let ext = name[name.index(after: dot)...].lowercased()
        return ["swift", "c", "cc", "cpp", "h", "hpp", "m", "mm", "s", "inc"].contains(ext)
    }
}
