import ArgumentParser
import Foundation
import HTTPCore
import OCI
import Registry

/// How to reach registries (crane's and skopeo's spellings): for commands that move images and
/// for `build`, which pulls missing bases.
struct RegistryAccessOptions: ParsableArguments {
    @Flag(name: .long, help: "Allow plain HTTP and skip TLS verification (loopback registries may use HTTP anyway).")
    var insecure = false

    @Option(name: .customLong("ca-cert"), help: ArgumentHelp("A PEM file of a certificate authority to trust, besides the system's (repeatable).", valueName: "file"))
    var caCert: [String] = []

    @Option(name: .long, help: ArgumentHelp("Credentials for the registry, instead of those from `stackship login` or docker's config.json.", valueName: "user:password"))
    var creds: String?

    /// These flags as plain values (what the commands use).
    var settings: RegistryAccess { RegistryAccess(insecure: insecure, caCert: caCert, creds: creds) }

    func client(for registry: String) throws -> RegistryClient { try settings.client(for: registry) }

    func withClient<T: Sendable>(for registry: String, _ body: (RegistryClient) async throws -> T) async throws -> T {
        try await settings.withClient(for: registry, body)
    }

    func withEndpoints<T: Sendable>(_ storeOptions: StoreOptions, _ body: (ImageEndpoints) async throws -> T) async throws -> T {
        try await settings.withEndpoints(storeOptions, body)
    }

    var transport: TransportOptions { settings.transport }
}

/// How to reach registries, as plain values: made from `RegistryAccessOptions`, or by a command
/// that reads the same flags itself (`run`'s quick reader).
struct RegistryAccess: Sendable {
    var insecure = false
    var caCert: [String] = []
    var creds: String?

    var transport: TransportOptions {
        TransportOptions(insecure: insecure, caCertificates: caCert.map(CLI.absolute))
    }

    /// The credentials to use for `registry`: --creds, else the credential chain.
    func credential(for registry: String) throws -> RegistryCredential? {
        try CredentialStore(explicit: try creds.map(RegistryCredential.init(parsingCreds:))).credential(for: registry)
    }

    /// A client for `registry`.
    func client(for registry: String) throws -> RegistryClient {
        RegistryClient(registry: registry, credential: try credential(for: registry), options: transport)
    }

    /// Runs `body` with endpoints that open the store (`storeOptions`, created when missing) and
    /// registries (with these options), closing every client however `body` ends.
    func withEndpoints<T: Sendable>(_ storeOptions: StoreOptions, _ body: (ImageEndpoints) async throws -> T) async throws -> T {
        let endpoints = ImageEndpoints(store: { try storeOptions.open(create: true) }, client: { try self.client(for: $0) })
        do {
            let result = try await body(endpoints)
            await endpoints.shutdown()
            return result
        } catch {
            await endpoints.shutdown()
            throw error
        }
    }

    /// Runs `body` with a client for `registry`, shutting it down however `body` ends.
    func withClient<T: Sendable>(for registry: String, _ body: (RegistryClient) async throws -> T) async throws -> T {
        try await client(for: registry).withShutdown(body)
    }
}

/// Flags shared by every command that talks to a registry: how to reach it, and `--jobs`.
@dynamicMemberLookup
struct RegistryOptions: ParsableArguments {
    @OptionGroup var access: RegistryAccessOptions

    @Option(name: .long, help: "Blobs transferred at once.")
    var jobs: Int = RegistryOptions.defaultJobs
    static let defaultJobs = 4

    subscript<T>(dynamicMember keyPath: KeyPath<RegistryAccessOptions, T>) -> T { access[keyPath: keyPath] }

    func client(for registry: String) throws -> RegistryClient { try access.client(for: registry) }

    func withClient<T: Sendable>(for registry: String, _ body: (RegistryClient) async throws -> T) async throws -> T {
        try await access.withClient(for: registry, body)
    }

    func withEndpoints<T: Sendable>(_ storeOptions: StoreOptions, _ body: (ImageEndpoints) async throws -> T) async throws -> T {
        try await access.withEndpoints(storeOptions, body)
    }
}

/// `--platform` and `--all`, for commands that read multi-platform images.
struct PlatformOptions: ParsableArguments {
    @Option(help: "The platform to take from a multi-platform image (default: this host's).")
    var platform: String?

    @Flag(help: "Take every platform of a multi-platform image (its whole index).")
    var all = false

    /// Transfer options with these choices and `jobs`.
    func transfer(jobs: Int) throws -> TransferOptions {
        TransferOptions(jobs: jobs, platform: try platform.map { try Platform(parsing: $0) } ?? .host, allPlatforms: all)
    }
}

/// Runs an async body from a synchronous command, with stackship's error reporting.
enum AsyncCLI {
    static func run(_ body: @escaping @Sendable () async throws -> Void) throws {
        try CLI.run { try runThrowing(body) }
    }

    /// Runs async work to completion from synchronous code, passing its error on.
    static func runThrowing(_ body: @escaping @Sendable () async throws -> Void) throws {
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { try await body() } catch { box.set(error) }
            done.signal()
        }
        done.wait()
        if let error = box.error { throw error }
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    var error: Error? { lock.withLock { stored } }
    func set(_ e: Error) { lock.withLock { stored = e } }
}

/// Shows transfer progress: one line per blob in flight on a terminal, plain lines in CI.
final class TransferView: @unchecked Sendable {
    private let lock = NSLock()
    private var active: [Digest: (done: Int64, size: Int64)] = [:]
    private var order: [Digest] = []
    private var drawnLines = 0
    private var lastDraw = Date.distantPast
    let verb: String

    init(verb: String) { self.verb = verb }

    func handle(_ event: TransferEvent) {
        lock.withLock {
            switch event {
            case let .blobStarted(d, size):
                active[d] = (0, size)
                order.append(d)
                redraw(force: true)
            case let .blobProgress(d, done, size):
                active[d] = (done, size)
                redraw(force: false)
            case let .blobFinished(d, size, outcome):
                active[d] = nil
                order.removeAll { $0 == d }
                clear()
                FileHandle.standardError.write(Data("\(d.shortHex): \(Self.describe(outcome)) (\(Format.bytes(size)))\n".utf8))
                redraw(force: true)
            case let .manifestWritten(ref, d):
                clear()
                FileHandle.standardError.write(Data("manifest \(d.shortHex): \(ref)\n".utf8))
            }
        }
    }

    static func describe(_ outcome: BlobOutcome) -> String {
        switch outcome {
        case .existed: return "already there"
        case .mounted: return "mounted"
        case .uploaded: return "pushed"
        case .downloaded: return "copied"
        case .linked: return "linked (same file system)"
        }
    }

    private func clear() {
        guard CLI.isTerminal, drawnLines > 0 else { return }
        FileHandle.standardError.write(Data((String(repeating: "\u{1B}[1A\u{1B}[2K", count: drawnLines)).utf8))
        drawnLines = 0
    }

    private func redraw(force: Bool) {
        guard CLI.isTerminal, force || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        clear()
        var text = ""
        for d in order.prefix(8) {
            guard let p = active[d] else { continue }
            let fraction = p.size > 0 ? Double(p.done) / Double(p.size) : 0
            let filled = Int(fraction * 24)
            text += "\(d.shortHex) [\(String(repeating: "=", count: filled))\(String(repeating: " ", count: 24 - filled))] \(Format.bytes(p.done))/\(Format.bytes(p.size))\n"
        }
        drawnLines = text.filter { $0 == "\n" }.count
        FileHandle.standardError.write(Data(text.utf8))
    }
}
