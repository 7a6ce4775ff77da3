import Foundation
import HTTPCore
import OCI
import Support

extension RetryClassifier {
    /// What a registry client retries: 408, 429 and the 5xx that mean "try later", and
    /// connection-level failures (HTTPCore's standard).
    static let registry = RetryClassifier.standard
}

extension HTTPTransporting {
    /// `send`, with the registry's words for a TLS failure (its fix is `--ca-cert` or
    /// `--insecure`) and for retries that ran out.
    func registrySend(_ operation: String, retry: RetryPolicy? = nil, _ make: () async throws -> HTTPRequest) async throws -> HTTPResponse {
        do {
            return try await send(operation, retry: retry, make)
        } catch let error as HTTPError {
            switch error {
            case let .tlsFailed(host, detail, insecure):
                throw RegistryError.tlsFailed(host: host, detail: detail, insecure: insecure)
            case let .connectionFailed(_, _, attempts, detail, _) where attempts > 1:
                throw RegistryError.retriesExhausted(operation: operation, attempts: attempts, last: detail)
            default:
                throw error
            }
        }
    }
}

extension HTTPResponse {
    /// The registry's error message from an OCI error body (`{"errors":[{"code","message"}]}`),
    /// or the body itself made one safe line.
    func registryErrorDetail() async -> String {
        let text = await self.text()
        struct Body: Decodable {
            struct E: Decodable { var code: String?; var message: String? }
            var errors: [E]?
        }
        if let body = try? JSONDecoder().decode(Body.self, from: Data(text.utf8)), let errors = body.errors, !errors.isEmpty {
            return DiagnosticText.printable(errors.map { [$0.code, $0.message].compactMap { $0 }.joined(separator: ": ") }.joined(separator: "; "))
        }
        // A server's own words, made one safe line (no newlines or terminal escapes).
        return DiagnosticText.printable(text)
    }
}
