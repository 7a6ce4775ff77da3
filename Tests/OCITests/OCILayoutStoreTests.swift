import Foundation
import Support
import Testing
@testable import OCI

@Suite struct OCILayoutStoreTests {
    @Test func createsALayoutAndReadsBack() throws {
        let tmp = TempDir("store")
        let store = try OCILayoutStore(root: tmp.path + "/s")
        #expect(FileManager.default.fileExists(atPath: tmp.path + "/s/oci-layout"))
        let d = try store.write(Data("hello".utf8), mediaType: "text/plain")
        #expect(try store.read(d) == Data("hello".utf8))
        #expect(store.contains(d.digest))
        // Reopening an existing layout works, and a non-layout is refused.
        _ = try OCILayoutStore(root: tmp.path + "/s", create: false)
        #expect { try OCILayoutStore(root: tmp.path + "/nothing", create: false) } throws: { "\($0)".contains("not an OCI image layout") }
    }

    @Test func layoutFilesWrittenByOtherToolsAreReadAndNewerVersionsRefused() throws {
        let tmp = TempDir("store")
        _ = try OCILayoutStore(root: tmp.path + "/s")
        #expect(try String(contentsOfFile: tmp.path + "/s/oci-layout", encoding: .utf8) == OCILayoutStore.layoutFileContents)
        // Another tool's spelling of the same file opens; a layout version we do not know does not.
        try Data(#"{ "imageLayoutVersion": "1.1.0" }"#.utf8).write(to: URL(fileURLWithPath: tmp.path + "/s/oci-layout"))
        _ = try OCILayoutStore(root: tmp.path + "/s", create: false)
        try Data(#"{"imageLayoutVersion":"2.0.0"}"#.utf8).write(to: URL(fileURLWithPath: tmp.path + "/s/oci-layout"))
        #expect { try OCILayoutStore(root: tmp.path + "/s", create: false) } throws: { "\($0)".contains("unsupported imageLayoutVersion 2.0.0") }
        try Data("not json".utf8).write(to: URL(fileURLWithPath: tmp.path + "/s/oci-layout"))
        #expect(throws: (any Error).self) { try OCILayoutStore(root: tmp.path + "/s", create: false) }
        // The root is cleaned lexically: the same store however the path is spelled.
        #expect(try OCILayoutStore(root: tmp.path + "//t/./u/../", create: true).root == tmp.path + "/t")
    }

    @Test func pathsAreCleanedAndSplitLexically() {
        let cases: [(String, String)] = [
            ("/a/b/../c/./d//", "/a/c/d"), ("/../a", "/a"), ("/", "/"), ("//", "/"), ("a/../..", ".."),
            ("./a/b/..", "a"), ("", "."), ("a/./../../b", "../b"), ("/a/b/c/../../..", "/"),
        ]
        for (path, clean) in cases { #expect(FileIO.standardize(path) == clean, "\(path)") }
        #expect(FileIO.split("/a/b/state.json") == ("/a/b", "state.json"))
        #expect(FileIO.split("/state.json") == ("/", "state.json"))
        #expect(FileIO.split("state.json") == ("", "state.json"))
        #expect(FileIO.split("/a/b/") == ("/a", "b"))
    }

    @Test func corruptBlobIsFoundOnReadAndNamed() throws {
        let tmp = TempDir("store")
        let store = try OCILayoutStore(root: tmp.path)
        let d = try store.write(Data("original content".utf8), mediaType: "text/plain")
        try Data("tampered content".utf8).write(to: URL(fileURLWithPath: store.path(of: d.digest)))
        #expect { try store.read(d) } throws: { error in
            guard case let OCIError.digestMismatch(expected, _, _) = error else { return false }
            return expected == d.digest && "\(error)".contains(d.digest.description)
        }
        // Streaming reads find it too, at the end of the stream.
        #expect { try store.open(d).copy(to: NullSink()) } throws: { "\($0)".contains(d.digest.description) }
        // A truncated blob is a size mismatch.
        try Data("orig".utf8).write(to: URL(fileURLWithPath: store.path(of: d.digest)))
        #expect { try store.read(d) } throws: { error in
            if case OCIError.sizeMismatch = error { return true } else { return false }
        }
    }

    @Test func tagsListsResolvesAndUntags() throws {
        let tmp = TempDir("store")
        let store = try OCILayoutStore(root: tmp.path)
        let config = try store.writeJSON(ImageConfig(platform: .host, created: nil, config: nil, diffIDs: [], history: nil), mediaType: MediaType.ociConfig)
        let m = try store.writeJSON(Manifest(config: config, layers: []), mediaType: MediaType.ociManifest)
        try store.tag(m, as: try ImageReference(parsing: "hello"))
        try store.tag(m, as: try ImageReference(parsing: "docker.io/library/hello:2"))
        try store.tag(m, as: try ImageReference(parsing: "localhost:5000/x/y:t"))
        let names = try store.entries().compactMap(\.name)
        #expect(names == ["hello:latest", "hello:2", "localhost:5000/x/y:t"])
        #expect(try store.resolve("hello").descriptor.digest == m.digest)
        #expect(try store.resolve("hello:latest").name == "hello:latest")
        #expect(try store.resolve(m.digest.description).descriptor.digest == m.digest)
        #expect(try store.resolve(String(m.digest.encoded.prefix(8))).descriptor.digest == m.digest)
        #expect(try store.resolve(String(config.digest.encoded.prefix(10))).descriptor.digest == m.digest)
        #expect(try store.resolve("hello@\(m.digest)").descriptor.digest == m.digest)
        #expect { try store.resolve("nope") } throws: { "\($0)".contains("no image 'nope'") }
        #expect { try store.resolve("Bad:Ref") } throws: { "\($0)".contains("invalid image reference") }
        // Re-tagging moves the name, it does not duplicate it.
        try store.tag(m, as: try ImageReference(parsing: "hello"))
        #expect(try store.entries().count == 3)
        try store.untag(try ImageReference(parsing: "hello:2"))
        #expect(try store.entries().compactMap(\.name) == ["localhost:5000/x/y:t", "hello:latest"])
    }

    @Test func gcKeepsReachableAndRemovesTheRest() throws {
        let tmp = TempDir("store")
        let store = try OCILayoutStore(root: tmp.path)
        let layer = try store.write(Data("layer".utf8), mediaType: MediaType.ociLayer)
        let config = try store.writeJSON(ImageConfig(platform: .host, created: nil, config: nil, diffIDs: [layer.digest], history: nil), mediaType: MediaType.ociConfig)
        let m = try store.writeJSON(Manifest(config: config, layers: [layer]), mediaType: MediaType.ociManifest)
        let idx = try store.writeJSON(Index(manifests: [m]), mediaType: MediaType.ociIndex)
        try store.tag(idx, as: try ImageReference(parsing: "multi"))
        let orphan = try store.write(Data("orphan".utf8), mediaType: "x")
        let leftover = store.root + "/blobs/sha256/.tmp-dead-ingest"
        _ = FileManager.default.createFile(atPath: leftover, contents: Data("partial".utf8))

        let dry = try store.gc(dryRun: true)
        #expect(dry.removedBlobs == [orphan.digest])
        #expect(store.contains(orphan.digest))

        let report = try store.gc()
        #expect(report.removedBlobs == [orphan.digest])
        #expect(report.removedTemporaryFiles == 1)
        #expect(!store.contains(orphan.digest))
        #expect(!FileManager.default.fileExists(atPath: leftover))
        for d in [layer, config, m, idx] { #expect(store.contains(d.digest)) }
    }

    @Test func ingestVerifiesExpectedDigest() throws {
        let tmp = TempDir("store")
        let store = try OCILayoutStore(root: tmp.path)
        let w = try store.ingest()
        try w.write(contentsOf: Data("abc".utf8))
        #expect { try w.commit(expected: Digest.compute(Data("xyz".utf8))) } throws: { error in
            if case OCIError.digestMismatch = error { return true } else { return false }
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.root + "/blobs/sha256")
        #expect(leftovers.isEmpty)
    }

    @Test func concurrentTaggersKeepEveryTag() async throws {
        let tmp = TempDir("store")
        let root = tmp.path
        let store = try OCILayoutStore(root: root)
        let config = try store.writeJSON(ImageConfig(platform: .host, created: nil, config: nil, diffIDs: [], history: nil), mediaType: MediaType.ociConfig)
        let m = try store.writeJSON(Manifest(config: config, layers: []), mediaType: MediaType.ociManifest)
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<16 {
                group.addTask {
                    let s = try! OCILayoutStore(root: root)
                    try! s.tag(m, as: try! ImageReference(parsing: "app:v\(i)"))
                }
            }
        }
        #expect(try store.entries().count == 16)
    }

    @Test func atomicWriterLeavesDestinationUntilCommit() throws {
        let tmp = TempDir("atomic")
        let dest = tmp.path + "/file"
        try AtomicFileWriter.write(Data("old".utf8), to: dest)
        do {
            let w = try AtomicFileWriter(destination: dest)
            try w.write(contentsOf: Data("new but unfinished".utf8))
            try w.finish()
            #expect(try Data(contentsOf: URL(fileURLWithPath: dest)) == Data("old".utf8))
        }
        // Dropped without commit: the temporary file is gone and the old content stays.
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path) == ["file"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: dest)) == Data("old".utf8))
    }
}
