/// The platform an image runs on: `os/architecture[/variant]`.
public struct Platform: Codable, Hashable, Sendable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String?
    public var osVersion: String?
    public var osFeatures: [String]?

    enum CodingKeys: String, CodingKey {
        case os, architecture, variant
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// Parses `linux/amd64`, `linux/arm64/v8`; normalises Go/uname spellings (x86_64, aarch64).
    public init(parsing string: String) throws {
        let parts = string.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" } }) else {
            throw OCIError.invalidPlatform(string)
        }
        os = parts[0].lowercased()
        architecture = Self.normalize(architecture: parts[1].lowercased())
        variant = parts.count == 3 ? parts[2].lowercased() : nil
        if architecture == "arm64" && variant == "v8" { variant = nil }
    }

    /// The platform this process runs on.
    public static var host: Platform {
        #if arch(x86_64)
        return Platform(os: "linux", architecture: "amd64")
        #elseif arch(arm64)
        return Platform(os: "linux", architecture: "arm64")
        #else
        return Platform(os: "linux", architecture: "unknown")
        #endif
    }

    public var description: String {
        [os, architecture, variant].compactMap { $0 }.joined(separator: "/")
    }

    static func normalize(architecture: String) -> String {
        switch architecture {
        case "x86_64", "x86-64": return "amd64"
        case "aarch64": return "arm64"
        case "armhf": return "arm"
        case "i386", "i686": return "386"
        default: return architecture
        }
    }

    /// True when an image for `self` runs on `wanted` (variant ignored when `wanted` has none).
    public func matches(_ wanted: Platform) -> Bool {
        os == wanted.os && architecture == wanted.architecture && (wanted.variant == nil || variant == wanted.variant)
    }
}

extension Platform: JSONReadable {
    public init(json: JSONValue) throws {
        let o = try json.object()
        self.init(os: try o.required("os").string(), architecture: try o.required("architecture").string(), variant: try o["variant"]?.string())
        osVersion = try o["os.version"]?.string()
        osFeatures = try o["os.features"]?.strings()
    }
}
