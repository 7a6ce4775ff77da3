import Foundation
import Testing

/// What a generated CI job does before its stackship command, run for real: the install script
/// `ci generate` writes (with this stackship as the release artifact), an image's `steps:`, and
/// image jobs verifying the signed cache with `ci: trusted_key:` alone.
@Suite(.serialized)
struct CIJobSetupIntegrationTests {
    /// Runs `script` under `sh` in a private mount namespace with a tmpfs over /usr/local/bin,
    /// so that what it installs there never reaches the machine's.
    static func isolated(_ script: String, cwd: String, env: [String: String]) throws -> Result {
        try requireTool("unshare", package: "util-linux")
        return try run("unshare", ["--mount", "--propagation", "private", "sh", "-c",
                                   "mount -t tmpfs tmpfs /usr/local/bin && \(script)"], cwd: cwd, env: env)
    }

    @Test func theGeneratedInstallScriptInstallsThePinnedArtifactAndRefusesAnother() throws {
        let p = Project()
        let binary = try stackshipBinary()
        try FileManager.default.createDirectory(atPath: p.path + "/tools/stage", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: binary, toPath: p.path + "/tools/stage/stackship")
        #expect(try run("tar", ["-czf", "tools/stackship.tar.gz", "-C", "tools/stage", "stackship"], cwd: p.path).status == 0)
        try FileManager.default.removeItem(atPath: p.path + "/tools/stage")
        let sum = try run("sha256sum", ["tools/stackship.tar.gz"], cwd: p.path).out.split(separator: " ")[0]
        try p.write("site/index.html", "hi\n")
        try p.write("stack.yaml", """
            images:
              web:
                layers: [{source: site, destination: /www}]
            ci:
              install: {url: tools/stackship.tar.gz, sha256: \(sum)}
              publish: []
            """)
        let generate = try stackship(["ci", "generate", "gitlab", "--output", "."], cwd: p.path)
        #expect(generate.status == 0, "\(generate.out)\n\(generate.err)")
        let child = try String(contentsOfFile: p.path + "/.stackship-ci/gitlab-child.yml", encoding: .utf8)
        #expect(child.contains("STACKSHIP_INSTALL_URL: tools/stackship.tar.gz") && child.contains("sh .stackship-ci/install-stackship.sh"), "\(child)")

        // As a job runs it: from the repository root, with the pipeline's variables.
        var env = ["STACKSHIP_VERSION": "0.1.0", "STACKSHIP_INSTALL_URL": "tools/stackship.tar.gz", "STACKSHIP_INSTALL_SHA256": String(sum),
                   "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": p.path + "/home"]
        let ok = try Self.isolated("sh .stackship-ci/install-stackship.sh && /usr/local/bin/stackship --version", cwd: p.path, env: env)
        #expect(ok.status == 0, "\(ok.out)\n\(ok.err)")
        #expect(ok.out.hasSuffix("0.1.0\n") && ok.err.contains("installed stackship 0.1.0 in /usr/local/bin"), "\(ok.out)\n\(ok.err)")

        // Another artifact than the one pinned: refused before it runs, nothing installed.
        env["STACKSHIP_INSTALL_SHA256"] = String(repeating: "0", count: 64)
        let tampered = try Self.isolated("sh .stackship-ci/install-stackship.sh; s=$?; ls /usr/local/bin; exit $s", cwd: p.path, env: env)
        #expect(tampered.status == 1 && tampered.err.contains("has SHA-256 \(sum), not 0000") && tampered.err.contains("refusing to run it"), "\(tampered.err)")
        #expect(tampered.out.isEmpty, "nothing installed: \(tampered.out)")

        // Pinned to another version than the artifact's: refused, naming both.
        env["STACKSHIP_INSTALL_SHA256"] = String(sum)
        env["STACKSHIP_VERSION"] = "9.9.9"
        let other = try Self.isolated("sh .stackship-ci/install-stackship.sh", cwd: p.path, env: env)
        #expect(other.status == 1 && other.err.contains("says its version is '0.1.0', not 9.9.9"), "\(other.err)")

        // preinstalled: the runner must have it.
        let missing = try Self.isolated("sh .stackship-ci/install-stackship.sh", cwd: p.path,
                                        env: ["STACKSHIP_VERSION": "0.1.0", "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": p.path + "/home"])
        #expect(missing.status == 1 && missing.err.contains("is not on PATH") && missing.err.contains("ci.install"), "\(missing.err)")
    }

    @Test func imageStepsRunBeforeTheImageAndTrustedKeysVerifyTheCache() throws {
        let p = Project()
        try p.write("src/msg.txt", "from a package\n")
        try p.write("stack.yaml", """
            version: 2
            packages:
              msg:
                source: ./src
                build: {host: true, script: "mkdir -p $PREFIX/share && cp msg.txt $PREFIX/share/"}
            images:
              web:
                packages: [msg]
                steps: ["mkdir -p out && echo made by a step > out/index.html"]
                layers: [{source: out, destination: /www}]
            """)
        #expect(try stackship(["cache", "keygen", "--output", p.path + "/cache"], cwd: p.path).status == 0)
        let key = try String(contentsOfFile: p.path + "/cache", encoding: .utf8)
        try FileManager.default.createDirectory(atPath: p.path + "/shared", withIntermediateDirectories: true)
        // A package job: builds and signs into the shared cache; no image.
        let package = try stackship(["build", "--package", "msg", "--cache", "shared"], cwd: p.path, env: ["STACKSHIP_SIGNING_KEY": key])
        #expect(package.status == 0, "\(package.err)")
        #expect(!FileManager.default.fileExists(atPath: p.path + "/out"), "a package job runs no image steps")

        // An image job elsewhere (its own store), without the signing key.
        let untrusted = try stackship(["build", "--image", "web", "--cache", "shared", "--store", "store2"], cwd: p.path)
        #expect(untrusted.status != 0 && untrusted.err.contains("which is not trusted"), "\(untrusted.err)")
        let trusted = try stackship(["build", "--image", "web", "--cache", "shared", "--store", "store3"], cwd: p.path,
                                    env: ["STACKSHIP_TRUSTED_KEYS": "cache.pub"])
        #expect(trusted.status == 0, "\(trusted.err)")
        #expect(trusted.err.contains("==> web: step 1/1: mkdir -p out"), "\(trusted.err)")
        #expect(try String(contentsOfFile: p.path + "/out/index.html", encoding: .utf8) == "made by a step\n")

        // A failing step stops the build at its place, naming it and its exit code.
        try p.write("stack.yaml", try String(contentsOfFile: p.path + "/stack.yaml", encoding: .utf8)
            .replacingOccurrences(of: "steps: [\"mkdir", with: "steps: [\"exit 3\", \"mkdir"))
        let failed = try stackship(["build", "--image", "web", "--store", "store4"], cwd: p.path, env: ["STACKSHIP_TRUSTED_KEYS": "cache.pub"])
        expectCleanFailure(failed, ["stack.yaml:9:5:", "step 1 of image 'web' (`exit 3`) failed with exit code 3"])
    }
}
