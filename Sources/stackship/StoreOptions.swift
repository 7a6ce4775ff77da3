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
