#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Support

/// Where a host's (or, rootless, a user's) Stackship state lives: one place per host, as
/// docker's /var/lib/docker and podman's /var/lib/containers or ~/.local/share/containers, so
/// that `ps`, `logs`, `stop` and `rm` see the same containers from every folder.
///
///     <state>/containers/<id>/    one container (bundle, log, state.json, monitor log)
///     <state>/containers/.names.lock
///     <state>/oci/                the runtime's own state (runc/crun --root)
///     <state>/roots/<chainID>/    unpacked images, shared by all their containers (whatever
///                                 store they came from: a chain ID names the content)
///
/// The state directory: `$STACKSHIP_STATE`, else `/var/lib/stackship` for root, else
/// `$XDG_STATE_HOME/stackship` (default `~/.local/state/stackship`).
///
/// The per-user default store, where images are looked up after the stack's store and where
/// commands run outside a stack folder (`pull`, `load`, a Dockerfile `build`) write:
/// `$STACKSHIP_STATE/store` when that is set (one variable moves, or isolates, everything),
/// else `/var/lib/stackship/store` for root, else `$XDG_DATA_HOME/stackship/store` (default
/// `~/.local/share/stackship/store`), where podman keeps a rootless user's images.
public enum HostState {
    /// The state directory for this process (see the type's documentation). `environment`
    /// stands in for this process's (read with getenv: building ProcessInfo's dictionary of it
    /// is a cost on `run`'s timed path).
    public static func directory(environment: [String: String]? = nil, effectiveUser: uid_t = geteuid()) -> String {
        if let explicit = explicit(environment) { return explicit }
        if effectiveUser == 0 { return "/var/lib/stackship" }
        return (absolute(variable("XDG_STATE_HOME", environment)) ?? home(environment) + "/.local/state") + "/stackship"
    }

    /// The per-user default image store (see the type's documentation).
    public static func defaultStore(environment: [String: String]? = nil, effectiveUser: uid_t = geteuid()) -> String {
        if let explicit = explicit(environment) { return explicit + "/store" }
        if effectiveUser == 0 { return "/var/lib/stackship/store" }
        return (absolute(variable("XDG_DATA_HOME", environment)) ?? home(environment) + "/.local/share") + "/stackship/store"
    }

    /// $STACKSHIP_STATE when set, relative to the current folder unless absolute (as
    /// STACKSHIP_STORE is).
    private static func explicit(_ environment: [String: String]?) -> String? {
        guard let value = variable("STACKSHIP_STATE", environment), !value.isEmpty else { return nil }
        return absolute(value) ?? FileIO.standardize(FileManager.default.currentDirectoryPath + "/" + value)
    }

    /// An absolute path without trailing slashes; nil for a relative one (an XDG variable that is
    /// not absolute is ignored, as the XDG base directory specification says).
    private static func absolute(_ value: String?) -> String? {
        guard let value, value.hasPrefix("/") else { return nil }
        return FileIO.standardize(value)
    }

    private static func variable(_ name: String, _ environment: [String: String]?) -> String? {
        if let environment { return environment[name] }
        return getenv(name).map { String(cString: $0) }
    }

    /// $HOME, else the password database's home of this user.
    private static func home(_ environment: [String: String]?) -> String {
        if let home = variable("HOME", environment), home.hasPrefix("/") { return home }
        if let entry = getpwuid(geteuid()), let dir = entry.pointee.pw_dir { return String(cString: dir) }
        return "/tmp"
    }
}
