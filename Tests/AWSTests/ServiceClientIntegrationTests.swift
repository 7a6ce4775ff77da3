import Crypto
import Foundation
import StackshipTesting
import Testing
@testable import AWS

/// The service clients against a real moto_server on a random loopback port.
@Suite struct ServiceClientIntegrationTests {
    @Test func stsGetCallerIdentity() async throws {
        try await MotoServer.with { moto in
            let env = try TestEnvironment.moto(moto)
            defer { env.cleanup() }
            let identity = try await env.withClient { client in try await STSClient(client: client).getCallerIdentity() }
                        #expect(identity.account == "123456789012")
            #expect(identity.arn.hasPrefix("arn:aws:"))
        }
    }

    @Test func s3RoundTrip() async throws {
        try await MotoServer.with { moto in
            var env = try TestEnvironment.moto(moto)
            defer { env.cleanup() }
            // S3_ENDPOINT_URL alone is enough for S3 (the binary cache's variable).
            env.environment["AWS_ENDPOINT_URL"] = nil
            env.environment["S3_ENDPOINT_URL"] = moto.endpoint
            try await env.withClient { client in
            let s3 = S3Client(client: client)
            let bucket = "stackship-cache"
            try await s3.createBucket(bucket)

            // Small objects from memory, keys that need encoding.
            try await s3.putObject(bucket: bucket, key: "prefix/hello world+1.txt", data: Data("hello".utf8), contentType: "text/plain")
            #expect(try await s3.getObject(bucket: bucket, key: "prefix/hello world+1.txt") == Data("hello".utf8))
            let head = try await s3.headObject(bucket: bucket, key: "prefix/hello world+1.txt")
            #expect(head?.size == 5)
            #expect(try await s3.headObject(bucket: bucket, key: "prefix/absent") == nil)

            // A multi-MiB object streamed from a file and back to a file.
            let dir = env.home + "/data"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var blob = Data(count: 5 * 1024 * 1024 + 123)
            for i in stride(from: 0, to: blob.count, by: 4096) { blob[i] = UInt8(truncatingIfNeeded: i / 4096 &* 31) }
            try blob.write(to: URL(fileURLWithPath: dir + "/big.bin"))
            let etag = try await s3.putObject(bucket: bucket, key: "prefix/big.bin", file: dir + "/big.bin")
            #expect(etag == Insecure.MD5.hash(data: blob).map { String(format: "%02x", $0) }.joined())
            let info = try await s3.getObject(bucket: bucket, key: "prefix/big.bin", to: dir + "/big.out")
            #expect(info.size == Int64(blob.count))
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/big.out")) == blob)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["big.bin", "big.out"])

            // A missing object leaves no file behind and says NoSuchKey.
            let missing = await #expect(throws: AWSError.self) { try await s3.getObject(bucket: bucket, key: "nope", to: dir + "/nope") }
            #expect(missing?.serviceCode == "NoSuchKey" && missing?.isNotFound == true)
            #expect(!FileManager.default.fileExists(atPath: dir + "/nope"))

            // Conditional put: the second write of the same key is refused.
            try await s3.putObject(bucket: bucket, key: "once", data: Data("1".utf8), ifNoneMatch: true)
            let conflict = await #expect(throws: AWSError.self) {
                try await s3.putObject(bucket: bucket, key: "once", data: Data("2".utf8), ifNoneMatch: true)
            }
            #expect(conflict?.isPreconditionFailed == true)
            #expect(try await s3.getObject(bucket: bucket, key: "once") == Data("1".utf8))

            // Pagination: 23 objects under a prefix, listed 5 at a time.
            for i in 0..<23 { try await s3.putObject(bucket: bucket, key: String(format: "paged/%03d", i), data: Data([UInt8(i)])) }
            let page = try await s3.listObjectsV2(bucket: bucket, prefix: "paged/", maxKeys: 5)
            #expect(page.objects.count == 5 && page.nextContinuationToken != nil)
            let all = try await s3.listAllObjects(bucket: bucket, prefix: "paged/", pageSize: 5)
            #expect(all.map(\.key) == (0..<23).map { String(format: "paged/%03d", $0) })
            #expect(all.allSatisfy { $0.size == 1 })
            let dirs = try await s3.listObjectsV2(bucket: bucket, prefix: "", delimiter: "/")
            #expect(Set(dirs.commonPrefixes) == ["paged/", "prefix/"])

            // Delete everything, then the bucket.
            for object in try await s3.listAllObjects(bucket: bucket) { try await s3.deleteObject(bucket: bucket, key: object.key) }
            #expect(try await s3.listAllObjects(bucket: bucket).isEmpty)
            try await s3.deleteBucket(bucket)
            let gone = await #expect(throws: AWSError.self) { try await s3.listObjectsV2(bucket: bucket) }
            #expect(gone?.serviceCode == "NoSuchBucket")
            }
        }
    }

    @Test func ecrTokenAndRepositories() async throws {
        try await MotoServer.with { moto in
            let env = try TestEnvironment.moto(moto)
            defer { env.cleanup() }
            try await env.withClient { client in
            let ecr = ECRClient(client: client)
            let token = try await ecr.getAuthorizationToken()
            #expect(token.username == "AWS")
            #expect(!token.password.isEmpty)
            #expect(token.proxyEndpoint.hasPrefix("https://"))
            #expect(!token.description.contains(token.password))
            let repo = try await ecr.createRepository(name: "team/app", scanOnPush: true, tags: ["owner": "stackship"])
            #expect(repo.repositoryName == "team/app")
            #expect(repo.repositoryUri?.hasSuffix("/team/app") == true)
            #expect(try await ecr.describeRepositories(names: ["team/app"]).map(\.repositoryName) == ["team/app"])
            #expect(try await ecr.describeRepositories().map(\.repositoryName).contains("team/app"))
            let dup = await #expect(throws: AWSError.self) { try await ecr.createRepository(name: "team/app") }
            #expect(dup?.serviceCode == "RepositoryAlreadyExistsException")
            try await ecr.deleteRepository(name: "team/app", force: true)
            let gone = await #expect(throws: AWSError.self) { try await ecr.describeRepositories(names: ["team/app"]) }
            #expect(gone?.serviceCode == "RepositoryNotFoundException")
            }
        }
    }

    @Test func secretsManagerRoundTrip() async throws {
        try await MotoServer.with { moto in
            let env = try TestEnvironment.moto(moto)
            defer { env.cleanup() }
            try await env.withClient { client in
            let sm = SecretsManagerClient(client: client)
            let created = try await sm.createSecret(name: "stackship/db", secretString: "s3cr3t-value-1")
            #expect(created.name == "stackship/db" && created.arn.contains("stackship/db"))
            #expect(try await sm.getSecretValue(id: "stackship/db").secretString == "s3cr3t-value-1")
            _ = try await sm.putSecretValue(id: "stackship/db", secretString: "s3cr3t-value-2")
            let current = try await sm.getSecretValue(id: created.arn)
            #expect(current.secretString == "s3cr3t-value-2")
            #expect(!current.description.contains("s3cr3t"))
            try await sm.deleteSecret(id: "stackship/db", force: true)
            let gone = await #expect(throws: AWSError.self) { try await sm.getSecretValue(id: "stackship/db") }
            #expect(gone?.serviceCode == "ResourceNotFoundException")
            #expect(gone?.description.contains("s3cr3t") == false)
            }
        }
    }

    static let template = """
    {
      "AWSTemplateFormatVersion": "2010-09-09",
      "Description": "stackship test stack",
      "Parameters": { "Greeting": { "Type": "String", "Default": "hello" } },
      "Resources": {
        "Cache": { "Type": "AWS::S3::Bucket", "Properties": { "BucketName": "stackship-cf-test-bucket" } },
        "Setting": { "Type": "AWS::SSM::Parameter", "Properties": { "Name": "/stackship/greeting", "Type": "String", "Value": { "Ref": "Greeting" } } }
      },
      "Outputs": { "BucketName": { "Value": { "Ref": "Cache" } } }
    }
    """

    @Test func cloudFormationDeployFollowAndDelete() async throws {
        try await MotoServer.with { moto in
            let env = try TestEnvironment.moto(moto)
            defer { env.cleanup() }
            try await env.withClient { client in
            let cf = CloudFormationClient(client: client)
            let summary = try await cf.validateTemplate(body: Self.template)
            // moto answers ValidateTemplate with the Description but no Parameters (AWS lists them).
            #expect(summary.description == "stackship test stack")
            let invalid = await #expect(throws: AWSError.self) { try await cf.validateTemplate(body: "{ not a template") }
            #expect(invalid?.serviceCode == "ValidationError")

            let created = try await cf.createChangeSet(stackName: "stackship-test", changeSetName: "deploy-1", templateBody: Self.template,
                                                       type: .create, parameters: ["Greeting": "hi"], tags: ["app": "stackship"])
            #expect(!created.id.isEmpty && !created.stackID.isEmpty)
            let changeSet = try await cf.waitForChangeSet(stackName: "stackship-test", changeSetName: "deploy-1", pollInterval: .milliseconds(200))
            #expect(Set(changeSet.changes.map(\.logicalResourceID)) == ["Cache", "Setting"])
            #expect(changeSet.changes.allSatisfy { $0.action == "Add" })

            let marker = try await cf.latestEventID(stackName: "stackship-test")
            #expect(marker != nil) // the REVIEW_IN_PROGRESS event of the new stack
            try await cf.executeChangeSet(stackName: "stackship-test", changeSetName: "deploy-1")
            var events: [CloudFormationClient.StackEvent] = []
            for try await event in cf.stackEvents(stackName: "stackship-test", afterEventID: marker, pollInterval: .milliseconds(200), timeout: .seconds(120)) {
                events.append(event)
            }
            // moto records stack-level events only (AWS adds one per resource); the stream holds the
            // operation's events, oldest first, each once, and not the marker's.
            #expect(events.map(\.resourceStatus) == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"])
            #expect(events.allSatisfy { $0.logicalResourceID == "stackship-test" })
            #expect(!events.contains { $0.resourceStatus == "REVIEW_IN_PROGRESS" })

            let stack = try #require(try await cf.describeStack("stackship-test"))
            #expect(stack.status == "CREATE_COMPLETE")
            let resources = try await cf.describeStackResources(stackName: "stackship-test")
            #expect(Set(resources.map(\.resourceType)) == ["AWS::S3::Bucket", "AWS::SSM::Parameter"])
            #expect(resources.first { $0.logicalResourceID == "Cache" }?.physicalResourceID == "stackship-cf-test-bucket")
            // The bucket really exists.
            #expect(try await S3Client(client: client).listObjectsV2(bucket: "stackship-cf-test-bucket").objects.isEmpty)
            // Waiting on a finished stack returns at once.
            #expect(try await cf.waitForStack(stackName: "stackship-test", pollInterval: .milliseconds(200))?.status == "CREATE_COMPLETE")

            // An update that changes nothing is reported, not failed.
            // (AWS creates a FAILED change set saying so; moto refuses CreateChangeSet with a ValidationError.)
            do {
                _ = try await cf.createChangeSet(stackName: "stackship-test", changeSetName: "deploy-2", templateBody: Self.template,
                                                 type: .update, parameters: ["Greeting": "hi"])
                let same = try await cf.waitForChangeSet(stackName: "stackship-test", changeSetName: "deploy-2", pollInterval: .milliseconds(200))
                #expect(same.hasNoChanges)
            } catch {
                #expect(CloudFormationClient.isNoChangesError(error), "\(error)")
            }

            try await cf.deleteStack(stack.stackID)
            let final = try await cf.waitForStack(stackName: stack.stackID, pollInterval: .milliseconds(200), timeout: .seconds(120))
            #expect(final == nil || final?.status == "DELETE_COMPLETE")
            let after = try await cf.describeStack("stackship-test")
            #expect(after == nil || after?.status == "DELETE_COMPLETE")
            }
        }
    }

    @Test func cloudFormationFailedStackIsAClearError() async throws {
        try await MotoServer.with { moto in
            let env = try TestEnvironment.moto(moto)
            defer { env.cleanup() }
            try await env.withClient { client in
            let cf = CloudFormationClient(client: client)
            // A resource that cannot be created: moto refuses ExecuteChangeSet outright (AWS would
            // roll back; that path is covered by the status classification below).
            let template = #"{"Resources":{"B":{"Type":"AWS::S3::Bucket","Properties":{"BucketName":"taken-bucket"}}}}"#
            try await S3Client(client: client).createBucket("taken-bucket")
            _ = try await cf.createChangeSet(stackName: "failing", changeSetName: "c", templateBody: template, type: .create)
            _ = try await cf.waitForChangeSet(stackName: "failing", changeSetName: "c", pollInterval: .milliseconds(200))
            let error = await #expect(throws: AWSError.self) { try await cf.executeChangeSet(stackName: "failing", changeSetName: "c") }
            #expect(error?.serviceCode == "BucketAlreadyExists")
            #expect(error?.description.contains("CloudFormation.ExecuteChangeSet") == true)
            // A change set for a stack that does not exist (UPDATE) is refused by the service.
            let missing = await #expect(throws: AWSError.self) {
                try await cf.createChangeSet(stackName: "no-such-stack", changeSetName: "c", templateBody: Self.template, type: .update)
            }
            #expect(missing?.serviceCode != nil)
            }
        }
    }

    @Test func stackStatusClassification() {
        for status in ["CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"] {
            #expect(CloudFormationClient.outcome(ofStatus: status) == .succeeded, "\(status)")
        }
        for status in ["ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_FAILED"] {
            #expect(CloudFormationClient.outcome(ofStatus: status) == .failed, "\(status)")
        }
        for status in ["CREATE_IN_PROGRESS", "REVIEW_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"] {
            #expect(CloudFormationClient.outcome(ofStatus: status) == .inProgress, "\(status)")
        }
        let failing = AWSError.stackOperationFailed(stack: "s", status: "ROLLBACK_COMPLETE", reason: "Cache (AWS::S3::Bucket) CREATE_FAILED: exists")
        #expect(failing.description.contains("ROLLBACK_COMPLETE") && failing.description.contains("Cache") && failing.description.contains("describe-stack-events"))
    }

    @Test func codeBuildStartBuildBatch() async throws {
        try await MotoServer.with { moto in
            let env = try TestEnvironment.moto(moto)
            defer { env.cleanup() }
            try await env.withClient { client in
            let cb = CodeBuildClient(client: client)
            do {
                let batch = try await cb.startBuildBatch(project: "stackship", sourceVersion: "main")
                let got = try await cb.batchGetBuildBatches(ids: [batch.id])
                #expect(got.first?.id == batch.id)
            } catch let error as AWSError {
                // moto does not implement StartBuildBatch: it answers with an error, which must
                // come back as a service error naming the operation (not a crash or a hang).
                #expect(error.description.contains("CodeBuild.StartBuildBatch"), "moto: \(error)")
            }
            }
        }
    }
}
