import Foundation

/// An ECS Fargate service behind an application load balancer.
///
/// ```yaml
/// service:
///   image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/hello@sha256:…   # by digest; or `aws deploy service --image REF`
///   cpu: 256                         # Fargate CPU units (default 256)
///   memory: 512                      # MiB, a valid Fargate pairing with cpu (default 512)
///   port: 8080                       # the container's port (default 8080)
///   desired_count: 1
///   health_check_path: /health       # default /
///   listener_port: 80                # default 80, or 443 with a certificate
///   certificate_arn: arn:aws:acm:…   # optional: HTTPS listener
///   environment: {LOG_LEVEL: info}
///   secrets: {DB_PASSWORD: prod/db}  # variable → Secrets Manager secret name or ARN
///   vpc_id: vpc-0abc…                # with subnet_ids: use this VPC; both absent: create one
///   subnet_ids: [subnet-…, subnet-…] # at least two, in two availability zones
///   assign_public_ip: true           # default true (tasks pull their image without a NAT gateway)
///   log_retention_days: 30
/// ```
public struct ServiceSettings: Sendable, Hashable, SettingsSection {
    /// The container image, by digest; nil when it is given at deploy time
    /// (`stackship aws deploy service --image REF`, which resolves the digest).
    public var image: String?
    /// Fargate CPU units.
    public var cpu: Int
    /// Memory in MiB.
    public var memory: Int
    /// The container's port.
    public var port: Int
    /// How many tasks run.
    public var desiredCount: Int
    /// The target group's health check path.
    public var healthCheckPath: String
    /// The load balancer's listener port.
    public var listenerPort: Int
    /// An ACM certificate for an HTTPS listener.
    public var certificateArn: String?
    /// Plain environment variables.
    public var environment: [String: String]
    /// Variables read from Secrets Manager: name → secret name or ARN.
    public var secrets: [String: String]
    /// An existing VPC (with ``subnetIds``), or nil for a new one.
    public var vpcId: String?
    /// The existing VPC's subnets.
    public var subnetIds: [String]
    /// Whether tasks get a public IP.
    public var assignPublicIp: Bool
    /// Log retention in days.
    public var logRetentionDays: Int

    /// The CPU units Fargate offers and the memory sizes (MiB) each allows.
    static func fargateMemory(cpu: Int) -> [Int]? {
        switch cpu {
        case 256: [512, 1024, 2048]
        case 512: Array(stride(from: 1024, through: 4096, by: 1024))
        case 1024: Array(stride(from: 2048, through: 8192, by: 1024))
        case 2048: Array(stride(from: 4096, through: 16384, by: 1024))
        case 4096: Array(stride(from: 8192, through: 30720, by: 1024))
        case 8192: Array(stride(from: 16384, through: 61440, by: 4096))
        case 16384: Array(stride(from: 32768, through: 122880, by: 8192))
        default: nil
        }
    }

    static let keys = ["image", "cpu", "memory", "port", "desired_count", "health_check_path", "listener_port", "certificate_arn", "environment", "secrets", "vpc_id", "subnet_ids", "assign_public_ip", "log_retention_days"]

    /// Reads and checks the section.
    init(_ r: SettingsMapping) throws {
        image = try r.optional("image")
        if let image { try r.checkImageByDigest(image, key: "image") }
        cpu = try r.optional("cpu") ?? 256
        guard let allowed = Self.fargateMemory(cpu: cpu) else {
            throw r.invalid("cpu", value: String(cpu), reason: "Fargate offers 256, 512, 1024, 2048, 4096, 8192 or 16384 CPU units")
        }
        memory = try r.optional("memory") ?? allowed[0]
        guard allowed.contains(memory) else {
            throw r.invalid("memory", value: String(memory), reason: "with cpu \(cpu), Fargate allows memory from \(allowed.first!) to \(allowed.last!) MiB in steps of \(allowed.count > 1 ? allowed[1] - allowed[0] : 0)")
        }
        port = try r.int("port", default: 8080, in: 1...65535)
        desiredCount = try r.int("desired_count", default: 1, in: 0...1000)
        healthCheckPath = try r.optional("health_check_path") ?? "/"
        guard SettingsMapping.matches(healthCheckPath, #"/[A-Za-z0-9/._~%!$&'()*+,;=:@?-]{0,1023}"#) else {
            throw r.invalid("health_check_path", value: healthCheckPath, reason: "give a URL path starting with /, e.g. /health")
        }
        certificateArn = try r.optional("certificate_arn")
        if let arn = certificateArn, !SettingsMapping.matches(arn, #"arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+"#) {
            throw r.invalid("certificate_arn", value: arn, reason: "give an ACM certificate ARN, arn:aws:acm:REGION:ACCOUNT:certificate/ID")
        }
        listenerPort = try r.int("listener_port", default: certificateArn == nil ? 80 : 443, in: 1...65535)
        environment = try r.plainVariables("environment", secretHint: "store the value in AWS Secrets Manager and list the variable under \(r.path("secrets")) as NAME: secret-name")
        secrets = try r.optional("secrets", [String: String].self) ?? [:]
        for (name, secret) in secrets.sorted(by: { $0.key < $1.key }) {
            try r.checkVariableName(name, in: "secrets")
            try r.checkSecretName(secret, key: "secrets", member: name)
            if environment[name] != nil {
                throw r.invalid("secrets", value: name, member: name, reason: "the name is also under environment; keep it in one place")
            }
        }
        vpcId = try r.optional("vpc_id")
        subnetIds = try r.optional("subnet_ids") ?? []
        switch (vpcId, subnetIds.isEmpty) {
        case (nil, true): break
        case (nil, false):
            throw r.missing("vpc_id", hint: "subnet_ids needs the VPC they belong to; add 'vpc_id: vpc-…', or remove subnet_ids to create a new VPC")
        case (.some, true):
            throw r.missing("subnet_ids", hint: "an existing VPC needs at least two subnets in two availability zones for the load balancer; list them, or remove vpc_id to create a new VPC")
        case (.some(let vpc), false):
            guard SettingsMapping.matches(vpc, "vpc-[0-9a-f]{8,17}") else {
                throw r.invalid("vpc_id", value: vpc, reason: "a VPC ID looks like vpc-0123456789abcdef0")
            }
            for subnet in subnetIds where !SettingsMapping.matches(subnet, "subnet-[0-9a-f]{8,17}") {
                throw r.invalid("subnet_ids", value: subnet, reason: "a subnet ID looks like subnet-0123456789abcdef0")
            }
            guard Set(subnetIds).count >= 2 else {
                throw r.invalid("subnet_ids", value: subnetIds.joined(separator: ","), reason: "an application load balancer needs at least two subnets in different availability zones")
            }
        }
        assignPublicIp = try r.optional("assign_public_ip") ?? true
        if vpcId == nil, !assignPublicIp {
            throw r.invalid("assign_public_ip", value: "false", reason: "the VPC Stackship creates has public subnets only (no NAT gateway), so tasks need a public IP to pull their image; remove the key or give vpc_id and subnet_ids")
        }
        logRetentionDays = try r.logRetention("log_retention_days", default: 30)!
    }
}
