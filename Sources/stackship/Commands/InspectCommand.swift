import ArgumentParser
import Foundation
import OCI
import Runtime

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show an image's manifest, config and layers, or a container as docker inspect does.",
        discussion: """
        REF is an image: a reference (hello, hello:1.0, ghcr.io/o/app@sha256:...), a manifest \
        digest, or a unique prefix of a manifest or image ID; or a container: its ID, a unique ID \
        prefix, or its name. A name that is both is taken for the image unless --type container \
        says otherwise. A container is printed as docker prints it: a JSON array with Id, Name, \
        State, Config, NetworkSettings.Ports and Mounts, under docker's field names.

        Examples:
          stackship inspect hello
          stackship inspect hello --json | jq .config.config.Env
          stackship inspect my-container | jq '.[0].State.Status'
          stackship inspect --type container hello
        """
    )

    @Argument(help: "The image to inspect.")
    var reference: String

    @Flag(name: .long, help: "Print the manifest and config as JSON.")
    var json = false

    @Option(help: "For a multi-platform index, the platform to show (default: this host's).")
    var platform: String?

    @Option(name: .long, help: ArgumentHelp("Inspect only an image or only a container (default: an image by that name, else a container).", valueName: "image|container"))
    var type: String?

    @OptionGroup var runtimeOptions: RuntimeOptions

    @OptionGroup var storeOptions: StoreOptions

    struct Report: Encodable {
        var name: String?
        var digest: Digest
        var mediaType: String
        var manifest: Manifest
        var config: ImageConfig
    }

    func run() throws {
        try CLI.run {
            guard type == nil || type == "image" || type == "container" else {
                throw ValidationError("--type must be image or container, not '\(type!)'")
            }
            // Images in the store, then the per-user store; containers in the host's state.
            let engine = try runtimeOptions.engine(storeOptions)
            let store: OCILayoutStore
            let entry: OCILayoutStore.Entry
            do {
                guard type != "container" else { throw OCIError.imageNotFound(reference, store: storeOptions.path()) }
                if engine.stores.isEmpty { _ = try storeOptions.open(create: false) } // says there is no store yet
                (store, entry) = try engine.resolve(image: reference)
            } catch {
                // Not an image (or --type container): a container by ID, prefix or name.
                guard type != "image", let container = try? engine.find(reference) else {
                    if type == "container" { _ = try engine.find(reference) }
                    throw error
                }
                print(try ContainerInspect.text([ContainerInspect.document(container, engine: engine)]))
                return
            }
            let wanted = try platform.map { try Platform(parsing: $0) } ?? .host
            let manifest = try store.manifest(for: entry.descriptor, platform: wanted)
            let config = try store.config(of: manifest)
            if json {
                let report = Report(name: entry.name, digest: entry.descriptor.digest, mediaType: entry.descriptor.mediaType, manifest: manifest, config: config)
                print(String(decoding: try CanonicalJSON.pretty(report), as: UTF8.self))
                return
            }
            var lines: [String] = []
            lines.append("Name:         \(entry.name ?? "<none>")")
            lines.append("Digest:       \(entry.descriptor.digest)")
            lines.append("Media type:   \(entry.descriptor.mediaType)")
            lines.append("Image ID:     \(manifest.config.digest)")
            lines.append("Platform:     \(config.platform)")
            lines.append("Created:      \(config.created ?? "-")")
            let c = config.config ?? ImageConfig.Config()
            if let e = c.Entrypoint { lines.append("Entrypoint:   \(e)") }
            if let cmd = c.Cmd { lines.append("Cmd:          \(cmd)") }
            if let w = c.WorkingDir { lines.append("Workdir:      \(w)") }
            if let u = c.User { lines.append("User:         \(u)") }
            if let s = c.StopSignal { lines.append("Stop signal:  \(s)") }
            if let p = c.ExposedPorts, !p.isEmpty { lines.append("Ports:        \(p.keys.sorted().joined(separator: ", "))") }
            for e in c.Env ?? [] { lines.append("Env:          \(e)") }
            for (k, v) in (c.Labels ?? [:]).sorted(by: { $0.key < $1.key }) { lines.append("Label:        \(k)=\(v)") }
            for (k, v) in (manifest.annotations ?? [:]).sorted(by: { $0.key < $1.key }) { lines.append("Annotation:   \(k)=\(v)") }
            lines.append("Layers:")
            for (i, layer) in manifest.layers.enumerated() {
                let diff = i < config.rootfs.diff_ids.count ? config.rootfs.diff_ids[i].description : "?"
                lines.append("  \(layer.digest)  \(Format.bytes(layer.size))  \(MediaType.compression(ofLayer: layer.mediaType).rawValue)  diffID \(diff)")
            }
            print(lines.joined(separator: "\n"))
        }
    }
}
