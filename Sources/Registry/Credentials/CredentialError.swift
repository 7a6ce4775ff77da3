import Foundation

/// Errors finding, storing or removing registry credentials. Cases carry the facts; each
/// description names the file or helper involved and the fix, and never contains a secret
/// (text a credential helper printed is redacted before it is put in a case).
public enum CredentialError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The docker config file is not valid JSON, not UTF-8, or not shaped as docker writes it.
    case malformedConfig(path: String, reason: String)
    /// An `auths` entry cannot be decoded (bad base64, no ':' in `auth`, a value of the wrong type).
    case malformedAuthEntry(path: String, registry: String, reason: String)
    /// The docker config file exists but cannot be read.
    case unreadableConfig(path: String, reason: String)
    /// The docker config file (or its directory) cannot be written.
    case unwritableConfig(path: String, reason: String)
    /// `docker-credential-NAME` named by `entry` (`credsStore` or `credHelpers["host"]`) is not on PATH.
    case helperNotFound(helper: String, entry: String, configPath: String, searchPath: String)
    /// The helper name in `entry` is not a plain name (it holds '/' or is empty).
    case invalidHelperName(name: String, entry: String, configPath: String)
    /// The helper could not be started.
    case helperCannotRun(helper: String, path: String, reason: String)
    /// The helper exited with a non-zero status; `message` is what it printed, with secrets redacted.
    case helperFailed(helper: String, action: String, registry: String, exitStatus: Int32, message: String)
    /// The helper was killed by a signal.
    case helperCrashed(helper: String, action: String, registry: String, signal: Int32)
    /// The helper did not finish within the timeout and was killed.
    case helperTimedOut(helper: String, action: String, registry: String, seconds: Double)
    /// The helper succeeded but printed something other than the protocol's JSON.
    case helperBadOutput(helper: String, action: String, registry: String, reason: String)
    /// Only one of the two credential environment variables is set.
    case incompleteEnvironment(set: String, missing: String)
    /// A `--creds` value is not `USER:PASSWORD`.
    case invalidCredsFlag(reason: String)
    /// A registry name with no host in it.
    case invalidRegistry(String)

    /// What happened, the file or helper involved, and what to do; never a secret.
    public var description: String {
        switch self {
        case let .malformedConfig(path, reason):
            return "cannot use the docker config \(path): \(reason); fix the file, or remove it (and log in again)"
        case let .malformedAuthEntry(path, registry, reason):
            return "the credentials for \(registry) in \(path) are malformed: \(reason); log in to \(registry) again, or remove its entry from \"auths\""
        case let .unreadableConfig(path, reason):
            return "cannot read the docker config \(path): \(reason); check its permissions, or point REGISTRY_AUTH_FILE or DOCKER_CONFIG elsewhere"
        case let .unwritableConfig(path, reason):
            return "cannot write the docker config \(path): \(reason); check the permissions of the file and its directory, or point REGISTRY_AUTH_FILE or DOCKER_CONFIG elsewhere"
        case let .helperNotFound(helper, entry, configPath, searchPath):
            return "the credential helper \(helper), named by \(entry) in \(configPath), is not on PATH (\(searchPath.isEmpty ? "PATH is empty" : searchPath)); install \(helper), or remove the \(entry) entry from \(configPath)"
        case let .invalidHelperName(name, entry, configPath):
            return "\(entry) in \(configPath) names the credential helper \(ConfigJSON.quoted(name)), which is not a plain name; write the NAME of docker-credential-NAME, or remove the entry"
        case let .helperCannotRun(helper, path, reason):
            return "cannot run the credential helper \(helper) (\(path)): \(reason); check that it is executable, or reinstall it"
        case let .helperFailed(helper, action, registry, status, message):
            return "the credential helper \(helper) failed to \(action) the credentials for \(registry) (exit status \(status))\(message.isEmpty ? "" : ": \(message)"); check the helper (is its keychain or agent unlocked and reachable?), or remove it from config.json to keep credentials there"
        case let .helperCrashed(helper, action, registry, signal):
            return "the credential helper \(helper) was killed by signal \(signal) while asked to \(action) the credentials for \(registry); run `\(helper) \(action)` by hand to see why, or reinstall it"
        case let .helperTimedOut(helper, action, registry, seconds):
            return "the credential helper \(helper) did not \(action) the credentials for \(registry) within \(Self.format(seconds)) seconds and was stopped; it may be waiting for a password prompt or a locked keychain: unlock it, or run `\(helper) \(action)` by hand"
        case let .helperBadOutput(helper, action, registry, reason):
            return "the credential helper \(helper) answered `\(action)` for \(registry) with output stackship cannot use: \(reason); update or reinstall \(helper)"
        case let .incompleteEnvironment(set, missing):
            return "\(set) is set but \(missing) is not (or is empty); set both to use credentials from the environment, or neither"
        case let .invalidCredsFlag(reason):
            return "--creds takes USER:PASSWORD, but \(reason)"
        case let .invalidRegistry(name):
            return "\(ConfigJSON.quoted(name)) is not a registry name; use HOST[:PORT], such as ghcr.io, localhost:5000 or docker.io"
        }
    }

    /// The same as `description`, for `localizedDescription`.
    public var errorDescription: String? { description }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }

    /// `text` with every secret (as is, JSON-quoted, and as a base64 `user:secret`) replaced by
    /// `<redacted>`, control characters other than newlines and tabs replaced by '?', and
    /// shortened to `limit` characters: safe to put in an error.
    static func redact(_ text: String, secrets: [String], limit: Int = 600) -> String {
        var forms: [String] = []
        for secret in secrets where !secret.isEmpty {
            forms.append(secret)
            let quoted = ConfigJSON.quoted(secret)
            forms.append(String(quoted.dropFirst().dropLast()))
        }
        var out = text
        for form in Set(forms).sorted(by: { $0.count > $1.count }) where !form.isEmpty {
            out = out.replacingOccurrences(of: form, with: "<redacted>")
        }
        out = String(String.UnicodeScalarView(out.unicodeScalars.map { s in
            (s.value < 0x20 && s != "\n" && s != "\t") || s.value == 0x7F || (0x80..<0xA0).contains(s.value) ? "?" : s
        }))
        out = out.trimmingCharacters(in: .whitespacesAndNewlines)
        if out.count > limit { out = String(out.prefix(limit)) + "…" }
        return out
    }
}
