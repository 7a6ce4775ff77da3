import ArgumentParser
import AWS
import Foundation
import HTTPCore
import OCI
import Registry
import Runtime
import Stack
import Support

/// `stackship health`: is this machine ready to build, push and deploy?
struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check AWS credentials, region and identity, proxy settings, registries, the container runtime and disk space.",
        discussion: """
        Each check prints 'ok' or 'FAIL' with how to fix it; the exit status is non-zero when any check fails. \
        The registries checked: those given with --registry, the stack file's image tags, its ci.registry \
        (where the generated pipelines push), and its aws.registry repository (which must exist: \
        'stackship aws deploy registry' creates it; on AWS's own endpoints its registry host is pinged too).
        """
    )

    @Option(name: .customLong("registry"), help: ArgumentHelp("A registry to check besides those the stack file names (repeatable).", valueName: "host"))
    var registries: [String] = []

    @Option(name: .long, help: ArgumentHelp("The OCI runtime to check (default: $STACKSHIP_RUNTIME, else runc, else crun).", valueName: "runtime"))
    var runtime: String?

    @OptionGroup var aws: AWSOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryOptions: RegistryOptions

    struct Check: Sendable {
        var ok: Bool
        var name: String
        var detail: String
        var hint: String?
    }

    func run() throws {
        let aws = aws, extra = registries, runtime = runtime, storeOptions = storeOptions, registryOptions = registryOptions
        try AsyncCLI.run {
            var checks: [Check] = []
            func report(_ c: Check) {
                checks.append(c)
                Out.line("\(c.ok ? "ok  " : "FAIL") \(c.name): \(c.detail)" + (c.ok || c.hint == nil ? "" : "\n     fix: \(c.hint!)"))
            }
            let env = ProcessInfo.processInfo.environment

            // Credentials: which source of the chain has them.
            var haveCredentials = false
            do {
                let c = try await AWSCredentialChain.resolve(profile: aws.profile, environment: env, home: NSHomeDirectory())
                haveCredentials = true
                report(Check(ok: true, name: "credentials", detail: "\(c.source) (access key \(c.accessKeyID))"))
            } catch {
                report(Check(ok: false, name: "credentials", detail: "none found",
                             hint: "\(CLI.describe(error))"))
            }

            // Region.
            var region: String?
            do {
                region = try AWSRegion.find(explicit: aws.region, profile: aws.profile, environment: env, home: NSHomeDirectory())
            } catch {
                report(Check(ok: false, name: "region", detail: CLI.describe(error), hint: "fix the AWS config file"))
            }
            if let region {
                report(Check(ok: true, name: "region", detail: region + ((aws.endpointURL ?? env["AWS_ENDPOINT_URL"]).map { " (endpoint \($0))" } ?? "")))
            } else if checks.last?.name != "region" {
                report(Check(ok: false, name: "region", detail: "none configured", hint: "give --region, set AWS_REGION, or add 'region' to the profile in ~/.aws/config"))
            }

            // Identity.
            if haveCredentials, region != nil {
                do {
                    let id = try await aws.withClient { try await STSClient(client: $0).getCallerIdentity() }
                    report(Check(ok: true, name: "identity", detail: "\(id.arn) (account \(id.account))"))
                } catch {
                    report(Check(ok: false, name: "identity", detail: "STS GetCallerIdentity failed", hint: CLI.describe(error)))
                }
            } else {
                report(Check(ok: false, name: "identity", detail: "not checked", hint: "fix the credentials and region first"))
            }

            // Proxy: shown, passwords masked.
            let proxyKeys = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"]
            let proxies = proxyKeys.compactMap { k in env[k].flatMap { $0.isEmpty ? nil : "\(k)=\(Self.maskPassword($0))" } }
            report(Check(ok: true, name: "proxy", detail: proxies.isEmpty ? "none set (direct connections)" : proxies.joined(separator: " ")))

            // Registries: --registry, those the stack file's image tags name, ci.registry (where
            // the generated pipelines push) and the aws: registry stack's repository.
            var hosts = extra.map(LoginCommand.normalise)
            func add(_ host: String) { if host != ImageReference.dockerHub && !host.isEmpty && !hosts.contains(host) { hosts.append(host) } }
            var awsRegistry: (RegistrySettings, project: String)?
            if FileManager.default.fileExists(atPath: aws.stackPath) {
                var settingsFile: StackFile?
                do {
                    let file = try StackFile.load(path: aws.stackPath)
                    for image in file.images {
                        for tag in image.tags { add(tag.registry) }
                    }
                    settingsFile = file
                } catch {
                    report(Check(ok: false, name: "stack file", detail: "\(aws.stackPath) does not parse", hint: CLI.describe(error)))
                    // The registries of ci: and aws: are still checked when only the build
                    // sections are wrong (or absent, as in a stack file for AWS alone).
                    settingsFile = try? StackFile.load(path: aws.stackPath, sections: [.ci, .aws])
                }
                if let file = settingsFile {
                    if let registry = file.ci.registry { add(LoginCommand.normalise(registry)) }
                    if let settings = file.aws, let registry = settings.registry { awsRegistry = (registry, settings.project) }
                }
            }
            if let (registry, project) = awsRegistry {
                let name = registry.repositoryName(project: project)
                let label = "registry aws.registry (\(registry.isPublic ? "ECR Public " : "")\(name))"
                if haveCredentials, region != nil {
                    do {
                        let uri = try await Self.awsRepositoryURI(registry, name: name, aws: aws)
                        report(Check(ok: true, name: label, detail: "repository exists: \(uri)"))
                        // The registry host answers only on AWS itself, not at a stand-in endpoint.
                        let custom = (try? AWSEndpoint.resolve(service: registry.isPublic ? .ecrPublic : .ecr, region: region ?? "",
                                                               explicit: aws.endpointURL).isCustom) ?? true
                        if !custom { add(LoginCommand.normalise(uri)) }
                    } catch {
                        report(Check(ok: false, name: label, detail: "not found or not readable",
                                     hint: CLI.describe(error) + "; create it with 'stackship aws deploy registry"
                                        + (registry.isPublic ? " --region \(RegistrySettings.publicRegion)'" : "'")))
                    }
                } else {
                    report(Check(ok: false, name: label, detail: "not checked", hint: "fix the credentials and region first"))
                }
            }
            for host in hosts {
                do {
                    try await RegistryClient(registry: host, credential: nil, options: registryOptions.transport).withShutdown { try await $0.ping() }
                    report(Check(ok: true, name: "registry \(host)", detail: "reachable"))
                } catch {
                    report(Check(ok: false, name: "registry \(host)", detail: "unreachable", hint: Self.registryHint(CLI.describe(error))))
                }
            }

            // Runtime: present and answering.
            let wanted = runtime ?? env["STACKSHIP_RUNTIME"].flatMap { $0.isEmpty ? nil : $0 }
            let candidates = wanted.map { [$0] } ?? ["runc", "crun"]
            if let path = candidates.lazy.compactMap({ ChildProcess.which($0) }).first {
                let result = try? ChildProcess.run(path, ["--version"])
                if let result, result.status == 0 {
                    report(Check(ok: true, name: "runtime", detail: "\(path): \(result.output.split(separator: "\n").first ?? "")"))
                } else {
                    report(Check(ok: false, name: "runtime", detail: "\(path) --version failed", hint: "reinstall it (apt-get install runc crun, or scripts/setup)"))
                }
            } else {
                report(Check(ok: false, name: "runtime", detail: "\(candidates.joined(separator: " or ")) not found on PATH",
                             hint: "install runc or crun (apt-get install runc crun, or scripts/setup), or name one with --runtime / STACKSHIP_RUNTIME"))
            }

            // Disk space where the store is (or would be).
            let stackDir = (aws.stackPath as NSString).deletingLastPathComponent
            var dir = storeOptions.path(beside: stackDir)
            while !FileManager.default.fileExists(atPath: dir) && dir != "/" { dir = (dir as NSString).deletingLastPathComponent }
            var fs = statvfs()
            if statvfs(dir, &fs) == 0 {
                let free = Int64(fs.f_bavail) * Int64(fs.f_frsize)
                let minimum: Int64 = 1 << 30
                report(Check(ok: free >= minimum, name: "disk", detail: "\(Format.bytes(free)) free at \(dir)",
                             hint: "free some space (stackship gc, stackship cache gc) or point --store / STACKSHIP_STORE at a larger disk; at least 1 GiB is needed"))
            } else {
                report(Check(ok: false, name: "disk", detail: "cannot read free space at \(dir)", hint: "check that the store's folder is accessible"))
            }

            let failed = checks.filter { !$0.ok }.count
            if failed > 0 { throw AWSCommandError.healthFailed(failed) }
        }
    }

    /// The URI of the `aws.registry` stack's repository, read from ECR (or ECR Public, in
    /// us-east-1) with DescribeRepositories: it exists and these credentials may see it.
    static func awsRepositoryURI(_ registry: RegistrySettings, name: String, aws: AWSOptions) async throws -> String {
        if registry.isPublic {
            let client = try AWSClient(profile: aws.profile, region: RegistrySettings.publicRegion, endpoint: aws.endpointURL)
            let found = try await client.withShutdown { try await ECRPublicClient(client: $0).describeRepositories(names: [name]) }
            guard let repository = found.first(where: { $0.repositoryName == name }) else {
                throw AWSError.unexpectedResponse(operation: "ECRPublic.DescribeRepositories", detail: "\(name) is not in the answer")
            }
            return repository.repositoryUri ?? "\(RegistrySettings.publicRegistryHost)/…/\(name)"
        }
        let found = try await aws.withClient { try await ECRClient(client: $0).describeRepositories(names: [name]) }
        guard let repository = found.first(where: { $0.repositoryName == name }) else {
            throw AWSError.unexpectedResponse(operation: "ECR.DescribeRepositories", detail: "\(name) is not in the answer")
        }
        return repository.repositoryUri ?? name
    }

    /// `http://user:secret@proxy:3128` → `http://user:****@proxy:3128`.
    /// The fix for an unreachable registry: the error's own words, then only the advice they
    /// do not give already (the registry client's errors carry most of it).
    static func registryHint(_ reason: String) -> String {
        var advice: [String] = []
        if !reason.contains("HTTPS_PROXY") { advice.append("check the host name, the network and HTTPS_PROXY/NO_PROXY") }
        if !reason.contains("--insecure") { advice.append("use --insecure for a plain-HTTP registry") }
        if !reason.contains("--ca-cert") { advice.append("--ca-cert for a private CA") }
        return advice.isEmpty ? reason : reason + "; " + advice.joined(separator: "; ")
    }

    static func maskPassword(_ value: String) -> String {
        guard let at = value.lastIndex(of: "@") else { return value }
        let start = value.range(of: "://")?.upperBound ?? value.startIndex
        let userinfo = value[start..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return value }
        return String(value[..<value.index(after: colon)]) + "****" + String(value[at...])
    }
}
