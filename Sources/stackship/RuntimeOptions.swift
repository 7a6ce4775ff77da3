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
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
