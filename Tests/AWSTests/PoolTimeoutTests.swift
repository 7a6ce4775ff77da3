import AsyncHTTPClient
import Foundation
import HTTPCore
import NIOCore
import StackshipTesting
import Testing
@testable import AWS

/// A slow S3 is a reason to wait and try again, not to fail: a request that waited too long for
/// a pooled connection, or for a connection to open, is retried with backoff.
@Suite(.serialized) struct PoolTimeoutTests {
    @Test func poolAndConnectTimeoutsAreTransient() {
        for error: Error in [HTTPClientError.getConnectionFromPoolTimeout, HTTPClientError.connectTimeout, HTTPClientError.tlsHandshakeTimeout,
                             HTTPClientError.remoteConnectionClosed, ChannelError.connectTimeout(.seconds(1))] {
            #expect(RetryClassifier.aws.isTransientFailure(error), "\(error)")
        }
        for error: Error in [HTTPClientError.invalidURL, HTTPClientError.bodyLengthMismatch, CancellationError(),
                             AWSError.transport(operation: "S3.PutObject", endpoint: "x", reason: "y")] {
            #expect(!RetryClassifier.aws.isTransientFailure(error), "\(error)")
        }
    }

    /// Runs `body` while a GetObject of `big` on `client` holds its connection for 1.5 s.
    static func whileTheConnectionIsHeld(by client: AWSClient, bucket: String, _ body: () async throws -> Void) async throws {
        let held = Flag()
        let holder = Task {
            try await client.stream(S3Client(client: client).request("GetObject", .GET, bucket: bucket, key: "big")) { response in
                held.set()
                try await Task.sleep(for: .milliseconds(1500))
                return try await response.body.collect(upTo: 32 << 20).readableBytes
            }
        }
        while !held.isSet { try await Task.sleep(for: .milliseconds(10)) }
        try await body()
        #expect(try await holder.value == 16 << 20)
    }
}

/// A flag one task sets and another polls.
private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

extension PoolTimeoutTests {
    /// The tests of this suite that start a real component or need root:
    /// `swift test --skip Integration` (the unit tier) leaves them out.
    @Suite struct Integration {
        /// One connection to moto, a 300 ms limit on waiting for it, and a first request that holds
        /// it for 1.5 s: the second request's waits run out, and it is retried until it gets through.
        @Test func aRequestThatWaitsTooLongForAPooledConnectionIsRetried() async throws {
            try await MotoServer.with { moto in
                let bucket = "pool-\(UUID().uuidString.lowercased().prefix(8))"
                func client(_ retry: RetryPolicy) -> AWSClient {
                    AWSClient(credentials: AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "AKIAMOTOTESTKEY00001", secretAccessKey: "moto-secret")),
                              region: "us-east-1", endpoint: moto.endpoint,
                              options: TransportOptions(environment: [:], retry: retry, connectTimeout: .milliseconds(300), connectionsPerHost: 1))
                }
                // Patient enough for a loaded test process, whose tasks (the holder's among them) can
                // wait seconds for a thread: ~60 attempts of a 300 ms wait and up to 1 s of backoff.
                try await client(RetryPolicy(maxAttempts: 60, baseDelay: .milliseconds(100), maxDelay: .seconds(1))).withShutdown { patient in
                    let s3 = S3Client(client: patient)
                    try await s3.createBucket(bucket)
                    // Large enough not to fit in socket buffers: the connection stays leased until
                    // the holder reads the body.
                    try await s3.putObject(bucket: bucket, key: "big", data: Data(repeating: 7, count: 16 << 20))
                    try await s3.putObject(bucket: bucket, key: "small", data: Data("hi".utf8))

                    try await PoolTimeoutTests.whileTheConnectionIsHeld(by: patient, bucket: bucket) {
                        let started = ContinuousClock.now
                        let small = try await s3.getObject(bucket: bucket, key: "small")
                        #expect(small == Data("hi".utf8))
                        #expect(ContinuousClock.now - started > .milliseconds(600), "it outlived more than one 300 ms wait: it was retried")
                    }
                    // The same without retries fails: the set-up really does run out the pool wait.
                    try await client(.none).withShutdown { once in
                        try await PoolTimeoutTests.whileTheConnectionIsHeld(by: once, bucket: bucket) {
                            let error = await #expect(throws: AWSError.self) { try await S3Client(client: once).getObject(bucket: bucket, key: "small") }
                            #expect(error?.description.contains("no pooled connection became free in time") == true, "\(String(describing: error))")
                        }
                    }
                }
            }
        }
    }
}
