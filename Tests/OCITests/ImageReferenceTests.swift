import Testing
@testable import OCI

@Suite struct ImageReferenceTests {
    @Test(arguments: [
        ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
        ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("user/app", "docker.io/user/app:latest", "user/app:latest"),
        ("index.docker.io/user/app:v1", "docker.io/user/app:v1", "user/app:v1"),
        ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
        ("localhost:5000/a/b:tag", "localhost:5000/a/b:tag", "localhost:5000/a/b:tag"),
        ("ghcr.io/owner/repo/sub:1.2.3-rc.1", "ghcr.io/owner/repo/sub:1.2.3-rc.1", "ghcr.io/owner/repo/sub:1.2.3-rc.1"),
        ("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest", "127.0.0.1:5000/x:latest"),
        ("[::1]:5000/x:t", "[::1]:5000/x:t", "[::1]:5000/x:t"),
        ("a__b/c-d--e/f.g", "docker.io/a__b/c-d--e/f.g:latest", "a__b/c-d--e/f.g:latest"),
    ])
    func normalises(input: String, full: String, familiar: String) throws {
        let ref = try ImageReference(parsing: input)
        #expect(ref.description == full)
        #expect(ref.familiar == familiar)
    }

    @Test func keepsTagAndDigest() throws {
        let hex = String(repeating: "a", count: 64)
        let ref = try ImageReference(parsing: "localhost:5000/a/b:tag@sha256:\(hex)")
        #expect(ref.registry == "localhost:5000")
        #expect(ref.repository == "a/b")
        #expect(ref.tag == "tag")
        #expect(ref.digest?.encoded == hex)
        let digestOnly = try ImageReference(parsing: "busybox@sha256:\(hex)")
        #expect(digestOnly.tag == nil)
        #expect(digestOnly.description == "docker.io/library/busybox@sha256:\(hex)")
    }

    @Test(arguments: [
        ("", "empty"),
        ("Busybox", "must be lowercase"),
        ("busybox:", "bad tag ''"),
        ("busybox:-x", "bad tag"),
        ("busybox:" + String(repeating: "t", count: 129), "bad tag"),
        ("busybox@sha256:abc", "bad digest"),
        ("a//b", "bad path component ''"),
        ("a/b_-c", "bad path component"),
        ("-a/b", "bad path component '-a'"),
        ("-a.io/b", "bad registry host '-a.io'"),
        ("bad host:5000/x", "printable ASCII"),
        ("localhost:port/x", "bad registry host"),
        ("a/.b", "bad path component '.b'"),
    ])
    func rejects(input: String, fragment: String) {
        #expect {
            try ImageReference(parsing: input)
        } throws: { error in
            let text = "\(error)"
            return text.contains(fragment) && text.contains("invalid image reference")
        }
    }
}
