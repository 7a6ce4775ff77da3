import Foundation
import OCI
import Support

/// Errors talking to a registry. Cases carry the facts; descriptions say what happened and
/// what to do, and never contain a credential.
public enum RegistryError: Error, CustomStringConvertible, LocalizedError, Sendable {
    /// The registry answered with an unexpected status; `detail` is its error message, if any.
    case unexpectedStatus(operation: String, url: String, status: Int, detail: String)
    case unauthorized(registry: String, repository: String?, detail: String)
    case denied(registry: String, repository: String?, detail: String)
    case notFound(what: String, registry: String)
    case unreachable(registry: String, detail: String)
    case insecureCredentials(registry: String)
    case plainHTTPRefused(registry: String)
    case manifestTooLarge(reference: String, limit: Int)
    case badResponse(url: String, detail: String)
    case noMatchingPlatform(reference: String, wanted: String, available: [String])
    case tokenRequestFailed(realm: String, status: Int, detail: String)
    case retriesExhausted(operation: String, attempts: Int, last: String)
    /// The registry answered `GET /v2/` (or another request) with a status that is not the API's,
    /// after `attempts` tries; `detail` is what its body said.
    case registryAnswered(registry: String, request: String, status: Int, reason: String, attempts: Int, detail: String)
    /// A tag list's `Link: rel="next"` named a page already read (a loop).
    case paginationLoop(registry: String, repository: String, link: String)
    /// A tag list's `Link: rel="next"` named another origin than the registry's.
    case paginationLeftOrigin(registry: String, repository: String, link: String)
    /// A tag list went on for more pages than the limit.
    case tooManyPages(registry: String, repository: String, limit: Int)
    /// The TLS handshake with `host` failed (`detail` says how); `insecure` says whether
    /// --insecure was given already.
    case tlsFailed(host: String, detail: String, insecure: Bool)

    public var description: String {
        switch self {
        case let .unexpectedStatus(operation, url, status, detail):
            return "\(operation) failed: \(url) answered \(status)\(detail.isEmpty ? "" : ": \(detail)")"
        case let .unauthorized(registry, repository, detail):
            return "\(registry)\(repository.map { "/\($0)" } ?? ""): authentication required or refused\(detail.isEmpty ? "" : " (\(detail))"); log in with `stackship login \(registry)`, or pass --creds USER:PASSWORD"
        case let .denied(registry, repository, detail):
            return "\(registry)\(repository.map { "/\($0)" } ?? ""): access denied\(detail.isEmpty ? "" : " (\(detail))"); check that these credentials may push or pull this repository"
        case let .notFound(what, registry):
            return "\(what) not found on \(registry); check the name and tag (`stackship tags \(registry)/REPOSITORY` lists tags)"
        case let .unreachable(registry, detail):
            return "cannot reach registry \(registry): \(detail); check the host and port, HTTPS_PROXY/NO_PROXY, and that the registry is running"
        case let .insecureCredentials(registry):
            return "refusing to send credentials to \(registry) over plain HTTP; use HTTPS (give its CA with --ca-cert), or use the registry anonymously"
        case let .plainHTTPRefused(registry):
            return "cannot reach \(registry) over HTTPS (plain HTTP is used only for loopback registries); check the host, port, HTTPS_PROXY/NO_PROXY and that it is running, or pass --insecure if it speaks plain HTTP"
        case let .manifestTooLarge(reference, limit):
            return "the manifest of \(reference) is larger than \(limit / (1 << 20)) MiB, the limit registries and clients agree on; it is refused"
        case let .badResponse(url, detail):
            return "unexpected answer from \(url): \(detail)"
        case let .noMatchingPlatform(reference, wanted, available):
            return "\(reference) has no image for \(wanted) (it has \(available.joined(separator: ", "))); pick one with --platform, or copy them all with --all"
        case let .tokenRequestFailed(realm, status, detail):
            return "the token server \(realm) answered \(status)\(detail.isEmpty ? "" : ": \(detail)"); check the credentials (stackship login)"
        case let .retriesExhausted(operation, attempts, last):
            return "\(operation) failed after \(attempts) attempts; the last error was: \(last)"
        case let .registryAnswered(registry, request, status, reason, attempts, detail):
            let tries = attempts > 1 ? " after \(attempts) attempts" : ""
            return "registry \(registry) answered \(status)\(reason.isEmpty ? "" : " \(reason)") to \(request)\(tries)\(detail.isEmpty ? "" : ": \(detail)"); check that the registry is running and healthy, and that \(registry) is an OCI registry"
        case let .paginationLoop(registry, repository, link):
            return "the tag list of \(registry)/\(repository) links back to a page it already gave (\(DiagnosticText.printable(link))); the registry's pagination is broken, so listing stopped (report it to the registry's operator)"
        case let .paginationLeftOrigin(registry, repository, link):
            return "the tag list of \(registry)/\(repository) links its next page to another origin (\(DiagnosticText.printable(link))); pages are read from the registry itself only, so listing stopped"
        case let .tlsFailed(host, detail, insecure):
            return "TLS with \(host) failed (\(detail)); trust its CA with --ca-cert\(insecure ? "" : ", or pass --insecure")"
        case let .tooManyPages(registry, repository, limit):
            return "the tag list of \(registry)/\(repository) goes on past \(limit) pages; listing stopped (a registry that never ends its list is broken: report it to its operator)"
        }
    }

    public var errorDescription: String? { description }
}
