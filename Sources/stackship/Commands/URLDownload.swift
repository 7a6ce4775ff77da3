import Foundation
import HTTPCore
import Support

/// Downloads a URL into a file for `ADD URL` (proxies, trusted CAs and --insecure as the
/// registry commands take them). The file appears whole or not at all.
enum URLDownload {
    static func fetch(_ url: String, to destination: String, access: RegistryAccess) async throws {
        let transport = HTTPTransport(options: access.transport)
        do {
            try await transport.perform("download \(url)", { HTTPRequest(url: url) }) { response in
                guard (200..<300).contains(response.code) else {
                    let text = await response.text(limit: 512)
                    throw DownloadError(text: "the server answered HTTP \(response.code)" + (text.isEmpty ? "" : ": " + String(text.prefix(200))))
                }
                let file = try AtomicFileWriter(destination: destination)
                do {
                    for try await buffer in response.body {
                        try buffer.withUnsafeReadableBytes { try file.write($0) }
                    }
                    try file.commit(durable: false)
                } catch {
                    file.abort()
                    throw error
                }
            }
        } catch {
            await transport.shutdown()
            throw error
        }
        await transport.shutdown()
    }
}

struct DownloadError: Error, CustomStringConvertible, LocalizedError {
    var text: String
    var description: String { text }
    var errorDescription: String? { text }
}
