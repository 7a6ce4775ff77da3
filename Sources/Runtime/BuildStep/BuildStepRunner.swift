#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
import Support

/// Executes the RUN instructions of a build: each ``BuildStep`` in a container under runc or
/// crun (in the foreground, no monitor), on an overlay of the stage's current root, and returns
/// the overlay's upper directory as the step's change set (``BuildStepResult``), whose
/// ``BuildStepResult/layer`` is the step's reproducible layer.
///
/// A step's scratch directory (`<scratch>/step-*`) holds its overlay, bundle and change set.
/// Whatever happens (success, a failing command, a thrown error, a cancelled task), everything
/// the step mounted is unmounted and the runtime's state removed before `run` returns; on
/// failure the scratch directory goes too.
///
///     step-*/upper        the change set (kept)
///            work/ rootfs/ the overlay's work directory and mount point
///            etc/         hosts, hostname, resolv.conf: bound into the container, not in the layer
///            secrets/     a tmpfs holding the step's secrets, only while it runs
///            binds/N/     copy-on-write layers over read-write bind sources
public final class BuildStepRunner: Sendable {
    /// The runtime (runc or crun, located as `run` does it: `OCIRuntime.locate`), with its state root.
    public let runtime: OCIRuntime
    /// Where steps' scratch directories go; on a file system overlayfs accepts as an upper
    /// layer (ext4, xfs, tmpfs), its path without `,` or `:`.
    public let scratchDirectory: String
    /// Where cache mounts (`RUN --mount=type=cache`) keep their content between steps and builds.
    public let cacheDirectory: String

    /// Creates both directories when missing. Their real paths are used (the kernel names mounts
    /// by them).
    public init(runtime: OCIRuntime, scratchDirectory: String, cacheDirectory: String) throws {
        try FileIO.makeDirectories(scratchDirectory, mode: 0o700)
        try FileIO.makeDirectories(cacheDirectory, mode: 0o700)
        self.runtime = runtime
        self.scratchDirectory = SourceTree.realPath(scratchDirectory) ?? scratchDirectory
        self.cacheDirectory = SourceTree.realPath(cacheDirectory) ?? cacheDirectory
    }

    /// Runs `step` to completion and returns its change set. Throws
    /// ``RuntimeError/buildStepFailed(command:exitCode:output:)`` when the command exits
    /// non-zero, ``RuntimeError/buildStepTimedOut(command:seconds:output:)`` past its time limit,
    /// `CancellationError` when the task is cancelled (the container is killed), and
    /// `RuntimeError` for what the step cannot be prepared with (a missing lower, a bad mount).
    public func run(_ step: BuildStep) async throws -> BuildStepResult {
        let started = Date()
        try validate(step)
        let directory = try makeStepDirectory()
        let mounts = BuildStepMounts()
        let containerID = "stackship-build-" + String(ContainerEngine.newID().prefix(24))
        do {
            let prepared = try prepare(step, in: directory, mounts: mounts)
            try Task.checkCancellation()
            let process = BuildStepProcess(runtime: runtime, containerID: containerID, bundle: directory,
                                           logPath: directory + "/runtime.log", timeout: step.timeout)
            let output = BuildStepOutput(secrets: prepared.secrets, callback: step.output)
            let runtimeStarted = Date()
            let outcome = try await process.run(output: output)
            let runtimeSeconds = Date().timeIntervalSince(runtimeStarted)
            mounts.tearDown(runtime: runtime, containerID: containerID)
            let runtimeMessage = outcome.status != 0 ? Self.runtimeError(directory + "/runtime.log") : nil
            for name in ["work", "rootfs", "etc", "secrets", "binds", "config.json", "runtime.log"] {
                try? FileIO.removeTree(directory + "/" + name)
            }
            if outcome.cancelled { throw CancellationError() }
            if outcome.timedOut {
                throw RuntimeError.buildStepTimedOut(command: output.redact(step.shownCommand), seconds: step.timeout ?? 0, output: output.tail)
            }
            if let runtimeMessage {
                throw RuntimeError.runtimeFailed(runtime: runtime.name, command: "run", message: output.redact(runtimeMessage))
            }
            guard outcome.status == 0 else {
                throw RuntimeError.buildStepFailed(command: output.redact(step.shownCommand), exitCode: outcome.status, output: output.tail)
            }
            try BuildStepRoot.prune(directory + "/upper", excluded: prepared.excluded, excludedIfEmpty: prepared.excludedIfEmpty,
                                    copiedUp: prepared.copiedUp)
            return BuildStepResult(upperDirectory: directory + "/upper", directory: directory, excludedPaths: prepared.excluded,
                                   excludedIfEmpty: prepared.excludedIfEmpty, seconds: Date().timeIntervalSince(started),
                                   runtimeSeconds: runtimeSeconds)
        } catch {
            mounts.tearDown(runtime: runtime, containerID: containerID)
            try? FileIO.removeTree(directory)
            throw error
        }
    }

    // MARK: Preparation

    /// What `prepare` made: the secrets to redact and the layer's exclusions.
    struct Prepared {
        var secrets: [BuildSecret]
        var excluded: [String]
        var excludedIfEmpty: [String]
        /// Parents of mount points that the lower root has: overlay copies them up to make the
        /// mount points, and the runner drops those copies when nothing else changed them.
        var copiedUp: [DirectoryMetadata]
    }

    private func validate(_ step: BuildStep) throws {
        guard !step.lowerDirectories.isEmpty else {
            throw RuntimeError.badOption(option: "build step", reason: "it has no lower directory; give at least the base image's unpacked root")
        }
        for lower in step.lowerDirectories {
            var st = stat()
            guard stat(lower, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
                throw RuntimeError.badOption(option: "lower directory \(lower)", reason: "it is not a directory; unpack the stage's root there first")
            }
        }
        guard let first = step.arguments.first, !first.isEmpty else {
            throw RuntimeError.badOption(option: "RUN", reason: "it has no command; write the command after RUN")
        }
        guard step.workdir.hasPrefix("/") else {
            throw RuntimeError.badOption(option: "workdir \(step.workdir)", reason: "the working directory must be an absolute path")
        }
        if let timeout = step.timeout, !(timeout > 0) {
            throw RuntimeError.badOption(option: "timeout \(timeout)", reason: "a time limit must be a positive number of seconds")
        }
        var targets = Set<String>()
        for mount in step.mounts {
            let target = BuildStepRoot.normalized(mount.target)
            guard mount.target.hasPrefix("/"), target != "/" else {
                throw RuntimeError.badOption(option: "--mount target=\(mount.target)", reason: "a mount target must be an absolute path other than /")
            }
            guard targets.insert(target).inserted else {
                throw RuntimeError.badOption(option: "--mount target=\(mount.target)", reason: "two mounts of the step have this target; give each its own")
            }
            if case let .cache(id, _, _, _) = mount.kind, id.isEmpty {
                throw RuntimeError.badOption(option: "--mount type=cache", reason: "its id is empty; give an id or leave it out (the target is the default)")
            }
        }
    }

    private func makeStepDirectory() throws -> String {
        try FileIO.makeUniqueDirectory(in: scratchDirectory, prefix: "step-")
    }

    /// Mounts the root, writes the bundle, and works out what the layer leaves out.
    private func prepare(_ step: BuildStep, in dir: String, mounts: BuildStepMounts) throws -> Prepared {
        for sub in ["upper", "work", "rootfs", "etc"] { try FileIO.makeDirectories(dir + "/" + sub, mode: 0o755) }
        let rootfs = dir + "/rootfs"
        var namespace: NetworkNamespace.Creation?
        defer { try? namespace?.wait() }
        if step.network == .none {
            namespace = try mounts.makeNetworkNamespace(at: dir + "/netns")
        }
        try mounts.mountOverlay(lowers: step.lowerDirectories, upper: dir + "/upper", work: dir + "/work", at: rootfs)
        let user = try UserResolver.resolve(step.user, root: rootfs)
        let workdir = BuildStepRoot.normalized(step.workdir)
        if !BuildStepRoot.exists(workdir, in: rootfs) { try BuildStepRoot.makeDirectories(workdir, in: rootfs) }

        // The container's own files, bound in (as docker does): edits to them stay out of the layer.
        let hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t\(step.hostname)\n"
        try AtomicFileWriter.write(Data(hosts.utf8), to: dir + "/etc/hosts", durable: false)
        try AtomicFileWriter.write(Data((step.hostname + "\n").utf8), to: dir + "/etc/hostname", durable: false)
        try AtomicFileWriter.write(FileManager.default.contents(atPath: "/etc/resolv.conf") ?? Data(), to: dir + "/etc/resolv.conf", durable: false)
        var extra: [RuntimeSpec.Mount] = ["hosts", "hostname", "resolv.conf"].map {
            .init(destination: "/etc/" + $0, type: "bind", source: dir + "/etc/" + $0, options: ["rbind", "rprivate"])
        }
        var secrets: [BuildSecret] = []
        let secretBytes = step.mounts.reduce(Int64(0)) {
            if case let .secret(_, value, _, _, _) = $1.kind { return $0 + Int64(value.bytes.count) }
            return $0
        }
        if step.mounts.contains(where: { if case .secret = $0.kind { return true } else { return false } }) {
            try FileIO.makeDirectories(dir + "/secrets", mode: 0o700)
            try mounts.mountTmpfs(at: dir + "/secrets", bytes: secretBytes)
        }
        for (index, mount) in step.mounts.enumerated() {
            extra.append(try specMount(mount, index: index, dir: dir, mounts: mounts, secrets: &secrets))
        }
        // Parents before what is mounted inside them.
        extra = extra.enumerated().sorted {
            let a = $0.element.destination.split(separator: "/").count, b = $1.element.destination.split(separator: "/").count
            return a != b ? a < b : $0.offset < $1.offset
        }.map(\.element)

        // Mount targets never reach the layer; the parents the runtime will make for them do
        // not either, unless the command puts something there.
        let targets = (SpecDefaults.mounts + extra).map { BuildStepRoot.normalized($0.destination) }
        var missingParents = Set<String>()
        var existingParents: [String: DirectoryMetadata] = [:]
        for target in targets {
            for parent in BuildStepRoot.ancestors(of: target) where existingParents[parent] == nil {
                if let metadata = BuildStepRoot.directoryMetadata(parent, in: rootfs) {
                    existingParents[parent] = metadata
                } else {
                    missingParents.insert(parent)
                }
            }
        }
        let spec = buildSpec(step, user: user, workdir: workdir, mounts: SpecDefaults.mounts + extra, namespace: namespace?.path)
        try namespace?.wait()
        try AtomicFileWriter.write(spec.json.data, to: dir + "/config.json", durable: false)
        return Prepared(secrets: secrets, excluded: Array(Set(targets)).sorted(), excludedIfEmpty: missingParents.sorted(),
                        copiedUp: existingParents.values.sorted { $0.path < $1.path })
    }

    /// The runtime's mount for one of the step's, after making what it needs on the host.
    private func specMount(_ mount: BuildMount, index: Int, dir: String, mounts: BuildStepMounts,
                           secrets: inout [BuildSecret]) throws -> RuntimeSpec.Mount {
        let target = BuildStepRoot.normalized(mount.target)
        switch mount.kind {
        case let .bind(source, root, readWrite):
            var host = source
            if let root {
                host = try BuildStepRoot.resolve(source, in: root)
            } else {
                guard source.hasPrefix("/") else {
                    throw RuntimeError.badOption(option: "--mount type=bind,source=\(source)", reason: "a host source must be an absolute path (or be given with the root it is in)")
                }
            }
            var st = stat()
            guard stat(host, &st) == 0 else {
                throw RuntimeError.badOption(option: "--mount type=bind,source=\(source)", reason: "\(host) does not exist; fix the source path")
            }
            if readWrite {
                // Writes go to a throwaway layer, as BuildKit's: the source is never changed.
                let base = dir + "/binds/\(index)"
                try FileIO.makeDirectories(base, mode: 0o700)
                if (st.st_mode & S_IFMT) == S_IFDIR {
                    for sub in ["upper", "work", "merged"] { try FileIO.makeDirectories(base + "/" + sub, mode: 0o755) }
                    try mounts.mountOverlay(lowers: [host], upper: base + "/upper", work: base + "/work", at: base + "/merged")
                    host = base + "/merged"
                } else {
                    try FileManager.default.copyItem(atPath: host, toPath: base + "/file")
                    host = base + "/file"
                }
            }
            return .init(destination: target, type: "bind", source: host, options: ["rbind", "rprivate"] + (readWrite ? [] : ["ro"]))
        case let .cache(id, uid, gid, mode):
            let path = cacheDirectory + "/" + Digest.compute(Data(id.utf8)).encoded.prefix(32)
            if !FileIO.exists(path) {
                // Made beside and renamed, so a concurrent step never sees it half set up.
                let staging = path + ".tmp-" + FileIO.randomSuffix()
                guard mkdir(staging, 0o700) == 0 else { throw RuntimeError.io(path: staging, operation: "create directory", errno: errno) }
                _ = chown(staging, uid, gid)
                _ = chmod(staging, mode_t(mode & 0o7777))
                if rename(staging, path) != 0 { rmdir(staging) }
            }
            return .init(destination: target, type: "bind", source: path, options: ["rbind", "rprivate"])
        case let .tmpfs(size):
            return .init(destination: target, type: "tmpfs", source: "tmpfs",
                         options: ["nosuid", "nodev", "mode=1777"] + (size.map { ["size=\($0)"] } ?? []))
        case let .secret(_, value, uid, gid, mode):
            secrets.append(value)
            let path = dir + "/secrets/\(index)"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw RuntimeError.io(path: path, operation: "create", errno: errno) }
            defer { close(fd) }
            try value.bytes.withUnsafeBytes { try FileIO.writeAll(fd, $0, path: "secret \(index)") }
            guard fchown(fd, uid, gid) == 0, fchmod(fd, mode_t(mode & 0o7777)) == 0 else {
                throw RuntimeError.io(path: "secret file for \(target)", operation: "set the owner and mode of", errno: errno)
            }
            return .init(destination: target, type: "bind", source: path, options: ["rbind", "rprivate", "ro", "nosuid", "nodev", "noexec"])
        }
    }

    /// The OCI spec: docker's defaults for a build's RUN (its capabilities, masked paths and
    /// device rules; setuid programs such as sudo allowed, as docker build allows them).
    private func buildSpec(_ step: BuildStep, user: RuntimeSpec.User, workdir: String, mounts: [RuntimeSpec.Mount],
                           namespace: String?) -> RuntimeSpec {
        var order: [String] = []
        var values: [String: String] = [:]
        for entry in ["PATH=\(SpecDefaults.path)"] + step.environment {
            let name = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
            if values[name] == nil { order.append(name) }
            values[name] = entry
        }
        var namespaces: [RuntimeSpec.Namespace] = [.init(type: "pid"), .init(type: "ipc"), .init(type: "uts"), .init(type: "mount")]
        if let namespace { namespaces.append(.init(type: "network", path: namespace)) }
        let caps = SpecDefaults.capabilities
        return RuntimeSpec(
            ociVersion: "1.0.2",
            process: .init(terminal: false, user: user, args: step.arguments, env: order.compactMap { values[$0] }, cwd: workdir,
                           capabilities: .init(bounding: caps, effective: caps, permitted: caps, inheritable: []),
                           rlimits: [SpecBuilder.openFilesLimit()], noNewPrivileges: false),
            root: .init(path: "rootfs", readonly: false),
            hostname: step.hostname,
            mounts: mounts,
            linux: .init(namespaces: namespaces, maskedPaths: SpecDefaults.maskedPaths, readonlyPaths: SpecDefaults.readonlyPaths,
                         resources: .init(devices: [.init(allow: false, access: "rwm")])),
            annotations: nil)
    }

    /// The runtime's own error, when it logged one (it could not create or start the
    /// container); nil when the command ran and merely failed.
    static func runtimeError(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var last: String?
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  (object["level"] as? String) == "error", let msg = object["msg"] as? String else { continue }
            last = msg
        }
        return last
    }
}
