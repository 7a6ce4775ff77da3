/// An image reference, normalised as docker does: `busybox` is
/// `docker.io/library/busybox:latest`; `localhost:5000/a/b:tag@sha256:…` keeps its registry,
/// tag and digest.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// Docker Hub's canonical registry name.
    public static let dockerHub = "docker.io"

    /// The registry host, with its port when one was given (`docker.io`, `localhost:5000`).
    public let registry: String
    /// The repository path inside the registry (`library/busybox`).
    public let repository: String
    /// The tag, `latest` when neither a tag nor a digest was given.
    public let tag: String?
    /// The digest when the reference pins one.
    public let digest: Digest?

    /// Parses and normalises `string`; throws `OCIError.invalidReference` saying which part is wrong.
    public init(parsing string: String) throws {
        func fail(_ reason: String) -> OCIError { .invalidReference(string, reason: reason) }
        guard !string.isEmpty else { throw fail("the reference is empty; use NAME[:TAG][@DIGEST], such as busybox:1.36") }
        guard string.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 }) else {
            throw fail("references may contain only printable ASCII characters without spaces")
        }

        var remainder = Substring(string)
        var digest: Digest?
        if let at = remainder.firstIndex(of: "@") {
            let digestText = String(remainder[remainder.index(after: at)...])
            do { digest = try Digest(parsing: digestText) } catch let OCIError.invalidDigest(_, reason) {
                throw fail("bad digest '\(digestText)': \(reason)")
            }
            remainder = remainder[..<at]
        }

        var tag: String?
        // A tag's colon comes after the last slash; an earlier colon belongs to a port.
        let lastSlash = remainder.lastIndex(of: "/")
        if let colon = remainder.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
            let tagText = String(remainder[remainder.index(after: colon)...])
            guard Self.isValidTag(tagText) else {
                throw fail("bad tag '\(tagText)': a tag is 1 to 128 of [A-Za-z0-9_.-] and does not start with '.' or '-'")
            }
            tag = tagText
            remainder = remainder[..<colon]
        }

        let name = String(remainder)
        guard !name.isEmpty else { throw fail("the repository name is empty") }
        var registry = Self.dockerHub
        var repository = name
        if let slash = name.firstIndex(of: "/") {
            let first = String(name[..<slash])
            if first.contains(".") || first.contains(":") || first == "localhost" || first != first.lowercased() {
                registry = first
                repository = String(name[name.index(after: slash)...])
            }
        }
        if registry == "index.docker.io" || registry == "registry-1.docker.io" { registry = Self.dockerHub }
        guard Self.isValidRegistry(registry) else {
            throw fail("bad registry host '\(registry)': use HOST[:PORT], such as ghcr.io or localhost:5000")
        }
        if registry == Self.dockerHub && !repository.contains("/") { repository = "library/" + repository }
        guard repository == repository.lowercased() else {
            throw fail("repository name must be lowercase ('\(repository.lowercased())' would do)")
        }
        for component in repository.split(separator: "/", omittingEmptySubsequences: false) {
            guard Self.isValidPathComponent(component) else {
                throw fail("bad path component '\(component)' in '\(repository)': use [a-z0-9] separated by '.', '_', '__' or dashes")
            }
        }
        guard registry.utf8.count + 1 + repository.utf8.count <= 255 else {
            throw fail("the name is longer than 255 characters")
        }
        self.registry = registry
        self.repository = repository
        self.digest = digest
        self.tag = tag ?? (digest == nil ? "latest" : nil)
    }

    /// Builds a reference from parts that are already valid.
    public init(registry: String, repository: String, tag: String?, digest: Digest?) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// The fully qualified form: `docker.io/library/busybox:latest`.
    public var description: String {
        var s = "\(registry)/\(repository)"
        if let tag { s += ":\(tag)" }
        if let digest { s += "@\(digest)" }
        return s
    }

    /// `registry/repository` without tag or digest.
    public var name: String { "\(registry)/\(repository)" }

    /// The short form docker shows: `busybox:latest`, `ghcr.io/o/r:1`.
    public var familiar: String {
        var s = familiarName
        if let tag { s += ":\(tag)" }
        if let digest { s += "@\(digest)" }
        return s
    }

    /// The repository as docker shows it (`busybox`, `user/app`, `localhost:5000/a`).
    public var familiarName: String {
        if registry == Self.dockerHub {
            return repository.hasPrefix("library/") && repository.split(separator: "/").count == 2
                ? String(repository.dropFirst("library/".count)) : repository
        }
        return "\(registry)/\(repository)"
    }

    /// The same name with another tag (and no digest).
    public func withTag(_ tag: String) -> ImageReference {
        ImageReference(registry: registry, repository: repository, tag: tag, digest: nil)
    }

    static func isValidTag(_ tag: String) -> Bool {
        let u = Array(tag.utf8)
        guard (1...128).contains(u.count), let first = u.first, first != UInt8(ascii: "."), first != UInt8(ascii: "-") else { return false }
        return u.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    static func isValidRegistry(_ host: String) -> Bool {
        var hostPart = Substring(host)
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { return false }
            let after = hostPart[hostPart.index(after: close)...]
            if after.isEmpty { return true }
            guard after.first == ":" else { return false }
            let port = after.dropFirst()
            return !port.isEmpty && port.allSatisfy(\.isNumber)
        }
        if let colon = hostPart.lastIndex(of: ":") {
            let port = hostPart[hostPart.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
            hostPart = hostPart[..<colon]
        }
        let labels = hostPart.split(separator: ".", omittingEmptySubsequences: false)
        return !labels.isEmpty && labels.allSatisfy { label in
            let u = Array(label.utf8)
            guard let f = u.first, let l = u.last, isAlnum(f), isAlnum(l) else { return false }
            return u.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") }
        }
    }

    static func isValidPathComponent(_ component: Substring) -> Bool {
        // alphanumeric (separator alphanumeric)*, separator := [_.] | __ | -+
        let u = Array(component.utf8)
        guard let f = u.first, let l = u.last, isLowerAlnum(f), isLowerAlnum(l) else { return false }
        var i = 0
        while i < u.count {
            if isLowerAlnum(u[i]) { i += 1; continue }
            var j = i
            while j < u.count && !isLowerAlnum(u[j]) { j += 1 }
            let sep = u[i..<j]
            let ok = sep.elementsEqual([UInt8(ascii: ".")]) || sep.elementsEqual([UInt8(ascii: "_")])
                || sep.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")]) || sep.allSatisfy { $0 == UInt8(ascii: "-") }
            guard ok else { return false }
            i = j
        }
        return true
    }

    private static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
    }

    private static func isLowerAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a)
    }
}
