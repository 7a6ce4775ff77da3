#if canImport(Glibc)
import Glibc
#endif
import OCI

/// Turns an image config plus `run` options into the OCI runtime spec, as docker would run it.
public enum SpecBuilder {
    /// The process arguments: docker's rule — `--entrypoint` replaces the Entrypoint and drops
    /// the image's Cmd; a command after the image replaces Cmd.
    public static func arguments(config: ImageConfig.Config?, options: RunOptions, image: String) throws -> [String] {
        let entrypoint = options.entrypoint ?? config?.Entrypoint ?? []
        let cmd = options.command ?? (options.entrypoint != nil ? [] : (config?.Cmd ?? []))
        let args = entrypoint + cmd
        guard let first = args.first, !first.isEmpty else {
            throw RuntimeError.noCommand(image: image)
        }
        return args
    }

    /// The environment: the image's, PATH if it has none, HOSTNAME, then `-e` values in order
    /// (a later NAME replaces an earlier one, keeping its position).
    public static func environment(config: ImageConfig.Config?, options: RunOptions, hostname: String) -> [String] {
        var order: [String] = []
        var values: [String: String] = [:]
        func set(_ entry: String) {
            let name = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
            if values[name] == nil { order.append(name) }
            values[name] = entry
        }
        set("PATH=\(SpecDefaults.path)")
        set("HOSTNAME=\(hostname)")
        for entry in config?.Env ?? [] { set(entry) }
        for entry in options.environment { set(entry) }
        return order.compactMap { values[$0] }
    }

    /// RLIMIT_NOFILE as high as this process may grant (a container cannot be given more).
    static func openFilesLimit() -> RuntimeSpec.RLimit {
        var limit = rlimit()
        let hard: UInt64 = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 ? UInt64(limit.rlim_max) : 1024
        let value = min(hard, 1_048_576)
        return .init(type: "RLIMIT_NOFILE", hard: value, soft: value)
    }

    public static func build(config: ImageConfig.Config?, options: RunOptions, image: String, rootfs: String,
                             hostname: String, networkNamespace: String?, etcFiles: [String: String]) throws -> RuntimeSpec {
        let args = try arguments(config: config, options: options, image: image)
        let user = try UserResolver.resolve(options.user ?? config?.User, root: rootfs)
        let caps = SpecDefaults.capabilities
        let cwd = options.workdir ?? config?.WorkingDir ?? "/"
        guard cwd.hasPrefix("/") else {
            throw RuntimeError.badOption(option: "workdir \(cwd)", reason: "the working directory must be an absolute path")
        }
        var mounts = SpecDefaults.mounts
        for (destination, source) in etcFiles.sorted(by: { $0.key < $1.key }) {
            mounts.append(.init(destination: destination, type: "bind", source: source, options: ["rbind", "rprivate"]))
        }
        for volume in options.volumes {
            mounts.append(.init(destination: volume.destination, type: "bind", source: volume.source,
                                options: ["rbind", "rprivate"] + (volume.readOnly ? ["ro"] : [])))
        }
        var namespaces: [RuntimeSpec.Namespace] = [
            .init(type: "pid"), .init(type: "ipc"), .init(type: "uts"), .init(type: "mount"),
        ]
        if let networkNamespace {
            namespaces.append(.init(type: "network", path: networkNamespace))
        }
        return RuntimeSpec(
            ociVersion: "1.0.2",
            process: .init(
                terminal: false, user: user, args: args,
                env: environment(config: config, options: options, hostname: hostname),
                cwd: PathText.normalized(cwd),
                capabilities: .init(bounding: caps, effective: caps, permitted: caps, inheritable: []),
                rlimits: [openFilesLimit()],
                noNewPrivileges: true),
            root: .init(path: "rootfs", readonly: options.readOnlyRoot),
            hostname: hostname,
            mounts: mounts,
            linux: .init(namespaces: namespaces, maskedPaths: SpecDefaults.maskedPaths,
                         readonlyPaths: SpecDefaults.readonlyPaths,
                         resources: .init(devices: [.init(allow: false, access: "rwm")])),
            annotations: nil)
    }
}
