import Foundation

/// The shared config and credentials files together, located the AWS CLI's way:
/// AWS_CONFIG_FILE (default ~/.aws/config) and AWS_SHARED_CREDENTIALS_FILE
/// (default ~/.aws/credentials). A profile's keys are the config file's `[profile x]` merged
/// with the credentials file's `[x]`, the credentials file winning.
public struct AWSSharedConfig: Sendable {
    /// The parsed config file, if it exists.
    public let config: AWSConfigFile?
    /// The parsed credentials file, if it exists.
    public let credentials: AWSConfigFile?
    /// Where the config file is (or would be).
    public let configPath: String
    /// Where the credentials file is (or would be).
    public let credentialsPath: String

    /// Loads both files for `environment` and `home`. Throws only for unreadable files.
    public init(environment: [String: String], home: String) throws {
        configPath = Self.expand(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config", home: home)
        credentialsPath = Self.expand(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials", home: home)
        config = try AWSConfigFile.load(path: configPath)
        credentials = try AWSConfigFile.load(path: credentialsPath)
    }

    /// The profile `name` merged from both files, and the file to name in messages (the
    /// credentials file when it holds the profile, else the config file); nil when neither
    /// file has it.
    public func profile(_ name: String) -> (values: AWSConfigFile.Section, file: String)? {
        let fromConfig = config?.configProfile(name)
        let fromCredentials = credentials?.credentialsProfile(name)
        if fromConfig == nil && fromCredentials == nil { return nil }
        var merged = fromConfig ?? [:]
        for (k, v) in fromCredentials ?? [:] { merged[k] = v }
        let file = fromCredentials != nil ? credentialsPath : configPath
        return (merged, file)
    }

    /// The files a profile is looked up in, for messages.
    public var files: [String] { [configPath, credentialsPath] }

    /// `~` and `~/…` expanded against `home`.
    static func expand(_ path: String, home: String) -> String {
        if path == "~" { return home }
        if path.hasPrefix("~/") { return home + String(path.dropFirst(1)) }
        return path
    }
}
