import AsyncHTTPClient
import Foundation
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
            #expect(AWSHTTPTransport.isTransient(error), "\(error)")
        }
        for error: Error in [HTTPClientError.invalidURL, HTTPClientError.bodyLengthMismatch, CancellationError(),
                             AWSError.transport(operation: "S3.PutObject", endpoint: "x", reason: "y")] {
            #expect(!AWSHTTPTransport.isTransient(error), "\(error)")
        }
    }

    /// One connection to moto, a 300 ms limit on waiting for it, and a first request that holds
    /// it for 1.5 s: the second request's waits run out, and it is retried until it gets through.
    @Test func aRequestThatWaitsTooLongForAPooledConnectionIsRetried() async throws {
        try await MotoServer.with { moto in
            let env = try TestEnvironment.moto(moto)
            defer { env.cleanup() }
            let bucket = "pool-\(UUID().uuidString.lowercased().prefix(8))"
            func client(_ retry: AWSRetryPolicy) -> AWSClient {
                AWSClient(credentials: AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "AKIAMOTOTESTKEY00001", secretAccessKey: "moto-secret")),
                          region: "us-east-1", endpoint: moto.endpoint,
                          options: AWSTransportOptions(environment: [:], retry: retry, connectTimeout: .milliseconds(300), connectionsPerHost: 1))
            }
            let patient = client(AWSRetryPolicy(maxAttempts: 12, baseDelay: .milliseconds(100), maxDelay: .milliseconds(400)))
            let once = client(.none)
            try await patient.withShutdown { patient in try await once.withShutdown { once in
            let s3 = S3Client(client: patient)
            try await s3.createBucket(bucket)
            // Large enough that its body cannot sit in socket buffers: the connection stays leased
            // until the holder reads it.
            try await s3.putObject(bucket: bucket, key: "big", data: Data(repeating: 7, count: 16 << 20))
            try await s3.putObject(bucket: bucket, key: "small", data: Data("hi".utf8))

            for (name, c) in [("patient", patient), ("once", once)] {
                let held = Flag()
                let holder = Task {
                    try await c.stream(S3Client(client: c).request("GetObject", .GET, bucket: bucket, key: "big")) { response in
                        held.set()
                        try await Task.sleep(for: .milliseconds(1500))
                        return try await response.body.collect(upTo: 32 << 20).readableBytes
                    }
                }
                while !held.isSet { try await Task.sleep(for: .milliseconds(10)) }
                let started = ContinuousClock.now
                if name == "patient" {
                    let small = try await S3Client(client: c).getObject(bucket: bucket, key: "small")
                    #expect(small == Data("hi".utf8))
                    #expect(ContinuousClock.now - started > .milliseconds(600), "it outlived more than one 300 ms wait: it was retried")
                } else {
                    // The same wait without retries fails: the set-up really does run out the pool wait.
                    let error = await #expect(throws: AWSError.self) { try await S3Client(client: c).getObject(bucket: bucket, key: "small") }
                    #expect(error?.description.contains("getConnectionFromPoolTimeout") == true, "\(String(describing: error))")
                }
                #expect(try await holder.value == 16 << 20)
            }
            } }
        }
    }
}

/// A flag one task sets and another polls.
private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
