import Foundation

/// The one walk over an image's graph: an index's children, a manifest's config and layers.
public enum ImageGraph {
    /// The descriptors `root` reaches (itself included), each once, parents before children.
    /// `read` returns a manifest's or index's bytes; it is called for those only, and a child
    /// it cannot read is an error unless `skipMissing` says to leave it out.
    public static func reachable(from roots: [Descriptor], read: (Descriptor) throws -> Data?) throws -> [Descriptor] {
        var out: [Descriptor] = []
        var seen = Set<Digest>()
        var pending = Array(roots.reversed())
        while let d = pending.popLast() {
            guard seen.insert(d.digest).inserted else { continue }
            out.append(d)
            guard MediaType.isManifest(d.mediaType) || MediaType.isIndex(d.mediaType), let data = try read(d) else { continue }
            let probe = try CanonicalJSON.decode(MediaTypeProbe.self, from: data, what: "manifest \(d.digest)")
            let children = [probe.config].compactMap { $0 } + (probe.layers ?? []) + (probe.manifests ?? [])
            pending.append(contentsOf: children.reversed())
        }
        return out
    }

    /// The blobs an image manifest references: its config, then its layers.
    public static func blobs(of manifest: Manifest) -> [Descriptor] {
        [manifest.config] + manifest.layers
    }
}
