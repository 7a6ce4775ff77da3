import Foundation

/// Hands out credentials to the clients: fixed ones, or the standard chain resolved on first
/// use and again when temporary credentials come within five minutes of expiring.
public actor AWSCredentialProvider {
    private let resolver: @Sendable () async throws -> AWSCredentials
    private let refreshes: Bool
    private var cached: AWSCredentials?

    /// Always `credentials`.
    public init(credentials: AWSCredentials) {
        self.resolver = { credentials }
        self.refreshes = false
        self.cached = credentials
    }

    /// The standard chain (`AWSCredentialChain.resolve`) for `profile`, `environment`, `home`.
    public init(profile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
                home: String = NSHomeDirectory()) {
        self.resolver = { try await AWSCredentialChain.resolve(profile: profile, environment: environment, home: home) }
        self.refreshes = true
    }

    /// The current credentials, resolving or refreshing them when needed.
    public func credentials() async throws -> AWSCredentials {
        if let cached, !refreshes || !cached.expires(within: 300) { return cached }
        let fresh = try await resolver()
        cached = fresh
        return fresh
    }
}
