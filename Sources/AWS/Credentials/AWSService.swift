/// An AWS service as the signer and the endpoint resolver need it.
public struct AWSService: Sendable, Hashable, CustomStringConvertible {
    /// The service's name in messages and operation names, e.g. "S3", "CloudFormation".
    public var name: String
    /// The SigV4 signing name, e.g. "s3", "cloudformation".
    public var signingName: String
    /// The host prefix of the real endpoint: `https://PREFIX.REGION.amazonaws.com`.
    public var endpointPrefix: String
    /// The suffix of the service-specific endpoint variable: AWS_ENDPOINT_URL_<SUFFIX>.
    public var environmentSuffix: String

    /// A service description.
    public init(name: String, signingName: String, endpointPrefix: String, environmentSuffix: String) {
        self.name = name
        self.signingName = signingName
        self.endpointPrefix = endpointPrefix
        self.environmentSuffix = environmentSuffix
    }

    public var description: String { name }

    /// Amazon S3.
    public static let s3 = AWSService(name: "S3", signingName: "s3", endpointPrefix: "s3", environmentSuffix: "S3")
    /// AWS Security Token Service.
    public static let sts = AWSService(name: "STS", signingName: "sts", endpointPrefix: "sts", environmentSuffix: "STS")
    /// Amazon Elastic Container Registry.
    public static let ecr = AWSService(name: "ECR", signingName: "ecr", endpointPrefix: "api.ecr", environmentSuffix: "ECR")
    /// Amazon ECR Public: its API exists only in us-east-1 (`api.ecr-public.us-east-1.amazonaws.com`).
    public static let ecrPublic = AWSService(name: "ECRPublic", signingName: "ecr-public", endpointPrefix: "api.ecr-public", environmentSuffix: "ECR_PUBLIC")
    /// AWS CloudFormation.
    public static let cloudFormation = AWSService(name: "CloudFormation", signingName: "cloudformation", endpointPrefix: "cloudformation", environmentSuffix: "CLOUDFORMATION")
    /// AWS Secrets Manager.
    public static let secretsManager = AWSService(name: "SecretsManager", signingName: "secretsmanager", endpointPrefix: "secretsmanager", environmentSuffix: "SECRETS_MANAGER")
    /// AWS CodeBuild.
    public static let codeBuild = AWSService(name: "CodeBuild", signingName: "codebuild", endpointPrefix: "codebuild", environmentSuffix: "CODEBUILD")
    /// The AWS IAM Identity Center (SSO) portal, which trades an SSO token for role credentials.
    public static let sso = AWSService(name: "SSO", signingName: "awsssoportal", endpointPrefix: "portal.sso", environmentSuffix: "SSO")
}
