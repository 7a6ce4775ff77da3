/// A place in S3 written as `s3://BUCKET/PREFIX` (the prefix may be empty).
public struct S3Location: Sendable, Equatable, CustomStringConvertible {
    /// The bucket name.
    public var bucket: String
    /// The key prefix, without leading slash; "" or ending in "/" once normalised.
    public var prefix: String

    /// Parses `s3://bucket[/prefix]`; throws `AWSError.invalidS3URL`.
    public init(url: String) throws {
        guard url.hasPrefix("s3://") else { throw AWSError.invalidS3URL(url) }
        let rest = url.dropFirst(5)
        let bucket = rest.prefix { $0 != "/" }
        guard !bucket.isEmpty, S3Client.isValidBucketName(String(bucket)) else { throw AWSError.invalidS3URL(url) }
        self.bucket = String(bucket)
        var prefix = String(rest.dropFirst(bucket.count)).drop { $0 == "/" }
        if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
        self.prefix = String(prefix)
    }

    /// A location from its parts.
    public init(bucket: String, prefix: String = "") {
        self.bucket = bucket
        self.prefix = prefix
    }

    /// The key of `name` under the prefix.
    public func key(_ name: String) -> String { prefix + name }

    /// `s3://bucket/prefix`.
    public var description: String { "s3://\(bucket)/\(prefix)" }
}
