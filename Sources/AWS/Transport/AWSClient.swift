import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import OCI
import Support

/// What every service client shares: credentials (refreshed when they near expiry), the
/// region, endpoint resolution (an override, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, or
/// AWS's own) and the HTTP transport with retries.
///
/// Make one per process (or per profile/region), hand it to the service clients, and call
/// `shutdown()` at the end.
public final class AWSClient: ShutdownClient {
    /// The region requests are signed for and sent to.
    public let region: String
    /// Where credentials come from.
    public let credentialProvider: AWSCredentialProvider
    /// An endpoint URL for every service (`--endpoint-url`), overriding the environment.
    public let endpointOverride: String?
    /// The environment endpoint variables are read from.
    public let environment: [String: String]
    /// The HTTP transport.
    public let transport: AWSHTTPTransport

    /// A client with explicit parts.
    public init(credentials: AWSCredentialProvider, region: String, endpoint: String? = nil,
                options: AWSTransportOptions = AWSTransportOptions()) {
        self.credentialProvider = credentials
        self.region = region
        self.endpointOverride = endpoint
        self.environment = options.environment
        self.transport = AWSHTTPTransport(options: options)
    }

    /// A client configured the AWS CLI's way: region from `region`, AWS_REGION,
    /// AWS_DEFAULT_REGION or the profile; credentials from the standard chain (resolved on
    /// first use); endpoints from `endpoint` or the AWS_ENDPOINT_URL variables.
    /// Throws `AWSError.noRegion` when no region is configured.
    public convenience init(profile: String? = nil, region: String? = nil, endpoint: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            home: String = NSHomeDirectory(), caCertificates: [String] = []) throws {
        let resolved = try AWSRegion.resolve(explicit: region, profile: profile, environment: environment, home: home)
        let provider = AWSCredentialProvider(profile: profile, environment: environment, home: home)
        self.init(credentials: provider, region: resolved, endpoint: endpoint,
                  options: AWSTransportOptions(environment: environment, caCertificates: caCertificates))
    }

    /// Closes the connections. The client must not be used afterwards.
    public func shutdown() async {
        await transport.shutdown()
    }

    /// The endpoint for `service` (see `AWSEndpoint.resolve`).
    public func endpoint(for service: AWSService) throws -> AWSEndpoint {
        try AWSEndpoint.resolve(service: service, region: region, explicit: endpointOverride, environment: environment)
    }

    // MARK: - Sending

    /// Sends `request` and returns the whole response (at most `limit` bytes), retrying
    /// throttling, 5xx and connection failures. An error status throws `AWSError.service`.
    public func send(_ request: AWSRequest, limit: Int = 64 << 20) async throws -> AWSResponse {
        try await perform(request) { response, _ in
            let body = try await response.body.collect(upTo: limit)
            return AWSResponse(status: Int(response.status.code), headers: response.headers, body: Data(body.readableBytesView))
        }
    }

    /// Sends `request` and hands a successful (2xx/3xx) response to `consume` to stream its body.
    /// Errors are thrown as in `send`; a transient failure inside `consume` retries the request.
    public func stream<T: Sendable>(_ request: AWSRequest, _ consume: @Sendable (HTTPClientResponse) async throws -> T) async throws -> T {
        try await perform(request) { response, _ in try await consume(response) }
    }

    private func perform<T>(_ request: AWSRequest, _ consume: (HTTPClientResponse, Int) async throws -> T) async throws -> T {
        let policy = transport.options.retry
        var endpoint = try endpoint(for: request.service)
        endpoint.host = request.hostPrefix + endpoint.host
        var attempt = 0
        while true {
            attempt += 1
            let http = try await build(request, endpoint: endpoint)
            let response: HTTPClientResponse
            do {
                response = try await transport.execute(http, endpoint: endpoint, bodyLength: request.body.length)
            } catch {
                if error is CancellationError { throw error }
                if AWSHTTPTransport.isTransient(error), attempt < policy.maxAttempts {
                    try await Task.sleep(for: policy.delay(afterAttempt: attempt))
                    continue
                }
                throw AWSError.transport(operation: request.qualifiedName, endpoint: endpoint.description,
                                         reason: Self.describe(error) + (attempt > 1 ? " (after \(attempt) attempts)" : ""))
            }
            let status = Int(response.status.code)
            if status >= 300 && !(request.method == .HEAD && status == 304) {
                let body = (try? await response.body.collect(upTo: 1 << 20)).map { Data($0.readableBytesView) } ?? Data()
                let error = AWSErrorParser.parse(operation: request.qualifiedName, status: status, headers: response.headers, body: body)
                if (AWSRetryPolicy.isRetryable(status: status) || AWSRetryPolicy.retryableCodes.contains(error.code)), attempt < policy.maxAttempts {
                    try await Task.sleep(for: policy.delay(afterAttempt: attempt))
                    continue
                }
                throw AWSError.service(error)
            }
            do {
                return try await consume(response, attempt)
            } catch {
                if !(error is AWSError), AWSHTTPTransport.isTransient(error), attempt < policy.maxAttempts {
                    try await Task.sleep(for: policy.delay(afterAttempt: attempt))
                    continue
                }
                if error is AWSError || error is CancellationError { throw error }
                throw AWSError.transport(operation: request.qualifiedName, endpoint: endpoint.description, reason: Self.describe(error))
            }
        }
    }

    /// Builds and signs the HTTP request for one attempt.
    private func build(_ request: AWSRequest, endpoint: AWSEndpoint) async throws -> HTTPClientRequest {
        let path = endpoint.basePath + (request.path.hasPrefix("/") ? request.path : "/" + request.path)
        let query = AWSURIEncoding.formEncode(request.query)
        var headers = request.headers
        headers.replaceOrAdd(name: "Host", value: endpoint.hostHeader)
        if headers.first(name: "User-Agent") == nil { headers.add(name: "User-Agent", value: "stackship") }
        let payloadHash: String
        switch request.body {
        case .empty: payloadHash = SigV4Signer.emptyPayloadHash
        case let .data(data): payloadHash = SigV4Signer.hex(SHA256.hash(data: data))
        case let .file(_, _, sha256): payloadHash = sha256
        }
        if request.signed {
            let credentials = try await credentialProvider.credentials()
            let options: SigV4Signer.Options = request.service == .s3 ? .s3 : .standard
            let signer = SigV4Signer(credentials: credentials, region: region, service: request.service.signingName, options: options)
            var signable = SigV4Request(method: request.method.rawValue, path: path, query: query, headers: headers)
            signer.sign(&signable, payloadHash: payloadHash)
            headers = signable.headers
        }
        var http = HTTPClientRequest(url: "\(endpoint.scheme)://\(endpoint.hostHeader)\(path)\(query.isEmpty ? "" : "?" + query)")
        http.method = request.method
        http.headers = headers
        switch request.body {
        case .empty:
            if request.method == .PUT || request.method == .POST { http.body = .bytes(ByteBuffer()) }
        case let .data(data):
            http.body = .bytes(ByteBuffer(bytes: data))
        case let .file(path, size, _):
            http.body = .stream(FileChunks(path: path, size: size), length: .known(size))
        }
        return http
    }

    /// A transport error for a message: one line, never a source path of a dependency.
    static func describe(_ error: Error) -> String {
        let text: String
        if let e = error as? HTTPClientError, e == .getConnectionFromPoolTimeout {
            text = "no pooled connection became free in time (every connection stayed busy: the server, or this process, is overloaded)"
        } else if let e = error as? HTTPClientError { text = "\(e)" }
        // NIO's own wording ("connection reset (error set): Connection refused)") says less than the errno.
        else if let e = error as? IOError { text = "\(String(cString: strerror(e.errnoCode))) (errno \(e.errnoCode))" }
        else { text = "\(error)" }
        let reasons = DiagnosticText.tlsReasons(in: text)
        if !reasons.isEmpty { return "handshake failed: " + reasons.joined(separator: ", ") }
        return DiagnosticText.withoutSourcePaths(text)
    }
}

/// A file read in 1 MiB chunks, as an async sequence of buffers for a streamed request body.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    let size: Int64

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?
        let path: String
        var remaining: Int64

        mutating func next() async throws -> ByteBuffer? {
            guard remaining > 0 else { try? handle?.close(); return nil }
            guard let handle else { throw AWSError.fileUnreadable(path: path, reason: "cannot open") }
            let chunk = try handle.read(upToCount: Int(Swift.min(remaining, 1 << 20))) ?? Data()
            guard !chunk.isEmpty else { throw AWSError.fileUnreadable(path: path, reason: "the file shrank while it was being uploaded") }
            remaining -= Int64(chunk.count)
            return ByteBuffer(bytes: chunk)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(handle: FileHandle(forReadingAtPath: path), path: path, remaining: size)
    }
}
