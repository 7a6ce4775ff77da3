import Foundation

/// Which AWS region to talk to: an explicit value (e.g. `--region`), else AWS_REGION, else
/// AWS_DEFAULT_REGION, else the selected profile's `region` (profile from the parameter, else
/// AWS_PROFILE, else "default").
public enum AWSRegion {
    /// The region, or nil when none is configured anywhere.
    public static func find(explicit: String? = nil, profile: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            home: String = NSHomeDirectory()) throws -> String? {
        if let explicit, !explicit.isEmpty { return explicit }
        for key in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
            if let value = environment[key], !value.isEmpty { return value }
        }
        let name = profile ?? nonEmpty(environment["AWS_PROFILE"]) ?? "default"
        let shared = try AWSSharedConfig(environment: environment, home: home)
        if let region = shared.profile(name)?.values["region"], !region.isEmpty { return region }
        return nil
    }

    /// The region; throws `AWSError.noRegion` when none is configured.
    public static func resolve(explicit: String? = nil, profile: String? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment,
                               home: String = NSHomeDirectory()) throws -> String {
        guard let region = try find(explicit: explicit, profile: profile, environment: environment, home: home) else {
            throw AWSError.noRegion(profile: profile ?? nonEmpty(environment["AWS_PROFILE"]))
        }
        return region
    }

    static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }
}
