import Foundation
import OCI

/// What happens to each package during a build, for the CLI's live view and logs.
public enum PackageEvent: Sendable {
    /// The store already holds the package's layer.
    case upToDate(name: String, hash: String)
    /// Waiting for the packages it needs.
    case waiting(name: String, on: [String])
    /// Its build started (log at `log`).
    case started(name: String, hash: String, log: String)
    /// Fetched from a cache instead of built.
    case fetched(name: String, hash: String, from: String)
    /// Built, in `seconds`.
    case built(name: String, hash: String, seconds: Double)
    /// Pushed to the push cache.
    case pushed(name: String, to: String)
    /// Failed.
    case failed(name: String, error: String)
    /// Not attempted because `because` failed (or the build stopped at the first failure).
    case skipped(name: String, because: String)
}

/// The outcome of building a stack's packages.
public struct PackageBuildReport: Sendable {
    /// Packages whose layer the store already held.
    public var upToDate: [String] = []
    /// Packages fetched from a cache.
    public var fetched: [String] = []
    /// Packages built here.
    public var built: [String] = []
    /// Packages that failed, with why.
    public var failed: [String: String] = [:]
    /// Packages not attempted.
    public var skipped: [String] = []
    /// Every package's layer that is now in the store, by name.
    public var layers: [String: PackageLayer] = [:]

    /// Whether everything asked for is in the store.
    public var succeeded: Bool { failed.isEmpty && skipped.isEmpty }
}

/// Builds the packages a stack needs in dependency order, up to `jobs` at once: a package
/// whose layer the store holds is up to date, one a cache holds is fetched (verified), the rest
/// are built and pushed to the push cache.
public struct PackageScheduler: Sendable {
    /// Builds single packages.
    public var builder: PackageBuilder
    /// Caches to read from, in order.
    public var caches: [any PackageCache]
    /// The cache built packages are pushed to.
    public var pushCache: (any PackageCache)?
    /// How many builds run at once.
    public var jobs: Int
    /// Whether independent packages go on after a failure.
    public var keepGoing: Bool

    /// Creates a scheduler.
    public init(builder: PackageBuilder, caches: [any PackageCache] = [], pushCache: (any PackageCache)? = nil,
                jobs: Int = 1, keepGoing: Bool = false) {
        self.builder = builder
        self.caches = caches
        self.pushCache = pushCache
        self.jobs = max(1, jobs)
        self.keepGoing = keepGoing
    }

    /// `targets` (all packages when nil) and everything they need to be built, in build order:
    /// what ``run(targets:events:)`` goes through.
    public func packages(for targets: [String]?) -> [String] {
        let graph = builder.graph
        let wanted = targets ?? graph.order
        var needed = Set(wanted)
        for name in wanted { needed.formUnion(graph.buildClosure(of: name)) }
        return graph.order.filter(needed.contains)
    }

    /// Builds `targets` (all packages when nil) and everything they need.
    public func run(targets: [String]? = nil, events: @escaping @Sendable (PackageEvent) -> Void = { _ in }) async -> PackageBuildReport {
        let graph = builder.graph
        let order = packages(for: targets)
        let records = PackageLayerRecords(store: builder.store)

        var report = PackageBuildReport()
        var done = Set<String>()
        var pending: [String] = []
        for name in order {
            let hash = builder.hashes[name]!
            if let layer = records.layer(for: hash) {
                report.upToDate.append(name)
                report.layers[name] = layer
                done.insert(name)
                events(.upToDate(name: name, hash: hash))
            } else {
                pending.append(name)
            }
        }
        // Packages already in the store are pushed where the push cache lacks them (built
        // before a cache was given, or by a build whose push failed).
        if let pushCache, !report.upToDate.isEmpty {
            let store = builder.store
            let outcomes = await Self.concurrentMap(report.upToDate.map { report.layers[$0]! }, limit: 8) { layer -> String? in
                do {
                    if try await pushCache.contains(hash: layer.hash) { return nil }
                    try await pushCache.push(layer, from: store)
                    events(.pushed(name: layer.name, to: pushCache.label))
                    return nil
                } catch {
                    return "\(error)"
                }
            }
            for (name, error) in zip(report.upToDate, outcomes) {
                guard let error else { continue }
                report.failed[name] = "pushing to \(pushCache.label) failed: \(error)"
                events(.failed(name: name, error: report.failed[name]!))
            }
        }
        for name in pending {
            let waitingOn = graph.packages[name]!.allDependencies.filter { !done.contains($0) }
            if !waitingOn.isEmpty { events(.waiting(name: name, on: waitingOn)) }
        }

        enum Outcome: Sendable { case fetched(PackageLayer, String), built(PackageLayer), failed(String) }
        var failed = Set<String>()
        var stopped = false
        await withTaskGroup(of: (String, Outcome).self) { group in
            var running = 0
            func startReady() {
                while running < jobs, !stopped,
                      let index = pending.firstIndex(where: { graph.packages[$0]!.allDependencies.allSatisfy(done.contains) }) {
                    let name = pending.remove(at: index)
                    running += 1
                    group.addTask { [builder, caches, pushCache, graph] in
                        let hash = builder.hashes[name]!
                        for cache in caches {
                            do {
                                if var layer = try await cache.fetch(hash: hash, into: builder.store) {
                                    // The cache knows hashes; the stack knows which name each is.
                                    let package = graph.packages[name]!
                                    layer.name = name
                                    layer.version = package.version
                                    layer.dependencies = Dictionary(uniqueKeysWithValues: package.allDependencies.map { ($0, builder.hashes[$0]!) })
                                    try PackageLayerRecords(store: builder.store).record(layer)
                                    return (name, .fetched(layer, cache.label))
                                }
                            } catch {
                                return (name, .failed("\(error)"))
                            }
                        }
                        events(.started(name: name, hash: hash, log: builder.logPath(name)))
                        let start = Date()
                        do {
                            let layer = try await Self.offThread { try builder.build(name) }
                            events(.built(name: name, hash: hash, seconds: Date().timeIntervalSince(start)))
                            if let pushCache {
                                try await pushCache.push(layer, from: builder.store)
                                events(.pushed(name: name, to: pushCache.label))
                            }
                            return (name, .built(layer))
                        } catch {
                            return (name, .failed("\(error)"))
                        }
                    }
                }
            }
            startReady()
            while let (name, outcome) = await group.next() {
                running -= 1
                switch outcome {
                case let .fetched(layer, from):
                    report.fetched.append(name)
                    report.layers[name] = layer
                    done.insert(name)
                    events(.fetched(name: name, hash: layer.hash, from: from))
                case let .built(layer):
                    report.built.append(name)
                    report.layers[name] = layer
                    done.insert(name)
                case let .failed(error):
                    report.failed[name] = error
                    failed.insert(name)
                    events(.failed(name: name, error: error))
                    if !keepGoing { stopped = true }
                    // Everything that needs it, directly or not, cannot be built.
                    for dependent in graph.dependents(of: [name]) where dependent != name {
                        if let index = pending.firstIndex(of: dependent) {
                            pending.remove(at: index)
                            report.skipped.append(dependent)
                            events(.skipped(name: dependent, because: name))
                        }
                    }
                }
                startReady()
            }
        }
        for name in pending {
            report.skipped.append(name)
            events(.skipped(name: name, because: failed.sorted().first ?? "an earlier failure"))
        }
        return report
    }

    /// `transform` over `items`, at most `limit` at once, results in the items' order.
    static func concurrentMap<T: Sendable, R: Sendable>(_ items: [T], limit: Int, _ transform: @escaping @Sendable (T) async -> R) async -> [R] {
        await withTaskGroup(of: (Int, R).self) { group in
            var results = [R?](repeating: nil, count: items.count)
            var next = 0
            while next < min(limit, items.count) {
                let index = next
                group.addTask { (index, await transform(items[index])) }
                next += 1
            }
            while let (index, result) = await group.next() {
                results[index] = result
                if next < items.count {
                    let index = next
                    group.addTask { (index, await transform(items[index])) }
                    next += 1
                }
            }
            return results.map { $0! }
        }
    }

    /// Runs blocking work (a build waits on processes) on a thread of its own, not the
    /// cooperative pool, so `jobs` builds really run at once on a two-core machine.
    static func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try work() }) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}
