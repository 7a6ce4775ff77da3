import ArgumentParser
import BuildCache
import Foundation
import OCI

struct CachePushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push a package artifact (a compressed tar, or a directory to pack) into the push cache.",
        discussion: """
        Builds normally push their packages themselves; this is for scripts and for seeding a \
        cache. A directory is packed first as a reproducible tar.zst. A package already in the \
        cache is left as it is unless --replace.

        Examples:
          stackship cache push ./prefix --hash 3f…e1 --name zlib --version 1.3.1 --signing-key key
        """
    )

    @Argument(help: ArgumentHelp("The artifact file (tar, tar.gz, tar.zst) or a directory.", valueName: "artifact"))
    var artifact: String

    @Option(name: .long, help: "The package's input hash (64 lowercase hex digits).")
    var hash: String

    @Option(name: .long, help: "The package name.")
    var name: String

    @Option(name: .long, help: "The package version.")
    var version: String = "0"

    @Option(name: .long, help: "The platform it was built for.")
    var platform: String = "linux/amd64"

    @Option(name: .customLong("dep"), help: ArgumentHelp("The hash of a package it depends on (repeatable).", valueName: "hash"))
    var dependencies: [String] = []

    @Flag(name: .long, help: "Replace the package if it is already cached.")
    var replace = false

    @OptionGroup var cacheOptions: CacheLocationOptions
    @OptionGroup var keyOptions: CacheKeyOptions

    func run() throws {
        let me = self
        try AsyncCLI.run {
            let info = PackageInfo(hash: try PackageHash(me.hash), name: me.name, version: me.version,
                                   dependencies: try me.dependencies.map { try PackageHash($0) }, platform: me.platform)
            let cache = BinaryCache(caches: [], pushTarget: try me.cacheOptions.pushTarget(create: true),
                                    signingKey: try me.keyOptions.loadSigningKey(), allowUnsigned: me.keyOptions.allowUnsigned)
            guard cache.signingKey != nil || me.keyOptions.allowUnsigned else { throw BuildCacheError.noSigningKey }
            let path = CLI.absolute(me.artifact)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ValidationError("\(path) does not exist; give an artifact file or the package's directory")
            }
            var file = path
            var temporary: String?
            if isDirectory.boolValue {
                let t = NSTemporaryDirectory() + "/stackship-artifact-\(UUID().uuidString).tar.zst"
                _ = try ArtifactBuilder.make(from: path, to: t, epoch: try LayerOptions.sourceDateEpoch())
                file = t
                temporary = t
            }
            defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
            let result = try await cache.push(artifact: file, info: info, replace: me.replace)
            let m = result.entry.metadata
            print("\(result.pushed ? "pushed" : "already cached"): \(m.name) \(m.version) \(m.hash.short) \(m.artifactDigest.shortHex) \(Format.bytes(m.size))"
                  + " \(result.entry.keyID.map { "signed by \($0)" } ?? "unsigned") → \(result.cache)")
        }
    }
}
