import Crypto
import Foundation
import NIOHTTP1

/// A request as the signer sees it: the method, the path and query exactly as they go on the
/// wire (percent-encoded), and the headers (Host included).
public struct SigV4Request: Sendable {
    /// GET, PUT, POST, …
    public var method: String
    /// The percent-encoded path as sent, starting with "/".
    public var path: String
    /// The raw query string as sent, without "?" ("" for none).
    public var query: String
    /// The headers; `Host` must be among them.
    public var headers: HTTPHeaders

    /// A request from its parts.
    public init(method: String, path: String, query: String = "", headers: HTTPHeaders) {
        self.method = method
        self.path = path.isEmpty ? "/" : path
        self.query = query
        self.headers = headers
    }
}

/// The intermediate values of one signature, exposed so they can be checked against AWS's
/// test suite and shown when debugging a SignatureDoesNotMatch.
public struct SigV4Signature: Sendable {
    /// The canonical request (secrets appear in it only as the session token's query value
    /// when presigning; never log it for presigned requests).
    public var canonicalRequest: String
    /// The string to sign.
    public var stringToSign: String
    /// The hex signature.
    public var signature: String
    /// Header mode: the headers that were added (X-Amz-Date, X-Amz-Security-Token,
    /// x-amz-content-sha256, Authorization). Query mode: empty.
    public var addedHeaders: HTTPHeaders
    /// Query mode: the complete query string (the request's own parameters first, then the
    /// X-Amz-* ones and X-Amz-Signature). Header mode: the request's query unchanged.
    public var query: String
}

/// AWS Signature Version 4 (header signing and query presigning).
///
/// Services other than S3 normalise the path (`.`/`..` segments, repeated slashes) and encode
/// it a second time; S3 does neither (`SigV4Signer.Options.s3`) and also wants the payload's
/// hash in `x-amz-content-sha256` (which may be `UNSIGNED-PAYLOAD`).
public struct SigV4Signer: Sendable {
    /// How the canonical request is built.
    public struct Options: Sendable {
        /// Remove `.`/`..` segments and repeated slashes from the path before signing.
        public var normalizePath: Bool
        /// Percent-encode the (already encoded) path once more.
        public var doubleEncodePath: Bool
        /// Header mode: add `x-amz-content-sha256` with the payload hash and sign it.
        public var addContentSHA256Header: Bool
        /// Leave the session token out of the signature and add it afterwards (a few
        /// services, e.g. IoT, want this; most do not).
        public var omitSessionTokenFromSignature: Bool

        /// Options from their parts.
        public init(normalizePath: Bool = true, doubleEncodePath: Bool = true,
                    addContentSHA256Header: Bool = false, omitSessionTokenFromSignature: Bool = false) {
            self.normalizePath = normalizePath
            self.doubleEncodePath = doubleEncodePath
            self.addContentSHA256Header = addContentSHA256Header
            self.omitSessionTokenFromSignature = omitSessionTokenFromSignature
        }

        /// Every service but S3.
        public static let standard = Options()
        /// S3: no normalisation, single encoding, x-amz-content-sha256.
        public static let s3 = Options(normalizePath: false, doubleEncodePath: false, addContentSHA256Header: true)
    }

    /// The hash of an empty payload.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// The payload hash S3 accepts for payloads that are not hashed.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// Headers that proxies and clients change in flight, so they are never signed.
    static let unsignedHeaders: Set<String> = ["authorization", "user-agent", "x-amzn-trace-id", "expect", "connection", "transfer-encoding"]

    /// The key pair used.
    public var credentials: AWSCredentials
    /// The region in the credential scope, e.g. "us-east-1".
    public var region: String
    /// The signing name, e.g. "s3", "sts".
    public var service: String
    /// Canonicalisation choices.
    public var options: Options

    /// A signer for one service in one region.
    public init(credentials: AWSCredentials, region: String, service: String, options: Options = .standard) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options
    }

    /// Signs `request` with an Authorization header, adding X-Amz-Date, the session token and
    /// (with `addContentSHA256Header`) x-amz-content-sha256 to its headers.
    /// `payloadHash` is the hex SHA-256 of the body (or `unsignedPayload` for S3).
    @discardableResult
    public func sign(_ request: inout SigV4Request, payloadHash: String, date: Date = Date()) -> SigV4Signature {
        let (amzDate, day) = Self.timestamps(date)
        var added = HTTPHeaders()
        request.headers.remove(name: "Authorization")
        request.headers.replaceOrAdd(name: "X-Amz-Date", value: amzDate)
        added.add(name: "X-Amz-Date", value: amzDate)
        if options.addContentSHA256Header {
            request.headers.replaceOrAdd(name: "x-amz-content-sha256", value: payloadHash)
            added.add(name: "x-amz-content-sha256", value: payloadHash)
        }
        let token = credentials.sessionToken
        if let token, !options.omitSessionTokenFromSignature {
            request.headers.replaceOrAdd(name: "X-Amz-Security-Token", value: token)
            added.add(name: "X-Amz-Security-Token", value: token)
        }
        let (canonicalHeaders, signedHeaders) = canonicalHeaders(request.headers)
        let canonical = [request.method.uppercased(), canonicalPath(request.path), canonicalQuery(request.query),
                         canonicalHeaders, signedHeaders, payloadHash].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Data(canonical.utf8)))].joined(separator: "\n")
        let signature = self.signature(stringToSign, day: day)
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        request.headers.add(name: "Authorization", value: authorization)
        added.add(name: "Authorization", value: authorization)
        if let token, options.omitSessionTokenFromSignature {
            request.headers.replaceOrAdd(name: "X-Amz-Security-Token", value: token)
            added.add(name: "X-Amz-Security-Token", value: token)
        }
        return SigV4Signature(canonicalRequest: canonical, stringToSign: stringToSign, signature: signature, addedHeaders: added, query: request.query)
    }

    /// Presigns `request` in the query string, valid for `expires` seconds from `date`; the
    /// result's `query` is what goes after "?". Every header of `request` is signed, so the
    /// user of the URL must send them unchanged.
    public func presign(_ request: SigV4Request, expires: Int, payloadHash: String = unsignedPayload, date: Date = Date()) -> SigV4Signature {
        let (amzDate, day) = Self.timestamps(date)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let (canonicalHeaders, signedHeaders) = canonicalHeaders(request.headers)
        var params: [(String, String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"),
            ("X-Amz-Date", amzDate),
            ("X-Amz-SignedHeaders", signedHeaders),
            ("X-Amz-Expires", String(expires)),
        ]
        if let token = credentials.sessionToken, !options.omitSessionTokenFromSignature { params.append(("X-Amz-Security-Token", token)) }
        let added = AWSURIEncoding.formEncode(params)
        let fullQuery = request.query.isEmpty ? added : request.query + "&" + added
        let canonical = [request.method.uppercased(), canonicalPath(request.path), canonicalQuery(fullQuery),
                         canonicalHeaders, signedHeaders, payloadHash].joined(separator: "\n")
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Data(canonical.utf8)))].joined(separator: "\n")
        let signature = self.signature(stringToSign, day: day)
        var final = fullQuery + "&X-Amz-Signature=" + signature
        if let token = credentials.sessionToken, options.omitSessionTokenFromSignature {
            final += "&X-Amz-Security-Token=" + AWSURIEncoding.encode(token)
        }
        return SigV4Signature(canonicalRequest: canonical, stringToSign: stringToSign, signature: signature, addedHeaders: HTTPHeaders(), query: final)
    }

    // MARK: - Canonical parts

    /// The canonical URI: normalised and encoded once more, or (S3) as sent.
    public func canonicalPath(_ path: String) -> String {
        var p = path.isEmpty ? "/" : path
        if options.normalizePath { p = Self.normalize(p) }
        if options.doubleEncodePath {
            p = p.split(separator: "/", omittingEmptySubsequences: false).map { AWSURIEncoding.encode(String($0)) }.joined(separator: "/")
        }
        return p
    }

    /// The canonical query: each name and value decoded then encoded the SigV4 way, sorted by
    /// name then value; a parameter without "=" gets an empty value.
    public func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs: [(String, String)] = query.split(separator: "&").map { part in
            if let eq = part.firstIndex(of: "=") {
                return (AWSURIEncoding.encode(AWSURIEncoding.decode(String(part[..<eq]))),
                        AWSURIEncoding.encode(AWSURIEncoding.decode(String(part[part.index(after: eq)...]))))
            }
            return (AWSURIEncoding.encode(AWSURIEncoding.decode(String(part))), "")
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// The canonical headers block (with its trailing newline) and the signed-headers list.
    public func canonicalHeaders(_ headers: HTTPHeaders) -> (String, String) {
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            let lower = name.lowercased()
            if Self.unsignedHeaders.contains(lower) { continue }
            values[lower, default: []].append(Self.trimAll(value))
        }
        let names = values.keys.sorted()
        let block = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        return (block, names.joined(separator: ";"))
    }

    /// Trims a header value and collapses runs of whitespace (folded lines too) to one space.
    static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }).joined(separator: " ")
    }

    /// RFC 3986 dot-segment removal plus repeated-slash collapsing; keeps a trailing slash.
    static func normalize(_ path: String) -> String {
        var out: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." { if !out.isEmpty { out.removeLast() }; continue }
            out.append(segment)
        }
        var result = "/" + out.joined(separator: "/")
        let last = path.split(separator: "/", omittingEmptySubsequences: false).last
        if path.hasSuffix("/") || last == "." || last == ".." { if !result.hasSuffix("/") { result += "/" } }
        return result
    }

    // MARK: - Keys

    func signature(_ stringToSign: String, day: String) -> String {
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
    }

    static func timestamps(_ date: Date) -> (String, String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(format: "%04d%02d%02d", c.year!, c.month!, c.day!)
        return (day + String(format: "T%02d%02d%02dZ", c.hour!, c.minute!, c.second!), day)
    }

    /// Lower-case hex of a digest or MAC.
    public static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
