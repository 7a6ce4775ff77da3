import Foundation
import Testing
@testable import OCI

@Suite struct CanonicalJSONTests {
    @Test func sameManifestSameBytes() throws {
        let config = Descriptor(mediaType: MediaType.ociConfig, digest: Digest.compute(Data("c".utf8)), size: 1)
        let a = Manifest(config: config, layers: [], annotations: ["b": "2", "a": "1", "url": "https://x/y"])
        let b = Manifest(config: config, layers: [], annotations: ["url": "https://x/y", "a": "1", "b": "2"])
        let ja = try CanonicalJSON.encode(a)
        let jb = try CanonicalJSON.encode(b)
        #expect(ja == jb)
        let text = String(decoding: ja, as: UTF8.self)
        #expect(text.contains(#""annotations":{"a":"1","b":"2","url":"https://x/y"}"#))
        #expect(!text.contains(" "))
        #expect(!text.contains("\\/"))
    }

    @Test func readsDockerManifestList() throws {
        let json = """
        {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":"sha256:\(String(repeating: "1", count: 64))","platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":"sha256:\(String(repeating: "2", count: 64))","platform":{"architecture":"amd64","os":"linux"}}]}
        """
        let index = try CanonicalJSON.decode(Index.self, from: Data(json.utf8), what: "list")
        #expect(MediaType.isIndex(index.mediaType!))
        #expect(index.manifests[0].platform?.variant == "v8")
        #expect(index.manifests.first { $0.platform?.matches(Platform(os: "linux", architecture: "amd64")) ?? false }?.digest.encoded.hasPrefix("2") == true)
    }

    @Test func malformedJSONNamesThePath() {
        #expect {
            try CanonicalJSON.decode(Manifest.self, from: Data(#"{"schemaVersion":2,"config":{"mediaType":"x","size":1}}"#.utf8), what: "manifest m")
        } throws: { error in
            "\(error)".contains("manifest m") && "\(error)".contains("digest")
        }
    }

    @Test func platformParsing() throws {
        #expect(try Platform(parsing: "linux/x86_64").description == "linux/amd64")
        #expect(try Platform(parsing: "linux/arm64/v8").description == "linux/arm64")
        #expect(try Platform(parsing: "linux/arm/v7").description == "linux/arm/v7")
        #expect(throws: OCIError.invalidPlatform("linux")) { try Platform(parsing: "linux") }
    }
}
