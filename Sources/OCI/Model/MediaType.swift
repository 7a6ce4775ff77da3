/// Media types of the OCI image spec and of Docker's schema 2 (read, and written only for
/// docker-archive output).
public enum MediaType {
    public static let ociLayout = "application/vnd.oci.layout.header.v1+json"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let ociEmpty = "application/vnd.oci.empty.v1+json"

    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerLayerForeign = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    /// True for an image manifest of either family.
    public static func isManifest(_ type: String) -> Bool {
        type == ociManifest || type == dockerManifest
    }

    /// True for an index or a Docker manifest list.
    public static func isIndex(_ type: String) -> Bool {
        type == ociIndex || type == dockerManifestList
    }

    /// True for a layer media type of either family.
    public static func isLayer(_ type: String) -> Bool {
        type.hasPrefix("application/vnd.oci.image.layer.") || type.hasPrefix("application/vnd.docker.image.rootfs.")
    }

    /// The compression of a layer media type stackship can read, or nil for any other type
    /// (an unknown compression, an encrypted layer, an artifact's blob): such a layer is
    /// refused by name, never read as a plain tar.
    public static func layerCompression(_ type: String) -> Compression? {
        switch type {
        case ociLayer, "application/vnd.oci.image.layer.nondistributable.v1.tar", "application/vnd.docker.image.rootfs.diff.tar":
            return Compression.none
        case ociLayerGzip, "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", dockerLayerGzip, dockerLayerForeign:
            return .gzip
        case ociLayerZstd, "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", "application/vnd.docker.image.rootfs.diff.tar.zstd":
            return .zstd
        default:
            return nil
        }
    }

    /// The compression a layer media type implies, leniently (for display): see
    /// `layerCompression` for the strict form that reading a layer uses.
    public static func compression(ofLayer type: String) -> Compression {
        if type.hasSuffix("+zstd") || type.hasSuffix(".zstd") { return .zstd }
        if type.hasSuffix("+gzip") || type.hasSuffix(".gzip") { return .gzip }
        return .none
    }

    /// The OCI layer media type for `compression`.
    public static func ociLayer(_ compression: Compression) -> String {
        switch compression {
        case .none: return ociLayer
        case .gzip: return ociLayerGzip
        case .zstd: return ociLayerZstd
        }
    }
}

/// A layer's compression.
public enum Compression: String, Sendable, CaseIterable, Codable {
    case none
    case gzip
    case zstd

    /// Sniffs the compression from a blob's first bytes (gzip 1f8b, zstd 28b52ffd).
    public static func sniff(_ prefix: some Collection<UInt8>) -> Compression {
        let b = Array(prefix.prefix(4))
        if b.count >= 2 && b[0] == 0x1f && b[1] == 0x8b { return .gzip }
        if b.count >= 4 && b == [0x28, 0xb5, 0x2f, 0xfd] { return .zstd }
        return .none
    }
}
