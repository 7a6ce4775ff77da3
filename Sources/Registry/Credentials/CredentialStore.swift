import Foundation

/// Where credentials come from, in order.
///
/// `credential(for:)` tries, and returns the first it finds:
/// 1. `explicit` (a `--creds USER:PASS` flag), when `explicitFor` is nil or names the registry;
/// 2. `STACKSHIP_REGISTRY_USERNAME` and `STACKSHIP_REGISTRY_PASSWORD`, for every registry;
/// 3. the `credHelpers` entry for the registry in docker's config.json, through `docker-credential-NAME get`;
/// 4. config.json's `credsStore` helper;
/// 5. config.json's `auths` entry (`auth`, `identitytoken`, or `username` and `password`).
///
/// Registries are matched as docker matches them: `https://index.docker.io/v1/`,
/// `index.docker.io`, `registry-1.docker.io` and `docker.io` are all Docker Hub, and
/// `https://ghcr.io`, `ghcr.io/` and `ghcr.io` are the same key. Calls are synchronous; one that
/// runs a credential helper blocks the calling thread for as long as the helper takes (at most
/// `helperTimeout`). Nothing here prints or touches the network.
public struct CredentialStore: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The variable holding the user name for every registry.
    public static let usernameVariable = "STACKSHIP_REGISTRY_USERNAME"
    /// The variable holding the password or token for every registry.
    public static let passwordVariable = "STACKSHIP_REGISTRY_PASSWORD"

    private let environment: [String: String]
    private let explicit: RegistryCredential?
    private let explicitFor: String?
    /// How long one credential helper action may take before the helper is killed.
    public var helperTimeout: Duration

    /// A store reading `environment` (HOME, DOCKER_CONFIG, REGISTRY_AUTH_FILE, PATH and the
    /// STACKSHIP_REGISTRY_* variables); credential helpers run with this environment too.
    /// `explicit` applies to `explicitFor` only, or to every registry when that is nil.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, explicit: RegistryCredential? = nil, explicitFor: String? = nil, helperTimeout: Duration = .seconds(30)) {
        self.environment = environment
        self.explicit = explicit
        self.explicitFor = explicitFor
        self.helperTimeout = helperTimeout
    }

    /// The config.json path in use (for messages): $REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
    public var configPath: String {
        if let file = environment["REGISTRY_AUTH_FILE"], !file.isEmpty { return file }
        if let dir = environment["DOCKER_CONFIG"], !dir.isEmpty { return (dir as NSString).appendingPathComponent("config.json") }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".docker/config.json")
    }

    /// Finds credentials for a registry host ("docker.io", "localhost:5000", "ghcr.io").
    ///
    /// Returns nil when no source has any (use the registry anonymously). Throws
    /// `CredentialError` for a malformed config.json, a missing or failing credential helper,
    /// or only one of the two environment variables set.
    public func credential(for registry: String) throws -> RegistryCredential? {
        try resolve(for: registry)?.credential
    }

    /// Like `credential(for:)`, and says which source the credential came from.
    public func resolve(for registry: String) throws -> ResolvedCredential? {
        let host = try Self.host(registry)
        if let explicit, explicitFor.map({ RegistryKey.normalize($0) == host }) ?? true {
            return ResolvedCredential(credential: explicit, source: .explicit)
        }
        if let fromEnvironment = try environmentCredential() {
            return ResolvedCredential(credential: fromEnvironment, source: .environment)
        }
        let config = try DockerConfigFile.load(path: configPath)
        let serverURL = RegistryKey.storageKey(registry)
        if let (key, name) = try config.credHelper(for: registry) {
            let helper = try locate(name, entry: "credHelpers[\(ConfigJSON.quoted(key))]")
            if let found = try helper.get(serverURL: serverURL, registry: host) {
                return ResolvedCredential(credential: found, source: .helper(helper.program))
            }
        }
        if let name = try config.credsStore() {
            let helper = try locate(name, entry: "credsStore")
            if let found = try getFromStore(helper, serverURL: serverURL, registry: host) {
                return ResolvedCredential(credential: found, source: .helper(helper.program))
            }
        }
        for (key, fields) in try config.authEntries(for: registry) {
            if let found = try config.credential(inEntry: fields, key: key) {
                return ResolvedCredential(credential: found, source: .configFile(configPath))
            }
        }
        return nil
    }

    /// Stores credentials (login): through the configured credsStore/credHelpers helper when one applies, else base64 "auth" in config.json. Writes config.json atomically with mode 0600 (create parent dir 0700), preserving every other key and entry of the existing file.
    ///
    /// Returns where the credentials went: the config file's path, or
    /// "credential helper docker-credential-NAME". After a helper stores them, a password
    /// left in config.json for the same registry is removed from it. Docker Hub is written as
    /// `https://index.docker.io/v1/`, other registries as `host[:port]`. A malformed
    /// config.json is reported, never overwritten.
    @discardableResult
    public func store(_ credential: RegistryCredential, for registry: String) throws -> String {
        let host = try Self.host(registry)
        var config = try DockerConfigFile.load(path: configPath)
        let serverURL = RegistryKey.storageKey(registry)
        var helper: CredentialHelper?
        if let (key, name) = try config.credHelper(for: registry) {
            helper = try locate(name, entry: "credHelpers[\(ConfigJSON.quoted(key))]")
        } else if let name = try config.credsStore() {
            helper = try locate(name, entry: "credsStore")
        }
        if let helper {
            try helper.store(credential, serverURL: serverURL, registry: host)
            if config.scrubSecrets(for: registry) { try config.save() }
            return "credential helper \(helper.program)"
        }
        config.setLogin(credential, for: registry)
        try config.save()
        return configPath
    }

    /// Removes credentials (logout), from the helper and/or config.json; returns whether anything was removed.
    ///
    /// The helper is asked first; if it fails, config.json is left as it was. Every `auths`
    /// entry for the registry is removed, however its key is spelled.
    public func remove(for registry: String) throws -> Bool {
        let host = try Self.host(registry)
        var config = try DockerConfigFile.load(path: configPath)
        let serverURL = RegistryKey.storageKey(registry)
        var removed = false
        if let (key, name) = try config.credHelper(for: registry) {
            let helper = try locate(name, entry: "credHelpers[\(ConfigJSON.quoted(key))]")
            removed = try helper.erase(serverURL: serverURL, registry: host)
        } else if let name = try config.credsStore() {
            let helper = try locate(name, entry: "credsStore")
            removed = try helper.erase(serverURL: serverURL, registry: host)
            for other in otherStoreKeys(helper, serverURL: serverURL, registry: host) {
                removed = try helper.erase(serverURL: other, registry: host) || removed
            }
        }
        if config.removeLogins(for: registry) {
            try config.save()
            removed = true
        }
        return removed
    }

    /// The config path only; never the environment or the explicit credential.
    public var description: String { "CredentialStore(configPath: \(ConfigJSON.quoted(configPath)))" }

    /// The same as `description`.
    public var debugDescription: String { description }

    /// A mirror without the environment (which may hold a password) or the explicit credential.
    public var customMirror: Mirror {
        Mirror(self, children: ["configPath": configPath, "helperTimeout": helperTimeout], displayStyle: .struct)
    }

    // MARK: Sources

    /// The credential the STACKSHIP_REGISTRY_* variables give; empty values count as unset.
    private func environmentCredential() throws -> RegistryCredential? {
        let user = environment[Self.usernameVariable].flatMap { $0.isEmpty ? nil : $0 }
        let pass = environment[Self.passwordVariable].flatMap { $0.isEmpty ? nil : $0 }
        switch (user, pass) {
        case let (user?, pass?): return RegistryCredential(username: user, password: pass)
        case (nil, nil): return nil
        case (_?, nil): throw CredentialError.incompleteEnvironment(set: Self.usernameVariable, missing: Self.passwordVariable)
        case (nil, _?): throw CredentialError.incompleteEnvironment(set: Self.passwordVariable, missing: Self.usernameVariable)
        }
    }

    /// Asks a `credsStore` helper for `serverURL`, then for any other spelling of the registry
    /// it lists (a login written as `https://ghcr.io` by another tool).
    private func getFromStore(_ helper: CredentialHelper, serverURL: String, registry: String) throws -> RegistryCredential? {
        if let found = try helper.get(serverURL: serverURL, registry: registry) { return found }
        for other in otherStoreKeys(helper, serverURL: serverURL, registry: registry) {
            if let found = try helper.get(serverURL: other, registry: registry) { return found }
        }
        return nil
    }

    /// Keys other than `serverURL` that a helper lists for the same registry. A helper whose
    /// `list` fails has none: `list` is a convenience here, and `get` already answered.
    private func otherStoreKeys(_ helper: CredentialHelper, serverURL: String, registry: String) -> [String] {
        guard let listed = try? helper.list(registry: registry) else { return [] }
        return listed.keys.filter { $0 != serverURL && RegistryKey.matches($0, registry) }.sorted()
    }

    private func locate(_ name: String, entry: String) throws -> CredentialHelper {
        try CredentialHelper.locate(name: name, entry: entry, configPath: configPath, environment: environment, timeout: helperTimeout)
    }

    /// The normalised host of `registry`; throws for a name with none.
    private static func host(_ registry: String) throws -> String {
        let host = RegistryKey.normalize(registry)
        guard !host.isEmpty else { throw CredentialError.invalidRegistry(registry) }
        return host
    }
}

/// A credential and the source it came from.
public struct ResolvedCredential: Sendable, Hashable {
    /// The credential.
    public var credential: RegistryCredential
    /// Where it was found.
    public var source: CredentialSource

    /// A resolved credential from its parts.
    public init(credential: RegistryCredential, source: CredentialSource) {
        self.credential = credential
        self.source = source
    }
}

/// Where a credential was found, for messages such as "the credentials from … were refused".
public enum CredentialSource: Sendable, Hashable, CustomStringConvertible {
    /// The `--creds` flag.
    case explicit
    /// The STACKSHIP_REGISTRY_USERNAME and STACKSHIP_REGISTRY_PASSWORD variables.
    case environment
    /// A credential helper, by program name (`docker-credential-NAME`).
    case helper(String)
    /// The `auths` of the docker config file at this path.
    case configFile(String)

    /// The source in words.
    public var description: String {
        switch self {
        case .explicit: return "--creds"
        case .environment: return "\(CredentialStore.usernameVariable) and \(CredentialStore.passwordVariable)"
        case let .helper(program): return "credential helper \(program)"
        case let .configFile(path): return path
        }
    }
}
