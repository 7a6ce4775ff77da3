/// A platform as the build arguments describe it (`linux/arm64/v8`).
public struct BuildPlatform: Sendable, Hashable, CustomStringConvertible {
    /// The operating system, such as `linux`.
    public var os: String
    /// The architecture in Go's names, such as `amd64` or `arm64`.
    public var architecture: String
    /// The variant, such as `v7`; `nil` when there is none.
    public var variant: String?

    /// Creates a platform.
    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Reads `os/arch[/variant]`; `nil` for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }

    /// The platform this program runs on (Linux, with Go's name for the CPU).
    public static var host: BuildPlatform {
        #if arch(x86_64)
        return BuildPlatform(os: "linux", architecture: "amd64")
        #elseif arch(arm64)
        return BuildPlatform(os: "linux", architecture: "arm64")
        #elseif arch(arm)
        return BuildPlatform(os: "linux", architecture: "arm", variant: "v7")
        #elseif arch(i386)
        return BuildPlatform(os: "linux", architecture: "386")
        #elseif arch(s390x)
        return BuildPlatform(os: "linux", architecture: "s390x")
        #elseif arch(powerpc64le)
        return BuildPlatform(os: "linux", architecture: "ppc64le")
        #else
        return BuildPlatform(os: "linux", architecture: "amd64")
        #endif
    }

    /// `os/arch` or `os/arch/variant`.
    public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }
}

/// What `docker build` is told besides the Dockerfile: `--build-arg`s, `--target`, platforms.
public struct BuildOptions: Sendable, Hashable {
    /// `--build-arg NAME=value`, by name.
    public var buildArguments: [String: String]
    /// `--target`: the stage to build; `nil` builds the last stage.
    public var target: String?
    /// `--platform`: the platform of the result (TARGETPLATFORM and friends).
    public var targetPlatform: BuildPlatform
    /// The platform building it (BUILDPLATFORM and friends).
    public var buildPlatform: BuildPlatform

    /// Creates options; platforms default to this machine's.
    public init(buildArguments: [String: String] = [:], target: String? = nil,
                targetPlatform: BuildPlatform = .host, buildPlatform: BuildPlatform = .host) {
        self.buildArguments = buildArguments
        self.target = target
        self.targetPlatform = targetPlatform
        self.buildPlatform = buildPlatform
    }

    /// The build arguments Docker knows without an ARG: the proxy variables (passed to RUN
    /// but kept out of the image history) and the automatic platform ones.
    public static let predefinedArguments: Set<String> = [
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy",
        "ALL_PROXY", "all_proxy",
        "BUILDPLATFORM", "BUILDOS", "BUILDOSVERSION", "BUILDARCH", "BUILDVARIANT",
        "TARGETPLATFORM", "TARGETOS", "TARGETOSVERSION", "TARGETARCH", "TARGETVARIANT", "TARGETSTAGE",
        "BUILDKIT_BUILD_NAME", "BUILDKIT_CACHE_MOUNT_NS", "BUILDKIT_CONTEXT_KEEP_GIT_DIR", "BUILDKIT_INLINE_CACHE",
        "BUILDKIT_MULTI_PLATFORM", "BUILDKIT_SANDBOX_HOSTNAME", "BUILDKIT_SYNTAX", "SOURCE_DATE_EPOCH",
    ]

    /// The proxy variables among the predefined arguments.
    public static let proxyArguments: [String] = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
                                                   "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"]

    /// One `--build-arg` as docker reads it: `NAME=value`, or `NAME` alone to take the value from
    /// `environment` (`nil` when the environment lacks it: docker then drops the argument).
    public static func parseBuildArgument(_ text: String, environment: [String: String]) throws(DockerfileError) -> (name: String, value: String?) {
        if let equals = text.firstIndex(of: "=") {
            let name = String(text[..<equals])
            guard !name.isEmpty else { throw .invalidBuildArgument(text) }
            return (name, String(text[text.index(after: equals)...]))
        }
        guard !text.isEmpty else { throw .invalidBuildArgument(text) }
        return (text, environment[text])
    }
}
