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

extension ImageConfig: JSONReadable {
    public init(json: JSONValue) throws {
        let o = try json.object()
        let rootfs = try o.required("rootfs").object()
        var diffIDs: [Digest] = []
        for item in try rootfs.required("diff_ids").array() { diffIDs.append(try Digest(parsing: try item.string())) }
        var platform = Platform(os: try o.required("os").string(), architecture: try o.required("architecture").string())
        platform.variant = try o["variant"]?.string()
        var history: [History]?
        if let items = try o["history"]?.array() {
            history = []
            for item in items {
                let h = try item.object()
                var step = History(created: try h["created"]?.string(), createdBy: try h["created_by"]?.string(),
                                   comment: try h["comment"]?.string(), emptyLayer: try h["empty_layer"]?.bool())
                step.author = try h["author"]?.string()
                history!.append(step)
            }
        }
        self.init(platform: platform, created: try o["created"]?.string(), config: try o["config"].map { try Config(json: $0) },
                  diffIDs: diffIDs, history: history)
        self.rootfs.type = try rootfs.required("type").string()
        author = try o["author"]?.string()
    }
}

extension ImageConfig.Config {
    init(json: JSONValue) throws {
        let o = try json.object()
        self.init()
        User = try o["User"]?.string()
        ExposedPorts = try o["ExposedPorts"].map(Self.set)
        Env = try o["Env"]?.strings()
        Entrypoint = try o["Entrypoint"]?.strings()
        Cmd = try o["Cmd"]?.strings()
        Volumes = try o["Volumes"].map(Self.set)
        WorkingDir = try o["WorkingDir"]?.string()
        Labels = try o["Labels"]?.stringMap()
        StopSignal = try o["StopSignal"]?.string()
        ArgsEscaped = try o["ArgsEscaped"]?.bool()
    }

    /// `{"80/tcp": {}}`: only empty objects as values (anything else, JSONDecoder judges).
    private static func set(_ json: JSONValue) throws -> [String: EmptyObject] {
        var out: [String: EmptyObject] = [:]
        for (key, value) in try json.object().members {
            guard case .object(let inner) = value, inner.isEmpty else { throw JSONReader.Declined() }
            out[key] = EmptyObject()
        }
        return out
    }
}
