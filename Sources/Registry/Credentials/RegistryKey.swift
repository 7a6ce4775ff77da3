import Foundation

/// How docker's config.json and credential helpers name a registry, and how names that differ
/// in spelling (`https://ghcr.io`, `ghcr.io/`, `http://localhost:5000/v2/`) are matched.
enum RegistryKey {
    /// Docker Hub's key in config.json and in credential helpers.
    static let dockerHubKey = "https://index.docker.io/v1/"
    /// Docker Hub's name after normalisation.
    static let dockerHub = "docker.io"
    /// Names of Docker Hub that docker users write.
    static let dockerHubAliases: Set<String> = ["docker.io", "index.docker.io", "registry-1.docker.io"]

    /// `host[:port]`, lowercased, without scheme or path; every Docker Hub alias is `docker.io`.
    /// Empty when `name` holds no host.
    static func normalize(_ name: String) -> String {
        var s = Substring(name.trimmingCharacters(in: .whitespacesAndNewlines))
        if let scheme = s.range(of: "://") {
            let prefix = s[..<scheme.lowerBound]
            if !prefix.isEmpty, prefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+.-".contains($0)) }) {
                s = s[scheme.upperBound...]
            }
        }
        if let slash = s.firstIndex(of: "/") { s = s[..<slash] }
        let host = s.lowercased()
        return dockerHubAliases.contains(host) ? dockerHub : host
    }

    /// The key under which a login is written: Docker Hub's URL, or `host[:port]`.
    static func storageKey(_ name: String) -> String {
        let host = normalize(name)
        return host == dockerHub ? dockerHubKey : host
    }

    /// True when two spellings name the same registry.
    static func matches(_ key: String, _ registry: String) -> Bool {
        let n = normalize(key)
        return !n.isEmpty && n == normalize(registry)
    }
}
