#if canImport(Glibc)
import Glibc
#endif
import BuildCache
import Foundation
import Testing

@Suite("Signing keys")
struct KeyTests {
    @Test func keygenWritesAPrivateKey0600AndAPublicKey0644() throws {
        let dir = Scratch.makeDirectory()
        defer { Scratch.remove(dir) }
        let old = umask(0)
        defer { umask(old) }
        let pub = try SigningKey.generate(writingTo: dir + "/key")
        var st = stat()
        stat(dir + "/key", &st)
        #expect(st.st_mode & 0o777 == 0o600)
        stat(dir + "/key.pub", &st)
        #expect(st.st_mode & 0o777 == 0o644)
        let key = try SigningKey(contentsOfFile: dir + "/key")
        #expect(key.publicKey == pub)
        #expect(try PublicKey(contentsOfFile: dir + "/key.pub") == pub)
        #expect(pub.keyID.count == 16)
        #expect(Scratch.read(dir + "/key")?.hasPrefix("stackship-ed25519-private:") == true)
        #expect(Scratch.read(dir + "/key.pub")?.hasPrefix("stackship-ed25519-public:") == true)
        // No overwrite without force.
        #expect(throws: BuildCacheError.self) { try SigningKey.generate(writingTo: dir + "/key") }
        #expect(try SigningKey(contentsOfFile: dir + "/key").publicKey == pub)
        #expect(try SigningKey.generate(writingTo: dir + "/key", force: true) != pub)
    }

    @Test func thePrivateKeyNeverAppearsInDescriptionsOrErrors() throws {
        let key = SigningKey()
        let secret = key.exportText()
        let base64 = String(secret.dropFirst(SigningKey.textPrefix.count))
        for text in ["\(key)", String(describing: key), String(reflecting: key), "\([key])", "\(Optional(key) as Any)"] {
            #expect(!text.contains(base64) && !text.contains(String(base64.prefix(12))), "leaked: \(text)")
            #expect(text.contains("redacted"))
        }
        // A damaged key (one character cut) is refused without echoing it.
        let damaged = String(secret.dropLast(2))
        do {
            _ = try SigningKey(text: damaged, source: "STACKSHIP_SIGNING_KEY")
            Issue.record("a damaged key was accepted")
        } catch {
            #expect(!"\(error)".contains(String(base64.prefix(12))))
            #expect("\(error)".contains("STACKSHIP_SIGNING_KEY"))
        }
        // A public key given where the private key belongs says so.
        #expect(throws: BuildCacheError.invalidKey(source: "k", reason: "this is a public key; signing needs the private key (the file without .pub)")) {
            _ = try SigningKey(text: key.publicKey.text, source: "k")
        }
    }

    @Test func signaturesVerifyOnlyWithTheRightKeyAndBytes() throws {
        let key = SigningKey(), other = SigningKey()
        let bytes = Data("{\"a\":1}".utf8)
        let sig = try key.sign(bytes)
        #expect(sig.keyID == key.publicKey.keyID && sig.algorithm == "ed25519")
        #expect(key.publicKey.isValid(sig, for: bytes))
        #expect(!key.publicKey.isValid(sig, for: Data("{\"a\":2}".utf8)))
        #expect(!other.publicKey.isValid(sig, for: bytes))
        // Round trip of the text forms.
        #expect(try SigningKey(text: key.exportText() + "\n", source: "t").publicKey == key.publicKey)
        #expect(try PublicKey(text: key.publicKey.text, source: "t") == key.publicKey)
    }

    @Test func badKeyFilesAreRefusedClearly() throws {
        let dir = Scratch.makeDirectory()
        defer { Scratch.remove(dir) }
        try Scratch.write(dir + "/garbage", "hello")
        #expect(throws: BuildCacheError.self) { _ = try SigningKey(contentsOfFile: dir + "/garbage") }
        #expect(throws: BuildCacheError.self) { _ = try PublicKey(contentsOfFile: dir + "/missing") }
        do { _ = try SigningKey(contentsOfFile: dir + "/missing") } catch {
            #expect("\(error)".contains(dir + "/missing") && "\(error)".contains("keygen"))
        }
    }

    @Test func packageHashesAreValidated() throws {
        #expect(throws: BuildCacheError.self) { _ = try PackageHash("abc") }
        #expect(throws: BuildCacheError.self) { _ = try PackageHash(String(repeating: "A", count: 64)) }
        #expect(throws: BuildCacheError.self) { _ = try PackageHash(String(repeating: "g", count: 64)) }
        #expect(try PackageHash(String(repeating: "0", count: 64)).value.count == 64)
    }

    @Test func objectKeysAreValidated() throws {
        for bad in ["", "/abs", "a//b", "a/../b", "./a", "a/", "a/.tmp-x"] {
            #expect(throws: BuildCacheError.self) { try CacheKey.validate(bad) }
        }
        try CacheKey.validate("artifacts/abc/def.tar.zst")
    }
}
