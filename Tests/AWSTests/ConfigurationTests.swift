import Foundation
import HTTPCore
import Testing
@testable import AWS

/// Region and endpoint resolution, config file parsing, proxies.
@Suite struct ConfigurationTests {
    @Test func regionPrecedence() throws {
        var env = try TestEnvironment()
        defer { env.cleanup() }
        try env.write(".aws/config", "[default]\nregion = eu-north-1\n[profile dev]\nregion = ap-south-1\n")
        #expect(try AWSRegion.find(environment: env.environment, home: env.home) == "eu-north-1")
        #expect(try AWSRegion.find(profile: "dev", environment: env.environment, home: env.home) == "ap-south-1")
        env.environment["AWS_PROFILE"] = "dev"
        #expect(try AWSRegion.find(environment: env.environment, home: env.home) == "ap-south-1")
        env.environment["AWS_DEFAULT_REGION"] = "us-west-1"
        #expect(try AWSRegion.find(environment: env.environment, home: env.home) == "us-west-1")
        env.environment["AWS_REGION"] = "us-west-2"
        #expect(try AWSRegion.find(environment: env.environment, home: env.home) == "us-west-2")
        #expect(try AWSRegion.find(explicit: "sa-east-1", environment: env.environment, home: env.home) == "sa-east-1")
    }

    @Test func noRegionIsAClearError() throws {
        let env = try TestEnvironment()
        defer { env.cleanup() }
        let error = #expect(throws: AWSError.self) { try AWSRegion.resolve(environment: env.environment, home: env.home) }
        #expect(error?.description.contains("AWS_REGION") == true)
    }

    @Test func endpointPrecedence() throws {
        var env: [String: String] = [:]
        #expect(try AWSEndpoint.resolve(service: .s3, region: "eu-west-1", environment: env).description == "https://s3.eu-west-1.amazonaws.com")
        #expect(try AWSEndpoint.resolve(service: .ecr, region: "eu-west-1", environment: env).host == "api.ecr.eu-west-1.amazonaws.com")
        #expect(try AWSEndpoint.resolve(service: .ecr, region: "eu-west-1", environment: env).isCustom == false)
        env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:5000"
        #expect(try AWSEndpoint.resolve(service: .s3, region: "eu-west-1", environment: env).description == "http://127.0.0.1:5000")
        env["S3_ENDPOINT_URL"] = "http://minio.local:9000/"
        #expect(try AWSEndpoint.resolve(service: .s3, region: "eu-west-1", environment: env).description == "http://minio.local:9000")
        #expect(try AWSEndpoint.resolve(service: .sts, region: "eu-west-1", environment: env).description == "http://127.0.0.1:5000")
        env["AWS_ENDPOINT_URL_S3"] = "https://s3.example.com"
        let s3 = try AWSEndpoint.resolve(service: .s3, region: "eu-west-1", environment: env)
        #expect(s3.description == "https://s3.example.com" && s3.isCustom)
        env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = "http://localhost:4566"
        #expect(try AWSEndpoint.resolve(service: .secretsManager, region: "eu-west-1", environment: env).port == 4566)
        #expect(try AWSEndpoint.resolve(service: .s3, region: "eu-west-1", explicit: "http://10.0.0.1:1", environment: env).host == "10.0.0.1")
        env["AWS_ENDPOINT_URL_CODEBUILD"] = "not a url"
        #expect(throws: AWSError.invalidEndpoint(url: "not a url", source: "AWS_ENDPOINT_URL_CODEBUILD")) {
            try AWSEndpoint.resolve(service: .codeBuild, region: "eu-west-1", environment: env)
        }
    }

    @Test func configFileParsing() {
        let file = AWSConfigFile(text: """
        # comment
        [default]
        region=us-east-1
        [profile  dev ]
        aws_access_key_id = AKIA1 ; trailing comment
        s3 =
          max_concurrent_requests = 20
        output = json
        [sso-session corp]
        sso_start_url = https://corp.awsapps.com/start#/
        """, path: "/x/config")
        #expect(file.configProfile("default")?["region"] == "us-east-1")
        #expect(file.configProfile("dev")?["aws_access_key_id"] == "AKIA1")
        #expect(file.configProfile("dev")?["s3.max_concurrent_requests"] == "20")
        #expect(file.configProfile("dev")?["output"] == "json")
        #expect(file.ssoSession("corp")?["sso_start_url"] == "https://corp.awsapps.com/start#/")
        #expect(file.configProfile("missing") == nil)
    }

    @Test func proxyFromEnvironment() {
        let options = TransportOptions(environment: ["HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": ".internal,s3.eu-west-1.amazonaws.com"])
        #expect(options.proxy(for: "sts.us-east-1.amazonaws.com", https: true)?.host == "proxy.corp")
        #expect(options.proxy(for: "sts.us-east-1.amazonaws.com", https: true)?.port == 3128)
        #expect(options.proxy(for: "s3.eu-west-1.amazonaws.com", https: true) == nil)
        #expect(options.proxy(for: "bucket.s3.eu-west-1.amazonaws.com", https: true) == nil)
        #expect(options.proxy(for: "api.internal", https: true) == nil)
        #expect(options.proxy(for: "127.0.0.1", https: true) == nil)
        #expect(options.proxy(for: "sts.us-east-1.amazonaws.com", https: false) == nil)
    }

    @Test func s3Locations() throws {
        let a = try S3Location(url: "s3://my-cache/ci/linux")
        #expect(a.bucket == "my-cache" && a.prefix == "ci/linux/" && a.key("x.tar") == "ci/linux/x.tar")
        #expect(try S3Location(url: "s3://my-cache").prefix == "")
        for bad in ["http://x/y", "s3://", "s3://UPPER/x", "s3://a/b"] {
            #expect(throws: AWSError.self) { try S3Location(url: bad) }
        }
    }
}
