import ArgumentParser
import BuildCache
import Foundation

struct CacheKeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Generate an Ed25519 key pair for signing packages.",
        discussion: """
        Writes the private key to PREFIX (mode 0600: keep it secret, give it to CI as a secret \
        in STACKSHIP_SIGNING_KEY) and the public key to PREFIX.pub (share it: readers pass it \
        with --trusted-key).

        Examples:
          stackship cache keygen --output ci-signing-key
        """
    )

    @Option(name: .long, help: ArgumentHelp("Where to write the private key; the public key goes to PATH.pub.", valueName: "path"))
    var output: String

    @Flag(name: .long, help: "Overwrite an existing key.")
    var force = false

    func run() throws {
        try CLI.run {
            let path = CLI.absolute(output)
            do {
                let publicKey = try SigningKey.generate(writingTo: path, force: force)
                print("private key: \(path) (mode 0600; keep it secret)")
                print("public key:  \(path).pub (key id \(publicKey.keyID))")
            } catch BuildCacheError.io(_, _, EEXIST) {
                throw ValidationError("\(path) already exists; choose another --output, or pass --force to replace the key (packages signed with the old key will no longer verify against the new one)")
            }
        }
    }
}
