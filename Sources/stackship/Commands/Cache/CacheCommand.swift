import ArgumentParser

struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Manage binary package caches: signing keys, listing, pushing, fetching, verifying, collecting.",
        discussion: """
        A cache is a directory (or, later, an S3 bucket) of package artifacts, each signed with \
        an Ed25519 key and verified against trusted keys before it is installed. The cache is \
        .stackship/cache in the current directory unless --cache or STACKSHIP_CACHE says otherwise.

        Examples:
          stackship cache keygen --output ~/.stackship/signing-key
          stackship cache ls --cache /srv/cache
          stackship cache verify --trusted-key team.pub
          stackship cache gc --min-age 7d --keep-file roots.txt --dry-run
        """,
        subcommands: [
            CacheKeygenCommand.self, CacheLsCommand.self, CachePushCommand.self, CacheFetchCommand.self,
            CacheVerifyCommand.self, CacheGCCommand.self, CacheReindexCommand.self,
        ]
    )
}
