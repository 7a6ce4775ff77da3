import OCI

/// The part of the OCI runtime-spec `config.json` Stackship writes (runtime-spec 1.0.2, which
/// runc 1.1 and crun 1.8 both read). Field names are the spec's.
public struct RuntimeSpec: Codable, Hashable, Sendable {
    public struct User: Codable, Hashable, Sendable {
        public var uid: UInt32
        public var gid: UInt32
        public var additionalGids: [UInt32]?

        public init(uid: UInt32, gid: UInt32, additionalGids: [UInt32]? = nil) {
            self.uid = uid
            self.gid = gid
            self.additionalGids = additionalGids
        }
    }

    public struct Capabilities: Codable, Hashable, Sendable {
        public var bounding: [String]
        public var effective: [String]
        public var permitted: [String]
        public var inheritable: [String]
    }

    public struct RLimit: Codable, Hashable, Sendable {
        public var type: String
        public var hard: UInt64
        public var soft: UInt64
    }

    public struct Process: Codable, Hashable, Sendable {
        public var terminal: Bool
        public var user: User
        public var args: [String]
        public var env: [String]
        public var cwd: String
        public var capabilities: Capabilities
        public var rlimits: [RLimit]
        public var noNewPrivileges: Bool
    }

    public struct Root: Codable, Hashable, Sendable {
        public var path: String
        public var readonly: Bool
    }

    public struct Mount: Codable, Hashable, Sendable {
        public var destination: String
        public var type: String
        public var source: String
        public var options: [String]
    }

    public struct Namespace: Codable, Hashable, Sendable {
        public var type: String
        public var path: String?
    }

    public struct DeviceRule: Codable, Hashable, Sendable {
        public var allow: Bool
        public var access: String
    }

    public struct Resources: Codable, Hashable, Sendable {
        public var devices: [DeviceRule]
    }

    public struct Linux: Codable, Hashable, Sendable {
        public var namespaces: [Namespace]
        public var maskedPaths: [String]
        public var readonlyPaths: [String]
        public var resources: Resources
    }

    public var ociVersion: String
    public var process: Process
    public var root: Root
    public var hostname: String?
    public var mounts: [Mount]
    public var linux: Linux
    public var annotations: [String: String]?
}

extension RuntimeSpec {
    /// The spec as `config.json` text, written by hand (see JSONValue); RuntimeSpecTests checks
    /// that it decodes to the same spec.
    public var json: JSONValue {
        .members([
            ("ociVersion", .string(ociVersion)),
            ("process", .members([
                ("terminal", .bool(process.terminal)),
                ("user", .members([
                    ("uid", .uint(UInt64(process.user.uid))),
                    ("gid", .uint(UInt64(process.user.gid))),
                    ("additionalGids", process.user.additionalGids.map { .array($0.map { .uint(UInt64($0)) }) }),
                ])),
                ("args", .strings(process.args)),
                ("env", .strings(process.env)),
                ("cwd", .string(process.cwd)),
                ("capabilities", .members([
                    ("bounding", .strings(process.capabilities.bounding)),
                    ("effective", .strings(process.capabilities.effective)),
                    ("permitted", .strings(process.capabilities.permitted)),
                    ("inheritable", .strings(process.capabilities.inheritable)),
                ])),
                ("rlimits", .array(process.rlimits.map {
                    .members([("type", .string($0.type)), ("hard", .uint($0.hard)), ("soft", .uint($0.soft))])
                })),
                ("noNewPrivileges", .bool(process.noNewPrivileges)),
            ])),
            ("root", .members([("path", .string(root.path)), ("readonly", .bool(root.readonly))])),
            ("hostname", hostname.map { .string($0) }),
            ("mounts", .array(mounts.map {
                .members([("destination", .string($0.destination)), ("type", .string($0.type)),
                          ("source", .string($0.source)), ("options", .strings($0.options))])
            })),
            ("linux", .members([
                ("namespaces", .array(linux.namespaces.map {
                    .members([("type", .string($0.type)), ("path", $0.path.map { .string($0) })])
                })),
                ("maskedPaths", .strings(linux.maskedPaths)),
                ("readonlyPaths", .strings(linux.readonlyPaths)),
                ("resources", .members([
                    ("devices", .array(linux.resources.devices.map {
                        .members([("allow", .bool($0.allow)), ("access", .string($0.access))])
                    })),
                ])),
            ])),
            ("annotations", annotations.map { a in .object(a.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }) }),
        ])
    }
}
