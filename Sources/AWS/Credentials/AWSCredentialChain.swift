import Crypto
import NIOHTTP1
import Foundation
import HTTPCore

/// The AWS CLI's credential chain, in its order:
///
/// 1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) — skipped
///    when a profile is passed explicitly (as `aws --profile` does; AWS_PROFILE does not skip it);
/// 2. the profile's assume-role settings: role_arn with source_profile or
///    credential_source (Environment, EcsContainer) → STS AssumeRole;
/// 3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME), or the
///    profile's web_identity_token_file + role_arn → STS AssumeRoleWithWebIdentity (GitHub OIDC);
/// 4. SSO: the profile's sso_session (or legacy sso_start_url) with sso_account_id and
///    sso_role_name, using the token `aws sso login` cached in ~/.aws/sso/cache;
/// 5. the profile's keys in the credentials file, then in the config file;
/// 6. container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI: ECS, CodeBuild).
///
/// The profile is `profile`, else AWS_PROFILE, else "default". EC2 instance metadata and
/// credential_process are not supported.
public enum AWSCredentialChain {
    /// Resolves credentials; throws `AWSError` naming the profile and file when a profile is
    /// broken, and `.noCredentials` when no source has any. STS and SSO calls go to the
    /// endpoints `AWSEndpoint` resolves from `environment` (AWS_ENDPOINT_URL_STS, …).
    public static func resolve(profile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
                               home: String = NSHomeDirectory()) async throws -> AWSCredentials {
        var tried: [String] = []
        if profile == nil {
            if let credentials = try fromEnvironment(environment) { return credentials }
            tried.append("environment variables")
        }
        let name = profile ?? AWSRegion.nonEmpty(environment["AWS_PROFILE"]) ?? "default"
        let explicit = profile != nil || AWSRegion.nonEmpty(environment["AWS_PROFILE"]) != nil
        let shared = try AWSSharedConfig(environment: environment, home: home)
        let resolver = Resolver(shared: shared, environment: environment, home: home)
        let entry = shared.profile(name)
        // An explicitly chosen profile must exist (unless the web identity variables carry the day).
        if entry == nil && explicit && environment["AWS_WEB_IDENTITY_TOKEN_FILE"] == nil {
            throw AWSError.profileNotFound(profile: name, files: shared.files)
        }
        if let entry, entry.values["role_arn"] != nil, entry.values["source_profile"] != nil || entry.values["credential_source"] != nil {
            return try await resolver.assumeRole(profile: name, values: entry.values, file: entry.file, visited: [name])
        }
        if let tokenFile = AWSRegion.nonEmpty(environment["AWS_WEB_IDENTITY_TOKEN_FILE"]) {
            guard let role = AWSRegion.nonEmpty(environment["AWS_ROLE_ARN"]) ?? entry?.values["role_arn"] else {
                throw AWSError.invalidArgument("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not. Set AWS_ROLE_ARN to the role to assume (in GitHub Actions, aws-actions/configure-aws-credentials sets both).")
            }
            return try await resolver.webIdentity(tokenFile: tokenFile, roleARN: role,
                                                  sessionName: AWSRegion.nonEmpty(environment["AWS_ROLE_SESSION_NAME"]), profileRegion: entry?.values["region"])
        }
        tried.append("web identity (AWS_WEB_IDENTITY_TOKEN_FILE)")
        if let entry {
            if let credentials = try await resolver.fromProfile(name: name, values: entry.values, file: entry.file, visited: [name]) {
                return credentials
            }
            tried.append("profile '\(name)' in \(shared.files.joined(separator: " and "))")
        } else {
            tried.append("profile '\(name)' (not in \(shared.files.joined(separator: " or ")))")
        }
        if let credentials = try await resolver.container() { return credentials }
        tried.append("container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)")
        throw AWSError.noCredentials(tried: tried)
    }

    /// The environment's keys, nil when AWS_ACCESS_KEY_ID is unset.
    static func fromEnvironment(_ environment: [String: String]) throws -> AWSCredentials? {
        guard let key = AWSRegion.nonEmpty(environment["AWS_ACCESS_KEY_ID"]) else { return nil }
        guard let secret = AWSRegion.nonEmpty(environment["AWS_SECRET_ACCESS_KEY"]) else {
            throw AWSError.invalidArgument("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not. Set both (and AWS_SESSION_TOKEN for temporary keys), or unset AWS_ACCESS_KEY_ID to use a profile.")
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: AWSRegion.nonEmpty(environment["AWS_SESSION_TOKEN"]),
                              expiration: environment["AWS_CREDENTIAL_EXPIRATION"].flatMap(AWSDate.parse), source: "environment")
    }

    /// The SSO token cache file for a session name or start URL.
    public static func ssoCachePath(key: String, home: String) -> String {
        let digest = Insecure.SHA1.hash(data: Data(key.utf8))
        return "\(home)/.aws/sso/cache/\(SigV4Signer.hex(digest)).json"
    }

    /// Resolution of profile-based sources (recursive through source_profile).
    struct Resolver {
        let shared: AWSSharedConfig
        let environment: [String: String]
        let home: String

        /// Credentials a profile itself yields (role, web identity, SSO, keys); nil when it has none.
        func fromProfile(name: String, values: AWSConfigFile.Section, file: String, visited: [String]) async throws -> AWSCredentials? {
            if values["role_arn"] != nil, values["source_profile"] != nil || values["credential_source"] != nil {
                return try await assumeRole(profile: name, values: values, file: file, visited: visited)
            }
            if let tokenFile = values["web_identity_token_file"] {
                guard let role = values["role_arn"] else { throw AWSError.profileMissingKey(profile: name, key: "role_arn", file: file) }
                return try await webIdentity(tokenFile: tokenFile, roleARN: role, sessionName: values["role_session_name"], profileRegion: values["region"])
            }
            if values["sso_session"] != nil || values["sso_start_url"] != nil {
                return try await sso(profile: name, values: values, file: file)
            }
            if let key = values["aws_access_key_id"], !key.isEmpty {
                guard let secret = values["aws_secret_access_key"], !secret.isEmpty else {
                    throw AWSError.profileMissingKey(profile: name, key: "aws_secret_access_key", file: file)
                }
                return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: values["aws_session_token"],
                                      source: "profile \(name) in \(file)")
            }
            if values["aws_secret_access_key"] != nil {
                throw AWSError.profileMissingKey(profile: name, key: "aws_access_key_id", file: file)
            }
            return nil
        }

        func assumeRole(profile: String, values: AWSConfigFile.Section, file: String, visited: [String]) async throws -> AWSCredentials {
            guard let role = values["role_arn"] else { throw AWSError.profileMissingKey(profile: profile, key: "role_arn", file: file) }
            let sourceCredentials: AWSCredentials
            if let source = values["source_profile"] {
                if source == profile {
                    // A profile may hold both the keys and the role to assume with them.
                    guard let key = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] else {
                        throw AWSError.profileMissingKey(profile: profile, key: values["aws_access_key_id"] == nil ? "aws_access_key_id" : "aws_secret_access_key", file: file)
                    }
                    sourceCredentials = AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: values["aws_session_token"], source: "profile \(profile) in \(file)")
                } else {
                    if visited.contains(source) { throw AWSError.sourceProfileCycle(profiles: visited + [source]) }
                    guard let entry = shared.profile(source) else {
                        throw AWSError.unknownSourceProfile(profile: profile, sourceProfile: source, file: file)
                    }
                    guard let credentials = try await fromProfile(name: source, values: entry.values, file: entry.file, visited: visited + [source]) else {
                        throw AWSError.profileMissingKey(profile: source, key: "aws_access_key_id", file: entry.file)
                    }
                    sourceCredentials = credentials
                }
            } else {
                let credentialSource = values["credential_source"] ?? ""
                switch credentialSource {
                case "Environment":
                    guard let credentials = try fromEnvironment(environment) else {
                        throw AWSError.invalidArgument("AWS profile '\(profile)' in \(file) has credential_source = Environment, but AWS_ACCESS_KEY_ID is not set. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.")
                    }
                    sourceCredentials = credentials
                case "EcsContainer":
                    guard let credentials = try await container() else {
                        throw AWSError.invalidArgument("AWS profile '\(profile)' in \(file) has credential_source = EcsContainer, but AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI is not set.")
                    }
                    sourceCredentials = credentials
                default:
                    throw AWSError.invalidProfileValue(profile: profile, key: "credential_source", value: credentialSource, file: file,
                                                       expected: "Environment or EcsContainer (Ec2InstanceMetadata is not supported)")
                }
            }
            let region = values["region"] ?? AWSRegion.nonEmpty(environment["AWS_REGION"]) ?? AWSRegion.nonEmpty(environment["AWS_DEFAULT_REGION"]) ?? "us-east-1"
            let client = AWSClient(credentials: AWSCredentialProvider(credentials: sourceCredentials), region: region,
                                   options: TransportOptions(environment: environment, retry: .aws))
            return try await client.withShutdown { client in
                let duration = values["duration_seconds"].flatMap { Int($0) }
                var credentials = try await STSClient(client: client).assumeRole(
                    roleARN: role, sessionName: values["role_session_name"] ?? "stackship-\(Int(Date().timeIntervalSince1970))",
                    durationSeconds: duration, externalID: values["external_id"])
                credentials.source = "profile \(profile) (assumed role \(role))"
                return credentials
            }
        }

        func webIdentity(tokenFile: String, roleARN: String, sessionName: String?, profileRegion: String?) async throws -> AWSCredentials {
            let path = AWSSharedConfig.expand(tokenFile, home: home)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw AWSError.fileUnreadable(path: path, reason: "the web identity token file (AWS_WEB_IDENTITY_TOKEN_FILE) is missing or unreadable")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let region = AWSRegion.nonEmpty(environment["AWS_REGION"]) ?? AWSRegion.nonEmpty(environment["AWS_DEFAULT_REGION"]) ?? profileRegion ?? "us-east-1"
            let client = AWSClient(credentials: AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "", secretAccessKey: "", source: "none")),
                                   region: region, options: TransportOptions(environment: environment, retry: .aws))
            return try await client.withShutdown { client in
                try await STSClient(client: client).assumeRoleWithWebIdentity(
                    roleARN: roleARN, sessionName: sessionName ?? "stackship-\(Int(Date().timeIntervalSince1970))", webIdentityToken: token)
            }
        }

        func sso(profile: String, values: AWSConfigFile.Section, file: String) async throws -> AWSCredentials {
            var settings = values
            let cacheKey: String
            if let session = values["sso_session"] {
                guard let section = shared.config?.ssoSession(session) else {
                    throw AWSError.invalidArgument("AWS profile '\(profile)' in \(file) has sso_session = \(session), but \(shared.configPath) has no [sso-session \(session)] section. Run 'aws configure sso --profile \(profile)'.")
                }
                for (k, v) in section where settings[k] == nil { settings[k] = v }
                cacheKey = session
            } else {
                cacheKey = values["sso_start_url"] ?? ""
            }
            for key in ["sso_account_id", "sso_role_name", "sso_region"] where settings[key] == nil {
                throw AWSError.profileMissingKey(profile: profile, key: key, file: file)
            }
            let path = AWSCredentialChain.ssoCachePath(key: cacheKey, home: home)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw AWSError.ssoTokenMissing(profile: profile, path: path)
            }
            struct CachedToken: Decodable { var accessToken: String; var expiresAt: String }
            guard let token = try? JSONDecoder().decode(CachedToken.self, from: data) else {
                throw AWSError.ssoTokenMissing(profile: profile, path: path)
            }
            guard let expiry = AWSDate.parse(token.expiresAt), expiry > Date() else {
                throw AWSError.ssoTokenExpired(profile: profile, expiredAt: token.expiresAt)
            }
            let client = AWSClient(credentials: AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "", secretAccessKey: "", source: "none")),
                                   region: settings["sso_region"]!, options: TransportOptions(environment: environment, retry: .aws))
            var headers = HTTPHeadersBox.make(["x-amz-sso_bearer_token": token.accessToken])
            headers.add(name: "Accept", value: "application/json")
            let request = AWSRequest(service: .sso, operation: "GetRoleCredentials", method: .GET, path: "/federation/credentials",
                                     query: [("account_id", settings["sso_account_id"]!), ("role_name", settings["sso_role_name"]!)],
                                     headers: headers, signed: false)
            let response: AWSResponse
            do {
                response = try await client.withShutdown { try await $0.send(request) }
            } catch {
                if case let .service(e) = error as? AWSError, e.code == "UnauthorizedException" {
                    throw AWSError.ssoTokenExpired(profile: profile, expiredAt: token.expiresAt)
                }
                throw error
            }
            struct Answer: Decodable {
                struct Role: Decodable { var accessKeyId: String; var secretAccessKey: String; var sessionToken: String?; var expiration: Double? }
                var roleCredentials: Role
            }
            guard let answer = try? JSONDecoder().decode(Answer.self, from: response.body) else {
                throw AWSError.unexpectedResponse(operation: "SSO.GetRoleCredentials", detail: "no roleCredentials in the answer")
            }
            let role = answer.roleCredentials
            return AWSCredentials(accessKeyID: role.accessKeyId, secretAccessKey: role.secretAccessKey, sessionToken: role.sessionToken,
                                  expiration: role.expiration.map { Date(timeIntervalSince1970: $0 / 1000) }, source: "SSO profile \(profile)")
        }

        /// ECS/CodeBuild container credentials, nil when the variables are not set.
        func container() async throws -> AWSCredentials? {
            let url: String
            if let relative = AWSRegion.nonEmpty(environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]) {
                url = "http://169.254.170.2" + relative
            } else if let full = AWSRegion.nonEmpty(environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"]) {
                url = full
            } else {
                return nil
            }
            let endpoint = try AWSEndpoint(url: url, source: "AWS_CONTAINER_CREDENTIALS_*_URI")
            let parsed = URLComponents(string: url)
            var headers = HTTPHeadersBox.make([:])
            if let file = AWSRegion.nonEmpty(environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw AWSError.fileUnreadable(path: file, reason: "the container authorization token file is missing")
                }
                headers.add(name: "Authorization", value: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            } else if let token = AWSRegion.nonEmpty(environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"]) {
                headers.add(name: "Authorization", value: token)
            }
            var env = environment
            env["AWS_ENDPOINT_URL_CONTAINER_CREDENTIALS"] = "\(endpoint.scheme)://\(endpoint.hostHeader)"
            let client = AWSClient(credentials: AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "", secretAccessKey: "", source: "none")),
                                   region: "us-east-1", options: TransportOptions(environment: env, retry: .aws))
            let service = AWSService(name: "ContainerCredentials", signingName: "none", endpointPrefix: "none", environmentSuffix: "CONTAINER_CREDENTIALS")
            var query: [(String, String)] = []
            for item in parsed?.queryItems ?? [] { query.append((item.name, item.value ?? "")) }
            let request = AWSRequest(service: service, operation: "GetCredentials", method: .GET, path: parsed?.percentEncodedPath ?? "/",
                                     query: query, headers: headers, signed: false)
            let response = try await client.withShutdown { try await $0.send(request) }
            struct Answer: Decodable { var AccessKeyId: String; var SecretAccessKey: String; var Token: String?; var Expiration: String? }
            guard let answer = try? JSONDecoder().decode(Answer.self, from: response.body) else {
                throw AWSError.unexpectedResponse(operation: "ContainerCredentials.GetCredentials", detail: "no AccessKeyId/SecretAccessKey in the answer")
            }
            return AWSCredentials(accessKeyID: answer.AccessKeyId, secretAccessKey: answer.SecretAccessKey, sessionToken: answer.Token,
                                  expiration: answer.Expiration.flatMap(AWSDate.parse), source: "container credentials")
        }
    }
}
