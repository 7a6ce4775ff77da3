// Stand-in until the credentials work lands (replaced by Credentials/*.swift).
public struct RegistryCredential: Sendable, Hashable {
    public var username: String
    public var password: String
    public var identityToken: String?
    public init(username: String, password: String, identityToken: String? = nil) {
        self.username = username
        self.password = password
        self.identityToken = identityToken
    }
}
public struct CredentialStore: Sendable {
    public init() {}
    public func credential(for registry: String) throws -> RegistryCredential? { nil }
    public func store(_ credential: RegistryCredential, for registry: String) throws -> String { "nowhere" }
    public func remove(for registry: String) throws -> Bool { false }
}
