/// An empty JSON object, as the image config uses for sets (`{"80/tcp": {}}`).
public struct EmptyObject: Codable, Hashable, Sendable {
    public init() {}
}

/// The image configuration (OCI image-spec `config.json`, also Docker's).
public struct ImageConfig: Codable, Hashable, Sendable {
    /// The execution parameters a runtime uses by default.
    public struct Config: Codable, Hashable, Sendable {
        public var User: String?
        public var ExposedPorts: [String: EmptyObject]?
        public var Env: [String]?
        public var Entrypoint: [String]?
        public var Cmd: [String]?
        public var Volumes: [String: EmptyObject]?
        public var WorkingDir: String?
        public var Labels: [String: String]?
        public var StopSignal: String?
        public var ArgsEscaped: Bool?

        public init() {}
    }

    /// The layer diffIDs (digests of the uncompressed tars), bottom first.
    public struct RootFS: Codable, Hashable, Sendable {
        public var type: String = "layers"
        public var diff_ids: [Digest]

        public init(diffIDs: [Digest]) { self.diff_ids = diffIDs }
    }

    /// One step of the image's history.
    public struct History: Codable, Hashable, Sendable {
        public var created: String?
        public var created_by: String?
        public var author: String?
        public var comment: String?
        public var empty_layer: Bool?

        public init(created: String?, createdBy: String?, comment: String? = nil, emptyLayer: Bool? = nil) {
            self.created = created
            self.created_by = createdBy
            self.comment = comment
            self.empty_layer = emptyLayer
        }
    }

    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var variant: String?
    public var config: Config?
    public var rootfs: RootFS
    public var history: [History]?

    public init(platform: Platform, created: String?, config: Config?, diffIDs: [Digest], history: [History]?) {
        self.created = created
        self.architecture = platform.architecture
        self.os = platform.os
        self.variant = platform.variant
        self.config = config
        self.rootfs = RootFS(diffIDs: diffIDs)
        self.history = history
    }

    /// The platform this config declares.
    public var platform: Platform {
        var p = Platform(os: os, architecture: architecture)
        p.variant = variant
        return p
    }
}
