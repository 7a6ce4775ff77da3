import ArgumentParser
import Foundation
import OCI

/// `--store`, shared by every command that touches the local store.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The local OCI image layout to use.",
        discussion: "Default: $STACKSHIP_STORE, else .stackship/store beside the stack file (or in the current directory).",
        valueName: "path"))
    var store: String?

    /// The store path: --store, then STACKSHIP_STORE, then DIR/.stackship/store.
    func path(beside directory: String? = nil) -> String { Self.path(store, beside: directory) }

    static func path(_ store: String?, beside directory: String? = nil) -> String {
        if let store { return CLI.absolute(store) }
        if let env = ProcessInfo.processInfo.environment["STACKSHIP_STORE"], !env.isEmpty { return CLI.absolute(env) }
        return (directory ?? FileManager.default.currentDirectoryPath) + "/.stackship/store"
    }

    /// Opens the store; a missing one is created only when `create`.
    func open(beside directory: String? = nil, create: Bool) throws -> OCILayoutStore {
        try Self.open(store, beside: directory, create: create)
    }

    static func open(_ store: String?, beside directory: String? = nil, create: Bool) throws -> OCILayoutStore {
        let p = path(store, beside: directory)
        if !create && !FileManager.default.fileExists(atPath: p + "/oci-layout") {
            throw OCIError.notAnImageLayout(path: p, reason: "there is no store here yet; build or load an image first, or point --store / STACKSHIP_STORE at one")
        }
        return try OCILayoutStore(root: p, create: create)
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
