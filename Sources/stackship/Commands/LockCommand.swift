import ArgumentParser
import Foundation
import Stack

struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Compute every package's input hash and write stack.lock.",
        discussion: """
        A package's hash covers its recipe, its source's content (a git source by the commit \
        its ref resolves to), the builder image's digest, the platform, and the hashes of what \
        it depends on. stack.lock records them with the builder digest and the image digests of \
        the last build; `stackship cache gc --lock stack.lock` keeps what it references. \
        `build` refreshes the lock too; `lock` does it without building, and --check fails when \
        the lock is out of date (for CI).

        Examples:
          stackship lock
          stackship lock deploy/stack.yaml --check
        """
    )

    @Argument(help: "The stack file.")
    var stack: String = "stack.yaml"

    @Flag(name: .long, help: "Write nothing; fail if stack.lock is missing or its hashes differ.")
    var check = false

    @Flag(name: .long, help: "Hash script packages as built on this machine (as `build --host` does).")
    var host = false

    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try CLI.run {
            let file = try StackFile.load(path: stack)
            guard !file.packages.isEmpty else {
                throw PackageBuildError.other("\(stack) has no packages to lock; packages need `version: 2` and a `packages:` mapping")
            }
            let store = try storeOptions.open(beside: file.directory, create: true)
            let packages = try StackPackages(stack: file, store: store, forceHost: host)
            let path = LockFile.path(for: file)
            let old = try LockFile.read(path)
            let lock = packages.lock(keeping: old)
            if check {
                guard let old else { throw PackageBuildError.lockFile(path: path, reason: "it does not exist; run `stackship lock`") }
                let changed = packages.graph.order.filter { old.packages[$0]?.hash != lock.packages[$0]?.hash }
                let removed = old.packages.keys.filter { lock.packages[$0] == nil }.sorted()
                guard changed.isEmpty && removed.isEmpty && old.builder == lock.builder else {
                    throw PackageBuildError.lockFile(path: path, reason: "it is out of date (changed: \((changed + removed).joined(separator: ", ")))\(old.builder != lock.builder ? ", builder image changed" : ""); run `stackship lock`")
                }
                print("\(path) is up to date (\(lock.packages.count) packages)")
                return
            }
            try lock.write(to: path)
            for name in packages.graph.order {
                let mark = old?.packages[name]?.hash == lock.packages[name]!.hash ? " " : "*"
                print("\(mark) \(name)  \(lock.packages[name]!.hash.prefix(12))")
            }
            print("wrote \(path)")
        }
    }
}
