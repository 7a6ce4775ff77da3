import Foundation
import Support
import OCI
import Testing

/// A base image's config survives a build on it: Docker's Healthcheck, Shell and OnBuild, and
/// members stackship does not model, in `config` and at the top level.
@Suite struct ConfigFidelityIntegrationTests {
    @Test func aBasesHealthcheckAndUnknownKeysAreKept() throws {
        let p = Project()
        let layer = try HostileImage.tar([TarEntry(path: "etc", kind: .directory, mode: 0o755)])
        let config = """
        {"architecture":"\(Platform.host.architecture)","os":"linux","os.features":["x"],"moby.buildkit.buildinfo.v1":"e30=",\
        "container_config":{"Cmd":["/bin/sh"]},"docker_version":"27.0",\
        "config":{"Env":["A=1"],"Healthcheck":{"Test":["CMD","true"],"Interval":30000000000,"Retries":3},\
        "Shell":["/bin/bash","-c"],"OnBuild":["RUN echo hi"],"X-Future":{"weight":1.5,"list":[1,"two",null]}},\
        "rootfs":{"type":"layers","diff_ids":["\(Digest.compute(layer))"]}}
        """
        try writeArchive(at: p.path + "/base.tar", config: Data(config.utf8), layer: layer)
        try p.write("app/hello.txt", "hi\n")
        try p.write("stack.yaml", """
        images:
          child:
            base: oci-archive:./base.tar
            layers: [{source: ./app, destination: /app}]
            config: {env: {B: "2"}, labels: {team: x}}
        """)
        let r = try stackship(["build"], cwd: p.path)
        #expect(r.status == 0, "\(r.err)")
        let json = try stackship(["inspect", "child", "--json"], cwd: p.path).out
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let built = object?["config"] as? [String: Any]
        let inner = built?["config"] as? [String: Any]
        let health = inner?["Healthcheck"] as? [String: Any]
        #expect(health?["Test"] as? [String] == ["CMD", "true"] && health?["Interval"] as? Int == 30_000_000_000 && health?["Retries"] as? Int == 3, "\(json)")
        #expect(inner?["Shell"] as? [String] == ["/bin/bash", "-c"])
        #expect(inner?["OnBuild"] as? [String] == ["RUN echo hi"])
        let future = inner?["X-Future"] as? [String: Any]
        #expect(future?["weight"] as? Double == 1.5 && (future?["list"] as? [Any])?.count == 3, "\(json)")
        #expect(inner?["Env"] as? [String] == ["A=1", "B=2"], "the stack's config merges as before")
        #expect(built?["os.features"] as? [String] == ["x"])
        #expect(built?["moby.buildkit.buildinfo.v1"] as? String == "e30=")
        #expect(built?["container_config"] == nil && built?["docker_version"] == nil, "how the base was built is not the child's")
    }

    /// An OCI archive of one image with this exact config, tagged base:1.
    func writeArchive(at path: String, config: Data, layer: Data) throws {
        let configDescriptor = Descriptor(mediaType: MediaType.ociConfig, digest: Digest.compute(config), size: Int64(config.count))
        let layerDescriptor = Descriptor(mediaType: MediaType.ociLayer, digest: Digest.compute(layer), size: Int64(layer.count))
        let manifest = try CanonicalJSON.encode(Manifest(config: configDescriptor, layers: [layerDescriptor]))
        var top = Descriptor(mediaType: MediaType.ociManifest, digest: Digest.compute(manifest), size: Int64(manifest.count))
        top.annotations = [AnnotationKey.refName: "base:1"]
        let sink = DataSink()
        let tar = TarWriter(sink: sink)
        try tar.write(TarEntry(path: "oci-layout", kind: .regular, mode: 0o644), content: Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        try tar.write(TarEntry(path: "index.json", kind: .regular, mode: 0o644), content: Array(try CanonicalJSON.encode(Index(manifests: [top]))))
        for (d, data) in [(configDescriptor.digest, config), (layerDescriptor.digest, layer), (top.digest, manifest)] {
            try tar.write(TarEntry(path: "blobs/sha256/\(d.encoded)", kind: .regular, mode: 0o644), content: Array(data))
        }
        try tar.finish()
        try sink.data.write(to: URL(fileURLWithPath: path))
    }
}
