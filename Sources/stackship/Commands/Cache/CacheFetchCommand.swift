import ArgumentParser
import BuildCache
import Foundation

struct CacheFetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Install a cached package into a directory, after checking its signature and digest.",
        discussion: """
        The directory must not exist or be empty; on any failure it is left as it was.

        Examples:
          stackship cache fetch 3f…e1 --into /opt/zlib --trusted-key team.pub
        """
    )

    @Argument(help: "The package's input hash.")
    var hash: String

    @Option(name: .long, help: ArgumentHelp("The directory to install into.", valueName: "dir"))
    var into: String

    @OptionGroup var cacheOptions: CacheLocationOptions
    @OptionGroup var keyOptions: CacheKeyOptions

    func run() throws {
        let me = self
        try AsyncCLI.run {
            let hash = try PackageHash(me.hash)
            let cache = BinaryCache(caches: try me.cacheOptions.readCaches(), signingKey: try me.keyOptions.loadSigningKey(),
                                    trustedKeys: try me.keyOptions.loadTrustedKeys(), allowUnsigned: me.keyOptions.allowUnsigned)
            let verified = try await cache.fetch(hash, into: CLI.absolute(me.into))
            let m = verified.metadata
            print("installed \(m.name) \(m.version) (\(m.hash.short), \(verified.keyID.map { "signed by \($0)" } ?? "unsigned")) into \(CLI.absolute(me.into))")
        }
    }
}
