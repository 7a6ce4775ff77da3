import Foundation
import Testing
@testable import OCI

@Suite struct DigestTests {
    @Test func computesKnownVectors() {
        #expect(Digest.compute(Data()).description == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.compute(Data("abc".utf8)).description == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.compute(Data("abc".utf8), algorithm: .sha512).description
            == "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
    }

    @Test func parsesAndRoundTrips() throws {
        let s = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        let d = try Digest(parsing: s)
        #expect(d.algorithm == .sha256)
        #expect(d.description == s)
        let json = try CanonicalJSON.encode(["d": d])
        #expect(String(decoding: json, as: UTF8.self) == #"{"d":"\#(s)"}"#)
    }

    @Test(arguments: [
        ("sha256", "expected ALGORITHM:HEX"),
        ("md5:abc", "unsupported algorithm 'md5'"),
        ("sha256:abc", "needs 64 hex digits, found 3"),
        ("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", "lowercase hex"),
        ("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "needs 128 hex digits"),
    ])
    func rejectsBadDigests(input: String, message: String) {
        #expect {
            try Digest(parsing: input)
        } throws: { error in
            "\(error)".contains(message) && "\(error)".contains(input)
        }
    }

    @Test func verifyNamesBothDigests() throws {
        let d = Digest.compute(Data("abc".utf8))
        try d.verify(Data("abc".utf8), source: "test")
        #expect {
            try d.verify(Data("abd".utf8), source: "test")
        } throws: { error in
            guard case let OCIError.digestMismatch(expected, actual, _) = error else { return false }
            return expected == d && actual == Digest.compute(Data("abd".utf8))
        }
    }

    @Test func incrementalMatchesOneShot() {
        var digester = Digester()
        let data = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        for chunk in stride(from: 0, to: data.count, by: 777) {
            digester.update(data[chunk..<min(chunk + 777, data.count)])
        }
        #expect(digester.finalize() == Digest.compute(data))
        #expect(digester.count == 100_000)
    }
}
