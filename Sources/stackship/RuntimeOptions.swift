import ArgumentParser
import Foundation
import OCI
import Runtime

/// `--runtime`, and the container engine over the store, for the container commands.
struct RuntimeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The OCI runtime: runc or crun, by name on PATH or by path.",
        discussion: "Default: $STACKSHIP_RUNTIME, else runc, else crun.",
        valueName: "runtime"))
    var runtime: String?

    func engine(_ storeOptions: StoreOptions, create: Bool = true) throws -> ContainerEngine {
        try Self.engine(runtime: runtime, store: storeOptions.store, create: create)
    }

    /// The engine for --runtime `runtime` over --store `store` (nil: their defaults).
    static func engine(runtime: String?, store: String?, create: Bool = true) throws -> ContainerEngine {
        let store = try StoreOptions.open(store, create: create)
        return try ContainerEngine(store: store, runtime: runtime, monitorExecutable: selfExecutable)
    }

    /// This executable, which also serves as each container's monitor (`stackship _monitor`).
    static var selfExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
