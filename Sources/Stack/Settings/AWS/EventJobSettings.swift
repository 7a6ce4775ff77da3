import Foundation
import Support

/// An S3 bucket whose uploads run a container-image Lambda function.
///
/// ```yaml
/// event_job:
///   image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/convert@sha256:…   # required, ECR, by digest
///   prefix: incoming/                # only keys under this prefix (optional)
///   suffix: .csv                     # only keys with this suffix (optional)
///   output_prefix: results/          # the job may write (and only there) under this prefix of the
///                                    # same bucket; the function gets it as OUTPUT_PREFIX (and the
///                                    # bucket as OUTPUT_BUCKET). It must not overlap `prefix`.
///   memory: 1024                     # MiB, 128-10240 (default 1024)
///   timeout_seconds: 300             # 1-900 (default 300)
///   architecture: x86_64             # or arm64
///   environment: {OUTPUT: results/}
///   expire_after_days: 30            # delete uploads after N days (optional)
///   log_retention_days: 30
/// ```
public struct EventJobSettings: Sendable, Hashable, SettingsSection {
    /// The function's image, in ECR, by digest.
    public var image: String
    /// The key prefix that triggers the function.
    public var prefix: String?
    /// The key suffix that triggers the function.
    public var suffix: String?
    /// The key prefix the job may write its results under (same bucket); nil: read-only.
    public var outputPrefix: String?
    /// Memory in MiB.
    public var memory: Int
    /// Time limit in seconds.
    public var timeoutSeconds: Int
    /// `x86_64` or `arm64`.
    public var architecture: String
    /// Plain environment variables.
    public var environment: [String: String]
    /// Days before uploads are deleted; nil keeps them.
    public var expireAfterDays: Int?
    /// Log retention in days.
    public var logRetentionDays: Int

    static let keys = ["image", "prefix", "suffix", "output_prefix", "memory", "timeout_seconds", "architecture", "environment", "expire_after_days", "log_retention_days"]

    /// Reads and checks the section.
    init(_ r: SettingsMapping) throws {
        image = try r.required("image", hint: "give the function's image in ECR by digest, e.g. 'image: ACCOUNT.dkr.ecr.REGION.amazonaws.com/job@sha256:…'")
        try r.checkImageByDigest(image, key: "image")
        guard SettingsMapping.matches(image, #"[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/.+"#) else {
            throw r.invalid("image", value: image, reason: "Lambda runs images from Amazon ECR only; push the image to an ECR repository (the registry stack) and use that reference")
        }
        prefix = try r.optional("prefix")
        suffix = try r.optional("suffix")
        for (key, value) in [("prefix", prefix), ("suffix", suffix)] {
            if let value, value.isEmpty || value.count > 1024 || value.contains("*") {
                throw r.invalid(key, value: value, reason: "give a literal key \(key) of 1-1024 characters (no wildcards), or remove the key")
            }
        }
        let input = prefix
        outputPrefix = try r.attempt { try Self.readOutputPrefix(r, input: input) } ?? nil
        memory = try r.int("memory", default: 1024, in: 128...10240)
        timeoutSeconds = try r.int("timeout_seconds", default: 300, in: 1...900)
        architecture = try r.oneOf("architecture", ["x86_64", "arm64"], default: "x86_64")!
        environment = try r.plainVariables("environment", secretHint: "store the value in AWS Secrets Manager and have the function read it at run time by the secret's name")
        if outputPrefix != nil {
            for name in Self.outputVariables where environment[name] != nil {
                throw r.invalid("environment", value: name, member: name, reason: "with output_prefix set, the template sets \(name) itself; remove it here")
            }
        }
        expireAfterDays = r.has("expire_after_days") ? try r.int("expire_after_days", default: 30, in: 1...3650) : nil
        logRetentionDays = try r.logRetention("log_retention_days", default: 30)!
    }

    /// The variables the template sets for a job with an output prefix.
    public static let outputVariables = ["OUTPUT_BUCKET", "OUTPUT_PREFIX"]

    /// `output_prefix`: a literal prefix that no upload trigger covers. A prefix the trigger
    /// covers would make the job's own results run it again, over and over.
    static func readOutputPrefix(_ r: SettingsMapping, input: String?) throws -> String? {
        guard let output = try r.optional("output_prefix", String.self) else { return nil }
        guard !output.isEmpty, output.count <= 1024, !output.contains("*") else {
            throw r.invalid("output_prefix", value: output, reason: "give a literal key prefix of 1-1024 characters (no wildcards), such as results/, or remove the key")
        }
        guard let input else {
            throw r.invalid("output_prefix", value: output, reason: "without a 'prefix', every upload to the bucket runs the job, its own results too, which would run it again and again; set 'prefix' (e.g. incoming/) to a prefix the results are not under")
        }
        guard !output.hasPrefix(input), !input.hasPrefix(output) else {
            throw r.invalid("output_prefix", value: output, reason: "it overlaps the trigger prefix \(JSONString.literal(input)): the job's results would run it again, or it could overwrite the uploads that trigger it; use a prefix beside it, such as results/")
        }
        return output
    }
}
