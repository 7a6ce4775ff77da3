/// An empty JSON object, as the image config uses for sets (`{"80/tcp": {}}`).
public struct EmptyObject: Codable, Hashable, Sendable {
    public init() {}
}

/// The image configuration (OCI image-spec `config.json`, also Docker's).
public struct ImageConfig: Codable, Hashable, Sendable {
    /// The execution parameters a runtime uses by default. Members this type does not model
    /// (from a newer spec, or Docker's legacy ones) are kept in `unknown` and written back, so a
    /// base image's config survives a build on it whole.
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
        /// Docker's HEALTHCHECK.
        public var Healthcheck: HealthcheckConfig?
        /// Docker's SHELL.
        public var Shell: [String]?
        /// Docker's ONBUILD triggers (kept, not run: stackship builds run no Dockerfile steps).
        public var OnBuild: [String]?
        /// Every other member, as read.
        public var unknown: [String: AnyJSON] = [:]

        public init() {}

        /// Docker's health check: the command and its timing (nanoseconds).
        public struct HealthcheckConfig: Codable, Hashable, Sendable {
            public var Test: [String]?
            public var Interval: Int64?
            public var Timeout: Int64?
            public var StartPeriod: Int64?
            public var StartInterval: Int64?
            public var Retries: Int?

            public init(Test: [String]? = nil, Interval: Int64? = nil, Timeout: Int64? = nil, StartPeriod: Int64? = nil, StartInterval: Int64? = nil, Retries: Int? = nil) {
                self.Test = Test
                self.Interval = Interval
                self.Timeout = Timeout
                self.StartPeriod = StartPeriod
                self.StartInterval = StartInterval
                self.Retries = Retries
            }
        }

        static let known: Set<String> = ["User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels",
                                         "StopSignal", "ArgsEscaped", "Healthcheck", "Shell", "OnBuild"]

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: AnyCodingKey.self)
            func get<T: Decodable>(_ key: String) throws -> T? { try c.decodeIfPresent(T.self, forKey: AnyCodingKey(key)) }
            User = try get("User")
            ExposedPorts = try get("ExposedPorts")
            Env = try get("Env")
            Entrypoint = try get("Entrypoint")
            Cmd = try get("Cmd")
            Volumes = try get("Volumes")
            WorkingDir = try get("WorkingDir")
            Labels = try get("Labels")
            StopSignal = try get("StopSignal")
            ArgsEscaped = try get("ArgsEscaped")
            self.Healthcheck = try get("Healthcheck")
            Shell = try get("Shell")
            OnBuild = try get("OnBuild")
            for key in c.allKeys where !Self.known.contains(key.stringValue) {
                unknown[key.stringValue] = try c.decode(AnyJSON.self, forKey: key)
            }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: AnyCodingKey.self)
            func put<T: Encodable>(_ value: T?, _ key: String) throws { try c.encodeIfPresent(value, forKey: AnyCodingKey(key)) }
            try put(User, "User")
            try put(ExposedPorts, "ExposedPorts")
            try put(Env, "Env")
            try put(Entrypoint, "Entrypoint")
            try put(Cmd, "Cmd")
            try put(Volumes, "Volumes")
            try put(WorkingDir, "WorkingDir")
            try put(Labels, "Labels")
            try put(StopSignal, "StopSignal")
            try put(ArgsEscaped, "ArgsEscaped")
            try put(self.Healthcheck, "Healthcheck")
            try put(Shell, "Shell")
            try put(OnBuild, "OnBuild")
            for (key, value) in unknown where !Self.known.contains(key) { try c.encode(value, forKey: AnyCodingKey(key)) }
        }
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
    /// `os.version` and `os.features` (the OCI spec's, for Windows images mostly).
    public var osVersion: String?
    public var osFeatures: [String]?
    public var config: Config?
    public var rootfs: RootFS
    public var history: [History]?
    /// Every other top-level member, as read (Docker's `container_config`, a newer spec's).
    public var unknown: [String: AnyJSON] = [:]

    static let known: Set<String> = ["created", "author", "architecture", "os", "variant", "os.version", "os.features", "config", "rootfs", "history"]

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        func get<T: Decodable>(_ key: String) throws -> T? { try c.decodeIfPresent(T.self, forKey: AnyCodingKey(key)) }
        created = try get("created")
        author = try get("author")
        architecture = try c.decode(String.self, forKey: AnyCodingKey("architecture"))
        os = try c.decode(String.self, forKey: AnyCodingKey("os"))
        variant = try get("variant")
        osVersion = try get("os.version")
        osFeatures = try get("os.features")
        config = try get("config")
        rootfs = try c.decode(RootFS.self, forKey: AnyCodingKey("rootfs"))
        history = try get("history")
        for key in c.allKeys where !Self.known.contains(key.stringValue) {
            unknown[key.stringValue] = try c.decode(AnyJSON.self, forKey: key)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        func put<T: Encodable>(_ value: T?, _ key: String) throws { try c.encodeIfPresent(value, forKey: AnyCodingKey(key)) }
        try put(created, "created")
        try put(author, "author")
        try put(architecture, "architecture")
        try put(os, "os")
        try put(variant, "variant")
        try put(osVersion, "os.version")
        try put(osFeatures, "os.features")
        try put(config, "config")
        try put(rootfs, "rootfs")
        try put(history, "history")
        for (key, value) in unknown where !Self.known.contains(key) { try c.encode(value, forKey: AnyCodingKey(key)) }
    }

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
        osVersion = try o["os.version"]?.string()
        osFeatures = try o["os.features"]?.strings()
        for (key, value) in o.members where !Self.known.contains(key) { unknown[key] = AnyJSON(value) }
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
        Shell = try o["Shell"]?.strings()
        OnBuild = try o["OnBuild"]?.strings()
        if let h = try o["Healthcheck"]?.object() {
            self.Healthcheck = HealthcheckConfig(Test: try h["Test"]?.strings(), Interval: try h["Interval"]?.int64(), Timeout: try h["Timeout"]?.int64(),
                                                 StartPeriod: try h["StartPeriod"]?.int64(), StartInterval: try h["StartInterval"]?.int64(),
                                                 Retries: try h["Retries"]?.int())
        }
        for (key, value) in o.members where !Self.known.contains(key) { unknown[key] = AnyJSON(value) }
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
