#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
import Runtime

/// `stackship inspect CONTAINER`: the container as `docker inspect` shows one, with docker's
/// field names where Stackship has the fact (a JSON array of one object).
///
/// Read from the container's state, its runtime spec (`config.json`: the environment, working
/// directory and bind mounts it really has) and its image's config in the store (exposed ports).
enum ContainerInspect {
    static func document(_ state: ContainerState, engine: ContainerEngine) -> [String: Any] {
        let spec = FileManager.default.contents(atPath: engine.directory(of: state.id) + "/config.json")
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        let process = spec?["process"] as? [String: Any]
        let image = imageConfig(state, stores: engine.stores)
        let entrypoint = state.entrypoint ?? image?.config?.Entrypoint ?? []
        let hasEntrypoint = !entrypoint.isEmpty && state.command.starts(with: entrypoint)
        let cmd = hasEntrypoint ? Array(state.command.dropFirst(entrypoint.count)) : state.command

        var ports: [String: Any] = [:]
        for port in image?.config?.ExposedPorts?.keys.sorted() ?? [] { ports[port] = NSNull() }
        for mapping in state.ports {
            let key = "\(mapping.containerPort)/tcp"
            var bindings = ports[key] as? [[String: String]] ?? []
            bindings.append(["HostIp": mapping.hostIP, "HostPort": String(mapping.hostPort)])
            ports[key] = bindings
        }
        var exposed: [String: Any] = [:]
        for port in (image?.config?.ExposedPorts ?? [:]).keys { exposed[port] = [String: Any]() }
        for mapping in state.ports { exposed["\(mapping.containerPort)/tcp"] = [String: Any]() }

        // The user's own mounts: binds from outside the container's folder (its /etc files are
        // Stackship's, as docker's resolv.conf and hosts are not listed either).
        let folder = engine.directory(of: state.id) + "/"
        let mounts: [[String: Any]] = (spec?["mounts"] as? [[String: Any]] ?? []).compactMap { mount in
            guard mount["type"] as? String == "bind", let source = mount["source"] as? String, !source.hasPrefix(folder),
                  let destination = mount["destination"] as? String else { return nil }
            let options = mount["options"] as? [String] ?? []
            let readOnly = options.contains("ro")
            return ["Type": "bind", "Source": source, "Destination": destination, "Mode": readOnly ? "ro" : "",
                    "RW": !readOnly, "Propagation": options.first { $0.hasSuffix("private") || $0.hasSuffix("shared") || $0.hasSuffix("slave") } ?? "rprivate"]
        }

        let running = state.status == .running
        var config: [String: Any] = [
            "Image": state.image,
            "Cmd": cmd,
            "Entrypoint": hasEntrypoint ? entrypoint as Any : NSNull(),
            "Env": process?["env"] as? [String] ?? image?.config?.Env ?? [],
            "WorkingDir": process?["cwd"] as? String ?? image?.config?.WorkingDir ?? "",
            "User": state.user ?? image?.config?.User ?? "",
            "ExposedPorts": exposed.isEmpty ? NSNull() : exposed,
            "Labels": state.labels,
            "Tty": state.tty ?? false,
            "OpenStdin": state.interactive ?? false,
            "AttachStdin": state.interactive ?? false,
        ]
        if let hostname = spec?["hostname"] as? String { config["Hostname"] = hostname }
        if let stop = state.stopSignal { config["StopSignal"] = stop }

        return [
            "Id": state.id,
            "Created": rfc3339(state.created),
            "Path": state.command.first ?? "",
            "Args": Array(state.command.dropFirst()),
            "State": [
                "Status": state.status.rawValue,
                "Running": running,
                "Paused": false,
                "Restarting": false,
                "OOMKilled": false,
                "Dead": false,
                "Pid": running ? Int(state.pid ?? 0) : 0,
                "ExitCode": Int(state.exitCode ?? 0),
                "Error": state.error ?? "",
                "StartedAt": state.startedAt.map(rfc3339) ?? "0001-01-01T00:00:00Z",
                "FinishedAt": state.finishedAt.map(rfc3339) ?? "0001-01-01T00:00:00Z",
            ] as [String: Any],
            "Image": image.map { _ in imageID(state, stores: engine.stores) ?? state.imageDigest } ?? state.imageDigest,
            "Name": "/" + state.name,
            "Driver": "overlay",
            "LogPath": engine.logPath(of: state.id),
            "HostConfig": [
                "NetworkMode": state.network == .isolated ? "isolated" : state.network.rawValue,
                "AutoRemove": state.autoRemove,
                "ReadonlyRootfs": (spec?["root"] as? [String: Any])?["readonly"] as? Bool ?? false,
                "Runtime": (state.runtime as NSString).lastPathComponent,
                "PortBindings": Dictionary(grouping: state.ports, by: { "\($0.containerPort)/tcp" }).mapValues { list in
                    list.map { ["HostIp": $0.hostIP, "HostPort": String($0.hostPort)] }
                },
            ] as [String: Any],
            "Config": config,
            "NetworkSettings": ["Ports": ports] as [String: Any],
            "Mounts": mounts,
        ]
    }

    /// The container's image config, from the first of `stores` holding its image (by digest:
    /// the container may have been started from another folder's store, which it names).
    static func imageConfig(_ state: ContainerState, stores: [OCILayoutStore]) -> ImageConfig? {
        guard let (store, manifest) = manifest(state, stores: stores) else { return nil }
        return try? store.config(of: manifest)
    }

    /// docker's `Image`: the image ID (the config digest).
    static func imageID(_ state: ContainerState, stores: [OCILayoutStore]) -> String? {
        manifest(state, stores: stores)?.manifest.config.digest.description
    }

    static func manifest(_ state: ContainerState, stores: [OCILayoutStore]) -> (store: OCILayoutStore, manifest: Manifest)? {
        var stores = stores
        if let path = state.imageStore, !stores.contains(where: { $0.root == path }), let store = try? OCILayoutStore(root: path, create: false) {
            stores.append(store)
        }
        for store in stores {
            if let entry = try? store.resolve(state.imageDigest), let manifest = try? store.manifest(for: entry.descriptor) { return (store, manifest) }
        }
        return nil
    }

    /// docker's timestamps: RFC 3339 in UTC with nanoseconds (`2026-12-05T08:03:18.123456789Z`).
    static func rfc3339(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&whole, &parts)
        let nanos = Int(((seconds - Double(whole)) * 1_000_000_000).rounded(.down))
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), nanos)
    }

    /// The document as `docker inspect` prints it: a JSON array, indented, slashes as they are.
    static func text(_ documents: [[String: Any]]) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: documents, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
