/// A username/secret pair for one registry. Its description and debugDescription never show the secret.
///
/// Docker's identity tokens (an OAuth2 refresh token that `docker login` may receive instead of
/// keeping the password) are held in `identityToken`, with `username` `"<token>"` when no user
/// name is known and `password` equal to the token when no password is known.
public struct RegistryCredential: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The user name; `"<token>"` with `identityToken` for docker's identity tokens.
    public var username: String
    /// The secret: a password or an access token.
    public var password: String
    /// Docker config's `identitytoken`: a refresh token for the OAuth2 POST to the token server.
    public var identityToken: String?

    /// The user name docker's credential helpers use for an identity token.
    public static let identityTokenUsername = "<token>"

    /// A credential from its parts.
    public init(username: String, password: String, identityToken: String? = nil) {
        self.username = username
        self.password = password
        self.identityToken = identityToken
    }

    /// A credential holding only an identity token, as docker's credential helpers return one.
    public init(identityToken: String) {
        self.init(username: Self.identityTokenUsername, password: identityToken, identityToken: identityToken)
    }

    /// Parses the `USER:PASSWORD` of a `--creds` flag (the first colon separates; the password
    /// may hold more). Throws `CredentialError.invalidCredsFlag`, which never repeats the text.
    public init(parsingCreds text: String) throws {
        guard let colon = text.firstIndex(of: ":") else {
            throw CredentialError.invalidCredsFlag(reason: "there is no ':' between the user name and the password")
        }
        let user = String(text[..<colon])
        let pass = String(text[text.index(after: colon)...])
        guard !user.isEmpty else { throw CredentialError.invalidCredsFlag(reason: "the user name before ':' is empty") }
        guard !pass.isEmpty else { throw CredentialError.invalidCredsFlag(reason: "the password after ':' is empty") }
        self.init(username: user, password: pass)
    }

    /// True when this credential is a docker identity token.
    public var isIdentityToken: Bool { identityToken != nil }

    /// The user name and whether secrets are present; never the secrets themselves.
    public var description: String {
        var s = "RegistryCredential(username: \(ConfigJSON.quoted(username)), password: \(password.isEmpty ? "<empty>" : "<redacted>")"
        if identityToken != nil { s += ", identityToken: <redacted>" }
        return s + ")"
    }

    /// The same as `description`: the secrets are redacted.
    public var debugDescription: String { description }

    /// A mirror without the secrets, so `dump(_:)` and debuggers that walk children show none.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "username": username,
            "password": password.isEmpty ? "<empty>" : "<redacted>",
            "identityToken": identityToken == nil ? "nil" : "<redacted>",
        ], displayStyle: .struct)
    }
}
