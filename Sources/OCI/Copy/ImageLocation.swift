/// Where an image is, in skopeo's transport syntax, plus `store:` for the local store.
public enum ImageLocation: Sendable, Hashable, CustomStringConvertible {
    /// `docker://REF`, or a bare reference: a registry repository.
    case registry(ImageReference)
    /// `store:REF`: the local store (a reference, an ID or a digest, as `stackship images` shows).
    case store(String)
    /// `oci:PATH[:REF]`: an OCI image layout directory; REF is a ref name, literally.
    case layout(path: String, reference: String?)
    /// `oci-archive:PATH[:REF]`: a tar of an OCI image layout.
    case ociArchive(path: String, reference: String?)
    /// `docker-archive:PATH[:REF]`: what `docker save` writes (REF: `name:tag` or `@N`).
    case dockerArchive(path: String, reference: String?)

    /// The transports skopeo has that stackship does not, named in the error.
    static let unsupported = ["dir", "containers-storage", "docker-daemon", "ostree", "sif", "tarball"]

    /// Parses `text`. Relative paths are made absolute with `absolute`.
    public init(parsing text: String, absolute: (String) -> String = { $0 }) throws {
        func pathAndReference(_ rest: Substring) -> (String, String?) {
            guard let colon = rest.firstIndex(of: ":") else { return (absolute(String(rest)), nil) }
            let reference = String(rest[rest.index(after: colon)...])
            return (absolute(String(rest[..<colon])), reference.isEmpty ? nil : reference)
        }
        let transport = text.firstIndex(of: ":").map { String(text[..<$0]) } ?? ""
        let rest = text.firstIndex(of: ":").map { text[text.index(after: $0)...] } ?? ""
        switch transport {
        case "docker" where rest.hasPrefix("//"):
            self = .registry(try ImageReference(parsing: String(rest.dropFirst(2))))
        case "store":
            self = .store(String(rest))
        case "oci":
            let (path, reference) = pathAndReference(rest)
            self = .layout(path: path, reference: reference)
        case "oci-archive":
            let (path, reference) = pathAndReference(rest)
            self = .ociArchive(path: path, reference: reference)
        case "docker-archive":
            let (path, reference) = pathAndReference(rest)
            self = .dockerArchive(path: path, reference: reference)
        case _ where Self.unsupported.contains(transport):
            throw OCIError.invalidReference(text, reason: "the transport '\(transport):' is not supported; use docker://, store:, oci:, oci-archive: or docker-archive:")
        default:
            self = .registry(try ImageReference(parsing: text))
        }
    }

    public var description: String {
        switch self {
        case .registry(let r): return "docker://\(r)"
        case .store(let r): return "store:\(r)"
        case let .layout(path, r): return "oci:\(path)\(r.map { ":\($0)" } ?? "")"
        case let .ociArchive(path, r): return "oci-archive:\(path)\(r.map { ":\($0)" } ?? "")"
        case let .dockerArchive(path, r): return "docker-archive:\(path)\(r.map { ":\($0)" } ?? "")"
        }
    }
}
