import Foundation

/// What one builder made of a case: its exit status and output, and the image it exported.
struct BuildOutcome {
    var builder: String
    var status: Int32
    var log: String
    var image: LayoutImage?

    /// The last lines of the log, for failure messages.
    var tail: String { log.split(separator: "\n", omittingEmptySubsequences: false).suffix(25).joined(separator: "\n") }
}

/// buildah (Debian's 1.28) as the reference builder beside docker: vfs storage and chroot
/// isolation in the case's own directory, so it needs no daemon, no overlay and no state outside.
///
/// Two flags go beyond a plain `bud`: `--format docker` and `push --format v2s2`. buildah drops
/// HEALTHCHECK, ONBUILD and SHELL from an OCI-format image ("not supported for OCI image format"),
/// while docker records them in the config; in docker format buildah keeps them, and pushing that
/// manifest as it is into the OCI layout keeps the config that holds them.
enum BuildahDriver {
    static let name = "buildah"

    static func build(_ c: ConformanceCase, in w: CaseWorkspace) throws -> BuildOutcome {
        try requireTool("buildah", package: "buildah")
        let dir = try w.directory("buildah")
        let storage = ["--storage-driver", "vfs", "--root", dir + "/root", "--runroot", dir + "/runroot"]
        var args = storage + ["bud", "--format", "docker", "--layers", "--isolation", "chroot", "--tls-verify=false", "--timestamp", "0",
                              "-f", w.dockerfile, "-t", "case"]
        for (key, value) in c.allBuildArgs(registry: w.registry) { args += ["--build-arg", "\(key)=\(value)"] }
        if let target = c.target { args += ["--target", target] }
        for secret in w.secretArguments { args += ["--secret", secret] }
        args.append(w.context)
        // Its own registries.conf search list and signature policy stay as installed; the base is
        // named fully (127.0.0.1:PORT/busybox:1), so no short-name lookup is involved.
        let built = try run("buildah", args, cwd: w.root)
        var outcome = BuildOutcome(builder: name, status: built.status, log: built.out + built.err)
        guard built.status == 0 else { return outcome }
        let layout = dir + "/layout"
        let pushed = try run("buildah", storage + ["push", "--format", "v2s2", "case", "oci:\(layout):case"], cwd: w.root)
        outcome.log += pushed.out + pushed.err
        guard pushed.status == 0 else {
            outcome.status = pushed.status
            return outcome
        }
        outcome.image = try LayoutImageReader.read(layout: layout, reference: "case")
        return outcome
    }
}

/// stackship's `build -f`, docker's flags, into a store of the case's own; the image is then
/// exported with `stackship copy store:… oci:…` and read back like buildah's.
enum StackshipDriver {
    static let name = "stackship"

    static func build(_ c: ConformanceCase, in w: CaseWorkspace) throws -> BuildOutcome {
        let dir = try w.directory("stackship")
        let store = dir + "/store"
        var args = ["build", "-f", w.dockerfile, "-t", "case:latest", "--store", store]
        for (key, value) in c.allBuildArgs(registry: w.registry) { args += ["--build-arg", "\(key)=\(value)"] }
        if let target = c.target { args += ["--target", target] }
        for secret in w.secretArguments { args += ["--secret", secret] }
        args.append(w.context)
        let built = try stackship(args, cwd: w.root)
        var outcome = BuildOutcome(builder: name, status: built.status, log: built.out + built.err)
        guard built.status == 0 else { return outcome }
        let layout = dir + "/layout"
        let copied = try stackship(["copy", "store:case:latest", "oci:\(layout):case", "--store", store], cwd: w.root)
        outcome.log += copied.out + copied.err
        guard copied.status == 0 else {
            outcome.status = copied.status
            return outcome
        }
        outcome.image = try LayoutImageReader.read(layout: layout, reference: "case")
        return outcome
    }
}
