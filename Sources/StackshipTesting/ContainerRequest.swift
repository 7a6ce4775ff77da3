import Foundation
import Runtime

/// What to start: an image from a store, with environment, published ports, and how to tell it
/// is ready — as a testcontainers `GenericContainer` or a dockertest `RunOptions` says it.
public struct ContainerRequest: Sendable {
    /// A reference or ID in the store (e.g. "hello:latest").
    public var image: String
    /// The OCI layout store holding the image (default: $STACKSHIP_STORE, else ./.stackship/store
    /// when there is one, else the per-user store, as the CLI finds them). The image is looked
    /// up there, then in the per-user store.
    public var store: String
    /// The host state directory the container lives in (nil: `HostState.directory()`, as the
    /// CLI's, so `stackship ps` shows it; set it, or $STACKSHIP_STATE, to keep a test's
    /// containers apart from the machine's).
    public var stateDirectory: String?
    public var environment: [String: String] = [:]
    /// Container ports to publish on free host ports (read them with `hostPort(_:)`).
    public var exposedPorts: [Int] = []
    /// Replaces the image's cmd.
    public var command: [String]?
    public var name: String?
    public var network: NetworkMode = .isolated
    public var labels: [String: String] = [:]
    /// When the container counts as started.
    public var waitStrategy: WaitStrategy = .none
    /// How long starting plus waiting may take before the start fails (and the container is removed).
    public var startupTimeout: Double = 60
    /// runc or crun (default: as the CLI finds it).
    public var runtime: String?

    public init(image: String, store: String? = nil, environment: [String: String] = [:], exposedPorts: [Int] = [],
                command: [String]? = nil, waitStrategy: WaitStrategy = .none, startupTimeout: Double = 60) {
        self.image = image
        self.store = store ?? ProcessInfo.processInfo.environment["STACKSHIP_STORE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? Self.defaultStore
        self.environment = environment
        self.exposedPorts = exposedPorts
        self.command = command
        self.waitStrategy = waitStrategy
        self.startupTimeout = startupTimeout
    }
}

extension ContainerRequest {
    /// ./.stackship/store when this folder has one, else the per-user store.
    static var defaultStore: String {
        let here = FileManager.default.currentDirectoryPath + "/.stackship/store"
        return FileManager.default.fileExists(atPath: here + "/oci-layout") ? here : HostState.defaultStore()
    }
}

/// How a test knows the container is ready to be used.
public enum WaitStrategy: Sendable {
    /// Started is enough.
    case none
    /// Something accepts TCP connections on this container port (checked inside the container's
    /// network namespace, so the host-side relay cannot fake it).
    case port(Int)
    /// An HTTP GET of `path` on this container port answers `status`.
    case http(path: String, port: Int, status: Int = 200)
    /// The container's output contains `text`, at least `times` times.
    case log(String, times: Int = 1)
    /// A probe of your own: true when ready. Errors it throws count as "not yet".
    case custom(@Sendable (RunningContainer) async throws -> Bool)
    /// Every one of these, in order.
    indirect case all([WaitStrategy])
}

/// Why a test container could not be started or used. The description includes the end of its
/// output, which is usually what explains it.
public struct ContainerTestError: Error, CustomStringConvertible, LocalizedError {
    public var message: String
    public var logTail: String

    public var description: String {
        logTail.isEmpty ? message : "\(message)\n--- last container output ---\n\(logTail)"
    }

    public var errorDescription: String? { description }
}
