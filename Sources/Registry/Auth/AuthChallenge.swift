/// A `WWW-Authenticate` challenge: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.
public struct AuthChallenge: Sendable, Hashable {
    public enum Scheme: String, Sendable { case basic, bearer }
    public var scheme: Scheme
    /// Parameters with lowercased names (realm, service, scope, error).
    public var parameters: [String: String]

    public var realm: String? { parameters["realm"] }
    public var service: String? { parameters["service"] }
    public var scope: String? { parameters["scope"] }
    /// True when the server says the token lacks a needed scope.
    public var isInsufficientScope: Bool { parameters["error"] == "insufficient_scope" }

    /// Parses the first Basic or Bearer challenge of a header value; nil for others.
    public init?(header: String) {
        var rest = Substring(header).drop { $0 == " " }
        let schemeEnd = rest.firstIndex(of: " ") ?? rest.endIndex
        guard let scheme = Scheme(rawValue: rest[..<schemeEnd].lowercased()) else { return nil }
        self.scheme = scheme
        rest = rest[schemeEnd...]
        var params: [String: String] = [:]
        while true {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let eq = rest.firstIndex(of: "=") else { break }
            let key = rest[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: eq)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                var end = rest.endIndex
                for i in rest.indices {
                    let c = rest[i]
                    if escaped { value.append(c); escaped = false; continue }
                    if c == "\\" { escaped = true; continue }
                    if c == "\"" { end = i; break }
                    value.append(c)
                }
                rest = end < rest.endIndex ? rest[rest.index(after: end)...] : rest[rest.endIndex...]
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            params[key] = value
        }
        self.parameters = params
    }
}

/// What a request needs to be allowed: `repository:NAME:pull,push` and the like.
public struct AuthScope: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var repository: String
    public var actions: [String]

    public init(repository: String, actions: [String]) {
        self.repository = repository
        self.actions = actions.sorted()
    }

    public static func pull(_ repository: String) -> AuthScope { AuthScope(repository: repository, actions: ["pull"]) }
    public static func push(_ repository: String) -> AuthScope { AuthScope(repository: repository, actions: ["pull", "push"]) }

    public var description: String { "repository:\(repository):\(actions.joined(separator: ","))" }
    public static func < (a: AuthScope, b: AuthScope) -> Bool { a.description < b.description }
}
