import Foundation
import Testing

/// Tools nobody here wrote read what stackship writes, and the other way round.
@Suite(.serialized) struct InteropIntegrationTests {
    func built() throws -> Project {
        let p = Project()
        try p.makeHello()
        let r = try stackship(["build"], cwd: p.path)
        #expect(r.status == 0, "\(r.err)")
        return p
    }

    @Test func skopeoInspectsTheStore() throws {
        try requireTool("skopeo", package: "skopeo")
        let p = try built()
        let r = try run("skopeo", ["inspect", "oci:\(p.store):hello:latest"])
        #expect(r.status == 0, "\(r.err)")
        let info = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        #expect(info?["Digest"] as? String == (try p.digest(of: "hello:latest")))
        #expect((info?["Env"] as? [String])?.contains("GREETING=hi") == true)
        let raw = try run("skopeo", ["inspect", "--raw", "oci:\(p.store):hello:1.0"])
        let manifest = try JSONSerialization.jsonObject(with: Data(raw.out.utf8)) as? [String: Any]
        #expect(manifest?["mediaType"] as? String == "application/vnd.oci.image.manifest.v1+json")
    }

    @Test func umociUnpacksTheStore() throws {
        try requireTool("umoci", package: "umoci")
        let p = try built()
        let bundle = p.path + "/bundle"
        let r = try run("umoci", ["unpack", "--image", "\(p.store):hello:latest", bundle])
        #expect(r.status == 0, "\(r.err)")
        let hello = bundle + "/rootfs/opt/hello/bin/hello"
        #expect(try String(contentsOfFile: hello, encoding: .utf8) == "#!/bin/sh\necho Hello, world.\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: hello)
        #expect((attributes[.posixPermissions] as? Int) == 0o755)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: bundle + "/rootfs/opt/hello/bin/hi") == "hello")
        let config = try String(contentsOfFile: bundle + "/config.json", encoding: .utf8)
        #expect(config.contains("GREETING=hi"))
    }

    @Test func skopeoCopiesTheStoreToADockerArchiveWeLoad() throws {
        try requireTool("skopeo", package: "skopeo")
        let p = try built()
        let archive = p.path + "/skopeo.tar"
        let r = try run("skopeo", ["copy", "oci:\(p.store):hello:latest", "docker-archive:\(archive):copied/hello:1"])
        #expect(r.status == 0, "\(r.err)")
        let other = Project()
        let load = try stackship(["load", archive, "--store", other.store])
        #expect(load.status == 0, "\(load.err)")
        #expect(load.out.contains("Loaded image: copied/hello:1"))
        let ours = try stackship(["inspect", "hello", "--json"], cwd: p.path)
        let theirs = try stackship(["inspect", "copied/hello:1", "--json", "--store", other.store])
        #expect(try diffIDs(ours.out) == (try diffIDs(theirs.out)))
        #expect(!(try diffIDs(ours.out)).isEmpty)
    }

    @Test func ourDockerArchiveIsReadBySkopeoAndLoadsBack() throws {
        try requireTool("skopeo", package: "skopeo")
        let p = try built()
        let archive = p.path + "/hello-docker.tar"
        let save = try stackship(["save", "hello", "-o", archive, "--format", "docker"], cwd: p.path)
        #expect(save.status == 0, "\(save.err)")
        let r = try run("skopeo", ["inspect", "docker-archive:\(archive)"])
        #expect(r.status == 0, "\(r.err)")
        let info = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        let ours = try diffIDs(try stackship(["inspect", "hello", "--json"], cwd: p.path).out)
        #expect(info?["Layers"] as? [String] == ours)
        #expect(try run("tar", ["-tf", archive]).out.contains("manifest.json"))
        // skopeo can also copy it back into an OCI layout, and we load our own archive.
        #expect(try run("skopeo", ["copy", "docker-archive:\(archive)", "oci:\(p.path)/layout:x"]).status == 0)
        let other = Project()
        let load = try stackship(["load", archive, "--store", other.store])
        #expect(load.out.contains("Loaded image: hello:latest"), "\(load.err)")
    }

    @Test func ourOCIArchiveIsReadBySkopeoAndLoadsBackIdentically() throws {
        try requireTool("skopeo", package: "skopeo")
        let p = try built()
        let archive = p.path + "/hello-oci.tar"
        #expect(try stackship(["save", "hello", "-o", archive, "--format", "oci"], cwd: p.path).status == 0)
        let r = try run("skopeo", ["inspect", "oci-archive:\(archive):hello:latest"])
        #expect(r.status == 0, "\(r.err)")
        let digest = try p.digest(of: "hello:latest")
        #expect(r.out.contains(digest))
        let other = Project()
        #expect(try stackship(["load", archive, "--store", other.store]).status == 0)
        let loaded = try stackship(["images", "--digests", "--store", other.store])
        #expect(loaded.out.contains(digest))
    }

    @Test func skopeoCopyToOCILayoutIsReadByUs() throws {
        try requireTool("skopeo", package: "skopeo")
        let p = try built()
        let copy = p.path + "/copy"
        #expect(try run("skopeo", ["copy", "oci:\(p.store):hello:latest", "oci:\(copy):hello:latest"]).status == 0)
        let r = try stackship(["inspect", "hello", "--store", copy])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("Digest:       \(try p.digest(of: "hello:latest"))"))
    }

    @Test(arguments: ["gzip", "zstd"])
    func gnuTarAndBsdtarListOurLayersIdentically(_ compression: String) throws {
        try requireTool("bsdtar", package: "libarchive-tools")
        try requireTool("tar", package: "tar")
        let p = Project()
        try p.makeHello()
        try FileManager.default.createDirectory(atPath: p.path + "/app/" + String(repeating: "deep/", count: 30), withIntermediateDirectories: true)
        try p.write("app/" + String(repeating: "deep/", count: 30) + "leaf.txt", "leaf\n")
        #expect(link(p.path + "/app/bin/hello", p.path + "/app/bin/hello-hardlink") == 0)
        let layer = p.path + "/layer.tar"
        let r = try stackship(["layer", p.path + "/app", "--destination", "/opt/app", "--compression", compression, "-o", layer])
        #expect(r.status == 0, "\(r.err)")
        let gnu = try run("tar", ["-tf", layer])
        let bsd = try run("bsdtar", ["-tf", layer])
        #expect(gnu.status == 0 && bsd.status == 0, "\(gnu.err) \(bsd.err)")
        #expect(gnu.out == bsd.out)
        #expect(gnu.out.contains("opt/app/" + String(repeating: "deep/", count: 30) + "leaf.txt"))
        // Extracted by each, the trees are the same: names, types, modes, sizes, link targets.
        for (tool, dir) in [("tar", "gnu"), ("bsdtar", "bsd")] {
            try FileManager.default.createDirectory(atPath: p.path + "/" + dir, withIntermediateDirectories: true)
            #expect(try run(tool, ["-xf", layer, "-C", p.path + "/" + dir]).status == 0)
        }
        let listing = { (dir: String) throws -> String in
            try run("sh", ["-c", "cd \(p.path)/\(dir) && find . -printf '%p %y %m %s %l %n\\n' | LC_ALL=C sort"]).out
        }
        let gnuTree = try listing("gnu")
        #expect(gnuTree == (try listing("bsd")))
        #expect(gnuTree.contains("./opt/app/bin/hello f 755"))
        #expect(gnuTree.contains("./opt/app/bin/hi l 777 5 hello"))
        #expect(gnuTree.contains("./opt/app/bin/hello-hardlink f 755 29  2"))
    }

    func diffIDs(_ inspectJSON: String) throws -> [String] {
        let object = try JSONSerialization.jsonObject(with: Data(inspectJSON.utf8)) as? [String: Any]
        let rootfs = ((object?["config"] as? [String: Any])?["rootfs"] as? [String: Any])
        return rootfs?["diff_ids"] as? [String] ?? []
    }
}
