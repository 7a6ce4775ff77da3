import ArgumentParser
import BuildCache
import Foundation

/// `--cache` / `--push-cache`: which binary caches a command reads and pushes to.
struct CacheLocationOptions: ParsableArguments {
    @Option(name: .customLong("cache"), help: ArgumentHelp(
        "A binary cache to read from, in order (repeatable): a directory, file:// URL or s3://bucket/prefix; the first is also the push target.",
        discussion: "Default: $STACKSHIP_CACHE (comma-separated), else .stackship/cache in the current directory. S3 uses the AWS credential chain and region; S3_ENDPOINT_URL points it at S3 that is not AWS.",
        valueName: "url"))
    var caches: [String] = []

    @Option(name: .customLong("push-cache"), help: ArgumentHelp("The cache to push to and collect (default: the first --cache).", valueName: "url"))
    var pushCache: String?

    /// Whether a cache was named (--cache, --push-cache or STACKSHIP_CACHE) rather than defaulted.
    var isExplicit: Bool {
        !caches.isEmpty || pushCache != nil || !(ProcessInfo.processInfo.environment["STACKSHIP_CACHE"] ?? "").isEmpty
    }

    /// The read locations: --cache, then STACKSHIP_CACHE, then DIR/.stackship/cache.
    func locations(beside directory: String? = nil) -> [String] {
        if !caches.isEmpty { return caches.map(Self.normalise) }
        if let env = ProcessInfo.processInfo.environment["STACKSHIP_CACHE"], !env.isEmpty {
            let list = env.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if !list.isEmpty { return list.map(Self.normalise) }
        }
        return [(directory ?? FileManager.default.currentDirectoryPath) + "/.stackship/cache"]
    }

    /// The push (and gc) location: --push-cache, else the first read location.
    func pushLocation(beside directory: String? = nil) -> String {
        pushCache.map(Self.normalise) ?? locations(beside: directory)[0]
    }

    /// The read caches; each must exist.
    func readCaches(beside directory: String? = nil) throws -> [PackageCache] {
        try locations(beside: directory).map { PackageCache(try CacheLocation.backend($0, create: false)) }
    }

    /// The push cache, created if `create`.
    func pushTarget(beside directory: String? = nil, create: Bool) throws -> PackageCache {
        PackageCache(try CacheLocation.backend(pushLocation(beside: directory), create: create))
    }

    static func normalise(_ location: String) -> String {
        location.contains("://") ? location : CLI.absolute(location)
    }
}

/// `--signing-key`, `--trusted-key`, `--allow-unsigned`.
struct CacheKeyOptions: ParsableArguments {
    @Option(name: .customLong("signing-key"), help: ArgumentHelp(
        "The private key that signs pushed packages (its public key is trusted too).",
        discussion: "Default: the key text in $STACKSHIP_SIGNING_KEY. Make one with `stackship cache keygen`.",
        valueName: "file"))
    var signingKey: String?

    @Option(name: .customLong("trusted-key"), help: ArgumentHelp(
        "A public key whose signatures are trusted (repeatable).",
        discussion: "Default: the files $STACKSHIP_TRUSTED_KEYS lists, separated by ':' (generated CI jobs set it from `ci: trusted_key:`).",
        valueName: "file"))
    var trustedKeys: [String] = []

    @Flag(name: .customLong("allow-unsigned"), help: "Accept packages without a signature (their digests are still checked).")
    var allowUnsigned = false

    /// The signing key from --signing-key or STACKSHIP_SIGNING_KEY, if any.
    func loadSigningKey() throws -> SigningKey? {
        if let signingKey { return try SigningKey(contentsOfFile: CLI.absolute(signingKey)) }
        if let text = ProcessInfo.processInfo.environment["STACKSHIP_SIGNING_KEY"], !text.isEmpty {
            return try SigningKey(text: text, source: "STACKSHIP_SIGNING_KEY")
        }
        return nil
    }

    /// The trusted public keys from --trusted-key, else from the files STACKSHIP_TRUSTED_KEYS lists.
    func loadTrustedKeys() throws -> [PublicKey] {
        var files = trustedKeys
        if files.isEmpty, let list = ProcessInfo.processInfo.environment["STACKSHIP_TRUSTED_KEYS"] {
            files = list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        return try files.map { try PublicKey(contentsOfFile: CLI.absolute($0)) }
    }
}
