import ArgumentParser
import Foundation
import OCI
import Runtime
import Support

/// `--store`, shared by every command that touches the local store.
///
/// Which store: --store, else $STACKSHIP_STORE, else the stack's (`.stackship/store` beside
/// the stack file; for commands without one, `./.stackship/store` when this folder has it),
/// else the per-user default store (``HostState/defaultStore(environment:effectiveUser:)``:
/// `$XDG_DATA_HOME/stackship/store`, `/var/lib/stackship/store` for root, or
/// `$STACKSHIP_STATE/store`). So `pull`, `load`, a Dockerfile `build` or `run` in a folder
/// that is not a stack's leave no `.stackship` behind, and find what was put in the per-user
/// store from anywhere, as docker's and podman's one store per host (or user) does. Images
/// named for a container (`run`, `inspect`) are looked up in that store, then in the per-user
/// default one (`lookup`).
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The local OCI image layout to use.",
        discussion: "Default: $STACKSHIP_STORE, else .stackship/store beside the stack file (or in the current directory, when it has one), else the per-user store ($XDG_DATA_HOME/stackship/store, /var/lib/stackship/store for root, $STACKSHIP_STATE/store when that is set).",
        valueName: "path"))
    var store: String?

    /// The store path: --store, then STACKSHIP_STORE, then DIR/.stackship/store (`directory`:
    /// the stack file's folder), then ./.stackship/store when it exists, then the per-user store.
    func path(beside directory: String? = nil) -> String { Self.path(store, beside: directory) }

    static func path(_ store: String?, beside directory: String? = nil) -> String {
        if let explicit = explicit(store) { return explicit }
        if let directory { return StateFolder.path(in: directory) + "/store" }
        let here = StateFolder.path(in: FileManager.default.currentDirectoryPath) + "/store"
        return FileIO.exists(here + "/oci-layout") ? here : HostState.defaultStore()
    }

    /// --store, else $STACKSHIP_STORE (absolute), else nil.
    static func explicit(_ store: String?) -> String? {
        if let store { return CLI.absolute(store) }
        if let env = ProcessInfo.processInfo.environment["STACKSHIP_STORE"], !env.isEmpty { return CLI.absolute(env) }
        return nil
    }

    /// Opens the store; a missing one is created only when `create`.
    func open(beside directory: String? = nil, create: Bool) throws -> OCILayoutStore {
        try Self.open(store, beside: directory, create: create)
    }

    static func open(_ store: String?, beside directory: String? = nil, create: Bool) throws -> OCILayoutStore {
        let p = path(store, beside: directory)
        if !create && !FileManager.default.fileExists(atPath: p + "/oci-layout") {
            throw OCIError.notAnImageLayout(path: p, reason: "there is no store here yet; build, pull or load an image first, or point --store / STACKSHIP_STORE at one")
        }
        return try OCILayoutStore(root: p, create: create)
    }

    /// The paths an image for a container is looked up in, in order: the store (`path`), then
    /// the per-user default store when that is another.
    static func lookupPaths(_ store: String?) -> [String] {
        let first = path(store)
        let user = FileIO.standardize(HostState.defaultStore())
        return first == user ? [first] : [first, user]
    }

    /// The stores of `lookupPaths` that exist (none is created).
    static func lookup(_ store: String?) throws -> [OCILayoutStore] {
        try lookupPaths(store).filter { FileIO.exists($0 + "/oci-layout") }.map {
            try OCILayoutStore(root: $0, create: false)
        }
    }
}

/// The `.stackship` folder a build keeps its store, logs and sources in, beside the stack file
/// (or in the current folder).
enum StateFolder {
    /// The `.stackship` folder in `directory`.
    static func path(in directory: String) -> String { directory + "/.stackship" }

    /// Runs `body`; when `DIRECTORY/.stackship` did not exist before and does afterwards (the
    /// body created it), writes `.stackship/.gitignore` holding `*`, so that a `git add -A`
    /// never commits the store. A folder the user had already is left as it is.
    static func ignoredByGit<T>(in directory: String, _ body: () throws -> T) rethrows -> T {
        let folder = path(in: directory)
        let existed = FileManager.default.fileExists(atPath: folder)
        defer {
            if !existed, FileManager.default.fileExists(atPath: folder) {
                try? Data("*\n".utf8).write(to: URL(fileURLWithPath: folder + "/.gitignore"), options: .atomic)
            }
        }
        return try body()
    }
}
