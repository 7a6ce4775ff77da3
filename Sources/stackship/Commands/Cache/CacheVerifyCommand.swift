import ArgumentParser
import BuildCache
import Foundation

struct CacheVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every cached package's signature and artifact digest; report the bad ones.",
        discussion: """
        Downloads each artifact of each --cache. Exits 1 if any package is bad.

        Examples:
          stackship cache verify --trusted-key team.pub
          stackship cache verify --cache /srv/cache --allow-unsigned
        """
    )

    @OptionGroup var cacheOptions: CacheLocationOptions
    @OptionGroup var keyOptions: CacheKeyOptions

    func run() throws {
        let me = self
        try AsyncCLI.run {
            let caches = try me.cacheOptions.readCaches()
            let config = BinaryCache(caches: caches, signingKey: try me.keyOptions.loadSigningKey(),
                                     trustedKeys: try me.keyOptions.loadTrustedKeys(), allowUnsigned: me.keyOptions.allowUnsigned)
            if config.trust.trustedKeys.isEmpty && !config.trust.allowUnsigned {
                throw ValidationError("no trusted keys: pass --trusted-key FILE (a public key from `stackship cache keygen`) or --signing-key, or --allow-unsigned to check digests only")
            }
            var good = 0, bad = 0
            for cache in caches {
                for (hash, result) in try await cache.verifyAll(trust: config.trust) {
                    switch result {
                    case .success(let v):
                        good += 1
                        print("ok   \(hash.short) \(v.metadata.name) \(v.metadata.version) (\(v.keyID.map { "signed by \($0)" } ?? "unsigned"))")
                    case .failure(let error):
                        bad += 1
                        print("BAD  \(hash.short): \(CLI.describe(error))")
                    }
                }
            }
            print("\(good) package\(good == 1 ? "" : "s") verified, \(bad) bad")
            if bad > 0 { throw ExitCode.failure }
        }
    }
}
