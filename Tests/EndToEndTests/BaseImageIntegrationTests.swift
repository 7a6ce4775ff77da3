import Foundation
import Testing

/// Images built on a base from the store, an OCI archive and a docker archive.
@Suite(.serialized) struct BaseImageIntegrationTests {
    struct Inspected: Decodable {
        struct Manifest: Decodable {
            struct Layer: Decodable { var digest: String }
            var layers: [Layer]
            var annotations: [String: String]?
        }
        struct Config: Decodable {
            struct Inner: Decodable {
                var Env: [String]?
                var Entrypoint: [String]?
                var Cmd: [String]?
                var ExposedPorts: [String: [String: String]]?
            }
            struct RootFS: Decodable { var diff_ids: [String] }
            var config: Inner?
            var rootfs: RootFS
            var history: [[String: String]]?
        }
        var manifest: Manifest
        var config: Config
    }

    func inspect(_ ref: String, _ p: Project) throws -> Inspected {
        let r = try stackship(["inspect", ref, "--json"], cwd: p.path)
        #expect(r.status == 0, "\(r.err)")
        return try JSONDecoder().decode(Inspected.self, from: Data(r.out.utf8))
    }

    @Test(arguments: ["store", "oci-archive", "docker-archive"])
    func childBuildsOnBase(_ kind: String) throws {
        let p = Project()
        try p.makeHello()
        // The base sets cmd and env; the child adds a layer, overrides env, sets an entrypoint.
        try p.write("stack.yaml", """
        images:
          base:
            tags: [base:1]
            layers:
              - source: ./app
                destination: /opt/hello
            config:
              cmd: [/opt/hello/bin/hello]
              env: {GREETING: hi, KEEP: "yes"}
              exposed_ports: [8080]
        """)
        #expect(try stackship(["build"], cwd: p.path).status == 0)
        let base = try inspect("base:1", p)

        let baseLine: String
        switch kind {
        case "store":
            baseLine = "base:1"
        case "oci-archive":
            #expect(try stackship(["save", "base:1", "-o", p.path + "/base-oci.tar", "--format", "oci"], cwd: p.path).status == 0)
            baseLine = "oci-archive:./base-oci.tar:base:1"
        default:
            #expect(try stackship(["save", "base:1", "-o", p.path + "/base-docker.tar"], cwd: p.path).status == 0)
            baseLine = "docker-archive:./base-docker.tar"
        }
        try p.write("extra/etc/child.conf", "child\n")
        try p.write("child.yaml", """
        images:
          child:
            base: \(baseLine)
            layers:
              - source: ./extra
                destination: /
            config:
              entrypoint: [/bin/run]
              env: {GREETING: hello}
        """)
        let r = try stackship(["build", "child.yaml", "--store", p.store], cwd: p.path)
        #expect(r.status == 0, "\(r.err)")
        let child = try inspect("child", p)
        #expect(child.config.rootfs.diff_ids.count == 2)
        #expect(child.config.rootfs.diff_ids.first == base.config.rootfs.diff_ids.first)
        #expect(child.manifest.layers.count == 2)
        #expect(child.config.config?.Env == ["GREETING=hello", "KEEP=yes"])
        #expect(child.config.config?.Entrypoint == ["/bin/run"])
        #expect(child.config.config?.Cmd == nil, "a new entrypoint clears the base's cmd")
        #expect(child.config.config?.ExposedPorts?.keys.sorted() == ["8080/tcp"])
        #expect((child.config.history ?? []).count == 2)
        #expect(child.manifest.annotations?["org.opencontainers.image.base.digest"]?.hasPrefix("sha256:") == true)
        if kind != "docker-archive" {
            // Store and OCI-archive bases keep the very same layer blob.
            #expect(child.manifest.layers.first?.digest == base.manifest.layers.first?.digest)
        }
    }

    @Test func archiveSelectorsAsSkopeoWritesThem() throws {
        try requireTool("skopeo", package: "skopeo")
        let p = Project()
        try p.makeHello()
        #expect(try stackship(["build"], cwd: p.path).status == 0)
        // skopeo names an OCI archive's image by a bare tag, and a docker archive by position.
        #expect(try run("skopeo", ["copy", "oci:\(p.store):hello:latest", "oci-archive:\(p.path)/bare.tar:latest"]).status == 0)
        #expect(try run("skopeo", ["copy", "oci:\(p.store):hello:latest", "docker-archive:\(p.path)/two.tar:first/one:1"]).status == 0)
        for (n, base) in ["oci-archive:./bare.tar:latest", "docker-archive:./two.tar:@0", "docker-archive:./two.tar:first/one:1"].enumerated() {
            try p.write("child\(n).yaml", "images:\n  child\(n):\n    base: \(base)\n")
            let r = try stackship(["build", "child\(n).yaml", "--store", p.store], cwd: p.path)
            #expect(r.status == 0, "\(base): \(r.err)")
        }
        try p.write("bad.yaml", "images:\n  bad:\n    base: docker-archive:./two.tar:@7\n")
        let bad = try stackship(["build", "bad.yaml", "--store", p.store], cwd: p.path)
        #expect(bad.status == 1 && bad.err.contains("has no image '@7'"), "\(bad.err)")
    }

    @Test func missingBaseAndWrongArchiveReferenceAreClearErrors() throws {
        let p = Project()
        try p.makeHello()
        try p.write("child.yaml", "images:\n  child:\n    base: nothere:1\n")
        let r = try stackship(["build", "child.yaml", "--pull", "never"], cwd: p.path)
        #expect(r.status == 1)
        #expect(r.err.contains("base 'nothere:1' is not in the store") && r.err.contains("--pull never"), "\(r.err)")
        // By default it is pulled, which fails here (no docker.io), naming the base.
        let pulled = try stackship(["build", "child.yaml"], cwd: p.path)
        #expect(pulled.status == 1 && pulled.err.contains("cannot pull base 'nothere:1'") && pulled.err.contains("docker.io"), "\(pulled.err)")
        #expect(try stackship(["build"], cwd: p.path).status == 0)
        #expect(try stackship(["save", "hello", "-o", p.path + "/h.tar", "--format", "oci"], cwd: p.path).status == 0)
        try p.write("child.yaml", "images:\n  child:\n    base: oci-archive:./h.tar:other:2\n")
        let wrong = try stackship(["build", "child.yaml"], cwd: p.path)
        #expect(wrong.status == 1)
        #expect(wrong.err.contains("has no image 'other:2'") && wrong.err.contains("hello:latest"), "\(wrong.err)")
    }
}
