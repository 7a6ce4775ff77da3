import Foundation
import Support
import Testing
@testable import OCI

/// JSONReader is a fast path in front of JSONDecoder: whatever it accepts must decode to what
/// JSONDecoder gives, and what it declines must still decode (or fail) as JSONDecoder says.
@Suite struct JSONReaderTests {
    static let d1 = "sha256:" + String(repeating: "1", count: 64)
    static let d2 = "sha256:" + String(repeating: "2", count: 64)

    static let config = """
    {"architecture":"amd64","os":"linux","variant":"v2","created":"2026-11-22T08:10:00Z","author":"me \\"quoted\\" \\\\ \\/ \\n\\t\\u0041",
     "config":{"User":"1000:1000","ExposedPorts":{"80/tcp":{},"443/tcp":{}},"Env":["PATH=/usr/bin","A=b=c"],
       "Entrypoint":["/app"],"Cmd":["--port","80"],"Volumes":{"/data":{}},"WorkingDir":"/srv","Labels":{"k":"v","e":""},
       "StopSignal":"SIGQUIT","ArgsEscaped":true,"Healthcheck":{"Test":["CMD","true"],"Interval":30000000000,"Retries":3}},
     "rootfs":{"type":"layers","diff_ids":["\(d1)","\(d2)"]},
     "history":[{"created":"2026-01-01T00:00:00Z","created_by":"/bin/sh -c #(nop) ADD file:abc in / ","empty_layer":false,"comment":"c","author":"a"},{"empty_layer":true}],
     "unknown":{"nested":[1,-2,true,false,null,{"x":[]}]}}
    """
    static let manifest = """
    { "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "\(d1)", "size": 1234},
      "layers": [ {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "\(d2)", "size": 9007199254740993,
                   "urls": ["https://example.com/l"], "annotations": {"org.opencontainers.image.title": "l.tar.gz"}} ],
      "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "\(d2)", "size": 7},
      "artifactType": "application/x-test", "annotations": {"a": "1"} }
    """
    static let index = """
    {"schemaVersion":2,"manifests":[
     {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(d1)","size":10,
      "platform":{"architecture":"amd64","os":"windows","os.version":"10.0.17763","os.features":["win32k"]},
      "annotations":{"org.opencontainers.image.ref.name":"hello:latest"}},
     {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(d2)","size":11,"platform":null,"artifactType":null}]}
    """
    static let dockerManifest = """
    {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
     "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"\(d1)"},"layers":[]}
    """

    /// The fast path's answer, or nil when it declines.
    static func fast<T: JSONReadable>(_ type: T.Type, _ text: String) -> T? {
        guard let json = JSONReader.parse(Data(text.utf8)) else { return nil }
        return try? T(json: json)
    }

    static func codable<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        try? JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    @Test func readsWhatJSONDecoderReads() throws {
        let config = try #require(Self.fast(ImageConfig.self, Self.config))
        #expect(config == Self.codable(ImageConfig.self, Self.config))
        #expect(config.author == "me \"quoted\" \\ / \n\tA")
        #expect(config.config?.ExposedPorts?.count == 2 && config.history?.count == 2)
        let manifest = try #require(Self.fast(Manifest.self, Self.manifest))
        #expect(manifest == Self.codable(Manifest.self, Self.manifest))
        #expect(manifest.layers[0].size == 9_007_199_254_740_993) // beyond a Double's integers
        let index = try #require(Self.fast(Index.self, Self.index))
        #expect(index == Self.codable(Index.self, Self.index))
        #expect(index.manifests[0].platform?.osFeatures == ["win32k"] && index.manifests[1].platform == nil)
        #expect(Self.fast(Manifest.self, Self.dockerManifest) == Self.codable(Manifest.self, Self.dockerManifest))
        let probe = try #require(Self.fast(MediaTypeProbe.self, Self.index))
        #expect(probe.inferredMediaType == MediaType.ociIndex && probe.manifests?.count == 2 && probe.config == nil)
    }

    /// Valid documents the fast path leaves to JSONDecoder, which still reads them.
    @Test func declinesWhatItDoesNotReadExactlyAndCodableStillDoes() throws {
        let declined = [
            Self.manifest.replacingOccurrences(of: "\"a\": \"1\"", with: "\"a\": \"é\""), // non-ASCII
            Self.manifest.replacingOccurrences(of: "\"size\": 1234", with: "\"size\": 1234, \"size\": 1234"), // duplicate key
            Self.manifest.replacingOccurrences(of: "\"size\": 7", with: "\"size\": 7, \"extra\": 1.5"), // a fraction, even unknown
            Self.manifest.replacingOccurrences(of: "\"size\": 7", with: "\"size\": 7, \"extra\": 1e3"), // an exponent
            Self.manifest.replacingOccurrences(of: "\"a\": \"1\"", with: "\"a\": \"\\u00e9\""), // an escape beyond ASCII
            "\u{FEFF}" + Self.manifest, // a byte-order mark, which JSONDecoder skips
        ]
        for text in declined {
            #expect(Self.fast(Manifest.self, text) == nil, "\(text)")
            let expected = try #require(Self.codable(Manifest.self, text), "\(text)")
            #expect(try CanonicalJSON.decode(Manifest.self, from: Data(text.utf8), what: "m") == expected)
        }
        #expect(try CanonicalJSON.decode(Manifest.self, from: Data(declined[0].utf8), what: "m").annotations?["a"] == "é")
        // Many keys (an image's labels can come from anywhere): read in linear time, and a
        // duplicate among them is still seen.
        let labels = (0..<50_000).map { "\"k\($0)\":\"v\"" }.joined(separator: ",")
        let many = Self.config.replacingOccurrences(of: #""Labels":{"k":"v","e":""}"#, with: "\"Labels\":{\(labels)}")
        #expect(Self.fast(ImageConfig.self, many)?.config?.Labels?.count == 50_000)
        #expect(Self.fast(ImageConfig.self, many.replacingOccurrences(of: "\"k49999\"", with: "\"k20\"")) == nil)
    }

    /// Invalid documents: the fast path declines, and the error is JSONDecoder's, naming the document.
    @Test func declinesWhatJSONDecoderRefuses() {
        let invalid = [
            #"{"schemaVersion":2,"config":{"mediaType":"x","size":1},"layers":[]}"#, // no digest
            Self.manifest.replacingOccurrences(of: "\"size\": 1234", with: "\"size\": null"), // null where required
            Self.manifest.replacingOccurrences(of: "\"size\": 1234", with: "\"size\": \"1234\""), // a string for a number
            Self.manifest.replacingOccurrences(of: "\"size\": 1234", with: "\"size\": 99999999999999999999"), // too big
            Self.manifest.replacingOccurrences(of: "\"size\": 1234", with: "\"size\": 01"), // a leading zero
            Self.manifest.replacingOccurrences(of: "\"a\": \"1\"", with: "\"a\": null"), // null in a map of strings
            Self.manifest.replacingOccurrences(of: "\"\(Self.d1)\"", with: "\"sha256:abc\""), // a bad digest
            Self.manifest + " x", // trailing text
            String(Self.manifest.dropLast(3)), // truncated
            String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
            "",
        ]
        for text in invalid {
            #expect(Self.fast(Manifest.self, text) == nil, "\(text)")
            #expect(Self.codable(Manifest.self, text) == nil, "\(text)")
            #expect(throws: OCIError.self) { try CanonicalJSON.decode(Manifest.self, from: Data(text.utf8), what: "manifest m") }
        }
        // Empty sets must be empty objects: anything else is JSONDecoder's to judge.
        #expect(Self.fast(ImageConfig.self, Self.config.replacingOccurrences(of: "\"80/tcp\":{}", with: "\"80/tcp\":null")) == nil)
    }

    /// Every one-byte change of a document: whenever the fast path still reads it, JSONDecoder
    /// reads the same value.
    @Test func neverDisagreesWithJSONDecoderOnMutatedDocuments() {
        var accepted = 0
        for (name, text) in [("config", Self.config), ("manifest", Self.manifest), ("index", Self.index)] {
            let bytes = Array(text.utf8)
            let replacements: [UInt8] = Array(#"{}[]":,0-9.e"\ atfnu"#.utf8)
            for position in stride(from: 0, to: bytes.count, by: 3) {
                for replacement in [nil] + replacements.map(Optional.some) {
                    var mutated = bytes
                    if let replacement { mutated[position] = replacement } else { mutated.remove(at: position) }
                    let data = Data(mutated)
                    guard let json = JSONReader.parse(data) else { continue }
                    switch name {
                    case "config":
                        guard let fast = try? ImageConfig(json: json) else { continue }
                        #expect(fast == (try? JSONDecoder().decode(ImageConfig.self, from: data)), "\(String(decoding: mutated, as: UTF8.self))")
                    case "manifest":
                        guard let fast = try? Manifest(json: json) else { continue }
                        #expect(fast == (try? JSONDecoder().decode(Manifest.self, from: data)), "\(String(decoding: mutated, as: UTF8.self))")
                    default:
                        guard let fast = try? Index(json: json) else { continue }
                        #expect(fast == (try? JSONDecoder().decode(Index.self, from: data)), "\(String(decoding: mutated, as: UTF8.self))")
                    }
                    accepted += 1
                }
            }
        }
        #expect(accepted > 1000) // the comparison ran on many documents, not just the declined ones
    }

    @Test func readsTheStoresOwnDocuments() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jsonreader-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try OCILayoutStore(root: dir, create: true)
        let config = try #require(Self.codable(ImageConfig.self, Self.config))
        let configDescriptor = try store.writeJSON(config, mediaType: MediaType.ociConfig)
        let manifest = Manifest(config: configDescriptor, layers: [], annotations: ["x": "y"])
        let manifestDescriptor = try store.writeJSON(manifest, mediaType: MediaType.ociManifest)
        try store.tag(manifestDescriptor, as: try ImageReference(parsing: "reader:test"))
        // CanonicalJSON writes what the fast path reads: the documents come back equal.
        #expect(JSONReader.parse(try FileIO.readFile(dir + "/index.json")) != nil)
        let entry = try store.resolve("reader:test")
        #expect(try store.manifest(for: entry.descriptor) == manifest)
        #expect(try store.config(of: manifest) == config)
    }
}
