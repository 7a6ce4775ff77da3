/// An image manifest (OCI, or Docker schema 2 when read).
public struct Manifest: Codable, Hashable, Sendable {
    public var schemaVersion: Int = 2
    public var mediaType: String?
    public var artifactType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(mediaType: String? = MediaType.ociManifest, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

/// An image index (OCI), or a Docker manifest list when read.
public struct Index: Codable, Hashable, Sendable {
    public var schemaVersion: Int = 2
    public var mediaType: String?
    public var artifactType: String?
    public var manifests: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(mediaType: String? = MediaType.ociIndex, manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }
}

extension Manifest: JSONReadable {
    public init(json: JSONValue) throws {
        let o = try json.object()
        self.init(mediaType: try o["mediaType"]?.string(), config: try Descriptor(json: try o.required("config")),
                  layers: try Descriptor.list(o.required("layers")), annotations: try o["annotations"]?.stringMap())
        schemaVersion = try o.required("schemaVersion").int()
        artifactType = try o["artifactType"]?.string()
        subject = try o["subject"].map { try Descriptor(json: $0) }
    }
}

extension Index: JSONReadable {
    public init(json: JSONValue) throws {
        let o = try json.object()
        self.init(mediaType: try o["mediaType"]?.string(), manifests: try Descriptor.list(o.required("manifests")),
                  annotations: try o["annotations"]?.stringMap())
        schemaVersion = try o.required("schemaVersion").int()
        artifactType = try o["artifactType"]?.string()
        subject = try o["subject"].map { try Descriptor(json: $0) }
    }
}

extension Descriptor {
    static func list(_ json: JSONValue) throws -> [Descriptor] {
        var out: [Descriptor] = []
        for item in try json.array() { out.append(try Descriptor(json: item)) }
        return out
    }
}
