/// Valid image-spec documents (a config, manifests, an index, a Docker manifest list) and
/// hostile shapes (deep nesting, duplicate keys, big numbers, escapes): the seeds of the JSON
/// fuzz tests and of Fuzz/'s libFuzzer corpus.
public enum JSONCorpus {
    static let d1 = "sha256:" + String(repeating: "1", count: 64)
    static let d2 = "sha256:" + String(repeating: "2", count: 64)

    /// Each seed document, named.
    public static func documents() -> [(name: String, bytes: [UInt8])] {
        [
            ("config", config), ("manifest", manifest), ("index", index), ("docker-manifest", dockerManifest),
            ("docker-list", dockerList), ("probe-minimal", #"{"manifests":[]}"#),
            ("deep", String(repeating: "[", count: 70) + String(repeating: "]", count: 70)),
            ("duplicate-keys", #"{"schemaVersion":2,"schemaVersion":3,"config":{},"layers":[]}"#),
            ("numbers", #"[0,-0,1.5,1e3,-9223372036854775808,9223372036854775807,9223372036854775808,18446744073709551616,-1,00,1E+2]"#),
            ("escapes", #"{"a":"\u0000\u001f\ud83d\ude00\"\\\/\b\f\n\r\t","é":"ü","\u00e9":1}"#),
        ].map { ($0.0, Array($0.1.utf8)) }
    }

    static let config = """
    {"architecture":"amd64","os":"linux","variant":"v2","created":"2026-11-22T08:10:00Z","author":"me \\"q\\" \\u0041",
     "config":{"User":"1000:1000","ExposedPorts":{"80/tcp":{}},"Env":["PATH=/usr/bin"],"Entrypoint":["/app"],"Cmd":["-p","80"],
       "Volumes":{"/data":{}},"WorkingDir":"/srv","Labels":{"k":"v"},"StopSignal":"SIGQUIT","ArgsEscaped":true},
     "rootfs":{"type":"layers","diff_ids":["\(d1)","\(d2)"]},
     "history":[{"created":"2026-01-01T00:00:00Z","created_by":"sh","empty_layer":false,"comment":"c","author":"a"},{"empty_layer":true}]}
    """

    static let manifest = """
    {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
     "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(d1)","size":1234},
     "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"\(d2)","size":9007199254740993,
                "urls":["https://example.com/l"],"annotations":{"org.opencontainers.image.title":"l.tar.gz"}}],
     "subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(d2)","size":7},
     "artifactType":"application/x-test","annotations":{"a":"1"}}
    """

    static let index = """
    {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
     {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(d1)","size":10,
      "platform":{"architecture":"arm64","os":"linux","variant":"v8","os.version":"1","os.features":["f"]},
      "annotations":{"org.opencontainers.image.ref.name":"hello:latest"}},
     {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(d2)","size":11,"platform":null}]}
    """

    static let dockerManifest = """
    {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
     "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"\(d1)"},"layers":[]}
    """

    static let dockerList = """
    {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
     "manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"\(d2)","size":5,
                   "platform":{"architecture":"amd64","os":"linux"}}]}
    """
}
