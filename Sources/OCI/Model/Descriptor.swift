/// An OCI content descriptor: what a blob is, its digest and its size.
public struct Descriptor: Codable, Hashable, Sendable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var urls: [String]?
    public var annotations: [String: String]?
    public var platform: Platform?
    public var artifactType: String?

    public init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil, platform: Platform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }
}

/// Annotation keys the image spec predefines and that stackship sets or reads.
public enum AnnotationKey {
    public static let refName = "org.opencontainers.image.ref.name"
    public static let created = "org.opencontainers.image.created"
    public static let title = "org.opencontainers.image.title"
    public static let source = "org.opencontainers.image.source"
    public static let revision = "org.opencontainers.image.revision"
    public static let version = "org.opencontainers.image.version"
    public static let baseName = "org.opencontainers.image.base.name"
    public static let baseDigest = "org.opencontainers.image.base.digest"
    /// containerd's full image name, which `docker load` of an OCI layout reads.
    public static let containerdImageName = "io.containerd.image.name"
}

extension Descriptor: JSONReadable {
    public init(json: JSONValue) throws {
        let o = try json.object()
        self.init(mediaType: try o.required("mediaType").string(), digest: try Digest(parsing: try o.required("digest").string()),
                  size: try o.required("size").int64(), annotations: try o["annotations"]?.stringMap(),
                  platform: try o["platform"].map { try Platform(json: $0) })
        urls = try o["urls"]?.strings()
        artifactType = try o["artifactType"]?.string()
    }
}
