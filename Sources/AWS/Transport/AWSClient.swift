import Crypto
import Foundation
import HTTPCore
import NIOCore
import NIOHTTP1
import Support

/// What every service client shares: credentials (refreshed when they near expiry), the
/// region, endpoint resolution (an override, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, or
/// AWS's own) and the HTTP transport (HTTPCore) with AWS's retry classifier.
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
    /// The HTTP transport every request goes through.
    public let transport: any HTTPTransporting

    /// A client with explicit parts. AWS_CA_BUNDLE in the options' environment is trusted too.
    public convenience init(credentials: AWSCredentialProvider, region: String, endpoint: String? = nil,
                            options: TransportOptions = TransportOptions(retry: .aws)) {
        var options = options
        if let bundle = options.environment["AWS_CA_BUNDLE"], !bundle.isEmpty, !options.caCertificates.contains(bundle) {
            options.caCertificates.append(bundle)
        }
        self.init(credentials: credentials, region: region, endpoint: endpoint, transport: HTTPTransport(options: options, classifier: .aws))
    }

    /// A client over `transport` (which the client shuts down with itself); endpoint variables
    /// are read from the transport options' environment.
    public init(credentials: AWSCredentialProvider, region: String, endpoint: String? = nil, transport: any HTTPTransporting) {
        self.credentialProvider = credentials
        self.region = region
        self.endpointOverride = endpoint
        self.environment = transport.options.environment
        self.transport = transport
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
                  options: TransportOptions(caCertificates: caCertificates, environment: environment, retry: .aws))
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
        try await perform(request) { response in
            let body = try await response.body.collect(upTo: limit)
            return AWSResponse(status: response.code, headers: response.headers, body: Data(body.readableBytesView))
        }
    }

    /// Sends `request` and hands a successful (2xx/3xx) response to `consume` to stream its body.
    /// Errors are thrown as in `send`; a body that breaks off inside `consume` retries the request.
    public func stream<T: Sendable>(_ request: AWSRequest, _ consume: @Sendable (HTTPResponse) async throws -> T) async throws -> T {
        try await perform(request, consume)
    }

    /// One AWS call through the transport: signed afresh for each attempt; an error answer
    /// (after the retries the classifier asks for) thrown as `AWSError.service`, a failure to
    /// get one as `AWSError.transport`.
    private func perform<T>(_ request: AWSRequest, _ consume: (HTTPResponse) async throws -> T) async throws -> T {
        var endpoint = try endpoint(for: request.service)
        endpoint.host = request.hostPrefix + endpoint.host
        let target = endpoint
        do {
            return try await transport.perform(request.qualifiedName, retry: nil, { try await build(request, endpoint: target) }) { response in
                let status = response.code
                if status >= 300 && !(request.method == .HEAD && status == 304) {
                    let body = (try? await response.body.collect(upTo: 1 << 20)).map { Data($0.readableBytesView) } ?? Data()
                    throw AWSError.service(AWSErrorParser.parse(operation: request.qualifiedName, status: status, headers: response.headers, body: body))
                }
                return try await consume(response)
            }
        } catch let error as HTTPError {
            if case let .bodyFileUnreadable(path, reason) = error { throw AWSError.fileUnreadable(path: path, reason: reason) }
            throw AWSError.transport(operation: request.qualifiedName, endpoint: endpoint.description, reason: error.detail)
        }
    }

    /// Builds and signs the HTTP request for one attempt.
    private func build(_ request: AWSRequest, endpoint: AWSEndpoint) async throws -> HTTPRequest {
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
        var http = HTTPRequest(url: "\(endpoint.scheme)://\(endpoint.hostHeader)\(path)\(query.isEmpty ? "" : "?" + query)",
                               method: request.method, headers: headers)
        switch request.body {
        case .empty:
            if request.method == .PUT || request.method == .POST { http.body = .bytes(ByteBuffer()) }
        case let .data(data):
            http.body = .bytes(data)
        case let .file(path, size, _):
            http.body = .file(path, length: size)
        }
        return http
    }
}
