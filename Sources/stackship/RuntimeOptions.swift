import ArgumentParser
import Foundation
import OCI
import Runtime

/// `--runtime`, and the container engine over the host's state, for the container commands.
struct RuntimeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The OCI runtime: runc or crun, by name on PATH or by path.",
        discussion: "Default: $STACKSHIP_RUNTIME, else runc, else crun.",
        valueName: "runtime"))
    var runtime: String?

    /// The engine over the host's state, with the stores images are looked up in (those that
    /// exist: the store of --store, then the per-user default store). Creates nothing, so `ps`,
    /// `logs`, `stop`, `rm` and the rest leave no `.stackship` in the folder they run in.
    func engine(_ storeOptions: StoreOptions) throws -> ContainerEngine {
        try Self.engine(runtime: runtime, store: storeOptions.store)
    }

    /// The engine for --runtime `runtime` with --store `store` (nil: their defaults).
    static func engine(runtime: String?, store: String?) throws -> ContainerEngine {
        ContainerEngine(stores: try StoreOptions.lookup(store), runtime: runtime, monitorExecutable: selfExecutable)
    }

    /// This executable, which also serves as each container's monitor (`stackship _monitor`).
    static var selfExecutable: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
