import ArgumentParser
import BuildCache
import Foundation
import OCI
import Registry
import Stack

struct CacheGCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Delete cached packages nothing keeps, with everything only they used.",
        discussion: """
        Keeps every package of a --stack file as it is now, every package a --lock file records, every package whose layer an --image holds \
        (an image in the local store, or in a registry when the store lacks it; every platform \
        of a multi-platform image), each --keep-hash / --keep-file package, all their \
        dependencies, and anything younger than --min-age; deletes the rest from the push cache. \
        Safe while others push: objects written after the collection started are never deleted.

        Examples:
          stackship cache gc --stack stack.yaml --lock release-1.4.lock --dry-run
          stackship cache gc --image registry.example.com/team/app:prod --min-age 14d
          stackship cache gc --keep-file roots.txt --dry-run
          stackship cache gc --min-age 30d --keep-hash 3f…e1
        """
    )

    @Option(name: .customLong("min-age"), help: ArgumentHelp("Keep anything younger than this (s, m, h, d, w).", valueName: "age"))
    var minAge: String = "7d"

    @Flag(name: .long, help: "Show what would be deleted without deleting it.")
    var dryRun = false

    @Option(name: .customLong("keep-hash"), help: ArgumentHelp("A package to keep, with its dependencies (repeatable).", valueName: "hash"))
    var keepHashes: [String] = []

    @Option(name: .customLong("keep-file"), help: ArgumentHelp("A file of package hashes to keep, one per line (# comments allowed; repeatable).", valueName: "file"))
    var keepFiles: [String] = []

    @Option(name: .customLong("lock"), help: ArgumentHelp("A stack.lock whose packages are kept (repeatable).", valueName: "file"))
    var locks: [String] = []

    @Option(name: .customLong("stack"), help: ArgumentHelp("A stack file whose packages, as they are now, are kept (repeatable).", valueName: "file"))
    var stacks: [String] = []

    @Option(name: .customLong("image"), help: ArgumentHelp("An image whose package layers are kept: local store first, else its registry (repeatable).", valueName: "ref"))
    var images: [String] = []

    @OptionGroup var cacheOptions: CacheLocationOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryOptions: RegistryOptions

    func run() throws {
        let me = self
        try AsyncCLI.run {
            let age = try Duration.parseAge(me.minAge)
            var roots = Set<PackageHash>()
            for h in me.keepHashes { roots.insert(try PackageHash(h)) }
            for file in me.keepFiles {
                let path = CLI.absolute(file)
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ValidationError("cannot read --keep-file \(path); give a readable file of package hashes, one per line")
                }
                for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let t = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                    if t.isEmpty { continue }
                    do { roots.insert(try PackageHash(t)) } catch {
                        throw ValidationError("\(path):\(n + 1): \(CLI.describe(error))")
                    }
                }
            }
            for file in me.locks {
                let path = CLI.absolute(file)
                guard let lock = try LockFile.read(path) else {
                    throw ValidationError("no lock file at \(path); give the stack.lock `stackship lock` writes")
                }
                for package in lock.packages.values { roots.insert(try PackageHash(package.hash)) }
            }
            for path in me.stacks {
                let file = try StackFile.load(path: path)
                let store = try me.storeOptions.open(beside: file.directory, create: true)
                for hash in try StackPlanning.hashes(of: file, store: store).values { roots.insert(try PackageHash(hash)) }
            }
            let cache = try me.cacheOptions.pushTarget(create: false)
            if !me.images.isEmpty {
                var layers = Set<Digest>()
                for image in me.images { layers.formUnion(try await me.layerDigests(of: image)) }
                // A package's artifact is its layer blob: an image holds the packages whose
                // artifact digest is one of its layers.
                for entry in try await cache.index().entries where layers.contains(entry.metadata.artifactDigest) {
                    roots.insert(entry.hash)
                }
            }
            let report = try await cache.gc(roots: roots, minAge: age, dryRun: me.dryRun)
            for o in report.deleted { print("\(me.dryRun ? "would delete" : "deleted") \(o.key) (\(Format.bytes(o.size)))") }
            let verb = me.dryRun ? "Would reclaim" : "Reclaimed"
            print("\(verb) \(Format.bytes(report.bytes)) in \(report.deleted.count) object\(report.deleted.count == 1 ? "" : "s")"
                  + " (\(report.deletedPackages.count) package\(report.deletedPackages.count == 1 ? "" : "s")); \(report.keptPackages) kept")
        }
    }

    /// The layer digests of `image` on every platform: from the local store when it holds the
    /// image, else from its registry (manifests only, digests verified).
    func layerDigests(of image: String) async throws -> Set<Digest> {
        if let store = try? storeOptions.open(create: false), let entry = try? store.resolve(image) {
            return try await Self.layers(of: entry.descriptor) { try store.read($0) }
        }
        let reference = try ImageReference(parsing: image)
        return try await registryOptions.withClient(for: reference.registry) { client in
            let top = try await client.manifest(reference.repository, reference: reference.digest?.description ?? reference.tag ?? "latest")
            return try await Self.layers(of: top.descriptor) { descriptor in
                descriptor.digest == top.descriptor.digest
                    ? top.bytes : try await client.manifest(reference.repository, reference: descriptor.digest.description).bytes
            }
        }
    }

    /// The layer digests under `descriptor`: its own layers, or every manifest's of an index.
    static func layers(of descriptor: Descriptor, read: (Descriptor) async throws -> Data) async throws -> Set<Digest> {
        let bytes = try await read(descriptor)
        if descriptor.mediaType == MediaType.ociIndex || descriptor.mediaType == MediaType.dockerManifestList {
            let index = try CanonicalJSON.decode(Index.self, from: bytes, what: "index \(descriptor.digest)")
            var digests = Set<Digest>()
            for manifest in index.manifests { digests.formUnion(try await layers(of: manifest, read: read)) }
            return digests
        }
        let manifest = try CanonicalJSON.decode(Manifest.self, from: bytes, what: "manifest \(descriptor.digest)")
        return Set(manifest.layers.map(\.digest))
    }
}
