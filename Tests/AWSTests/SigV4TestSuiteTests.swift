import Crypto
import Foundation
import NIOHTTP1
import Testing
@testable import AWS

/// AWS's published SigV4 test suite (awslabs/aws-c-auth, tests/aws-signing-test-suite/v4; see
/// Resources/README.md), every case, header signing and query presigning.
@Suite struct SigV4TestSuiteTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/aws-sig-v4-test-suite").path

    static var cases: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter {
            FileManager.default.fileExists(atPath: "\(root)/\($0)/request.txt")
        }.sorted()
    }

    struct Context: Decodable {
        struct Credentials: Decodable { var access_key_id: String; var secret_access_key: String; var token: String? }
        var credentials: Credentials
        var expiration_in_seconds: Int
        var normalize: Bool
        var region: String
        var service: String
        var sign_body: Bool
        var timestamp: String
        var omit_session_token: Bool?
    }

    /// request.txt: request line, headers (folded continuation lines joined), blank line, body.
    static func parseRequest(_ text: String) -> (SigV4Request, Data) {
        var lines = text.components(separatedBy: "\n")
        let requestLine = lines.removeFirst()
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        let method = String(parts[0])
        let target = parts[1..<(parts.count - 1)].joined(separator: " ")
        var headers: [(String, String)] = []
        var bodyStart: Int?
        for (index, line) in lines.enumerated() {
            if line.isEmpty { bodyStart = index + 1; break }
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].1 += "\n" + line
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        let body = bodyStart.map { lines[$0...].joined(separator: "\n") } ?? ""
        let path: String
        let query: String
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q]); query = String(target[target.index(after: q)...])
        } else {
            path = target; query = ""
        }
        var h = HTTPHeaders()
        for (n, v) in headers { h.add(name: n, value: v) }
        return (SigV4Request(method: method, path: path, query: query, headers: h), Data(body.utf8))
    }

    static func read(_ name: String, _ file: String) -> String? {
        try? String(contentsOfFile: "\(root)/\(name)/\(file)", encoding: .utf8)
    }

    static func load(_ name: String) throws -> (SigV4Signer, SigV4Request, String, Date, Context) {
        let context = try JSONDecoder().decode(Context.self, from: Data(contentsOf: URL(fileURLWithPath: "\(root)/\(name)/context.json")))
        let (request, body) = parseRequest(try #require(read(name, "request.txt")))
        let credentials = AWSCredentials(accessKeyID: context.credentials.access_key_id, secretAccessKey: context.credentials.secret_access_key,
                                         sessionToken: context.credentials.token)
        let options = SigV4Signer.Options(normalizePath: context.normalize, doubleEncodePath: true,
                                          addContentSHA256Header: context.sign_body, omitSessionTokenFromSignature: context.omit_session_token ?? false)
        let signer = SigV4Signer(credentials: credentials, region: context.region, service: context.service, options: options)
        let hash = SigV4Signer.hex(SHA256.hash(data: body))
        let date = try #require(AWSDate.parse(context.timestamp))
        return (signer, request, hash, date, context)
    }

    @Test func theSuiteIsPresent() {
        #expect(Self.cases.count >= 30, "expected the v4 cases under \(Self.root)")
    }

    @Test(arguments: cases) func headerSigning(_ name: String) throws {
        var (signer, request, hash, date, _) = try Self.load(name)
        let result = signer.sign(&request, payloadHash: hash, date: date)
        if let expected = Self.read(name, "header-canonical-request.txt") { #expect(result.canonicalRequest == expected, "\(name)") }
        if let expected = Self.read(name, "header-string-to-sign.txt") { #expect(result.stringToSign == expected, "\(name)") }
        let signature = try #require(Self.read(name, "header-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(result.signature == signature, "\(name)")
        #expect(request.headers.first(name: "Authorization")?.hasSuffix("Signature=\(signature)") == true)
    }

    @Test(arguments: cases) func queryPresigning(_ name: String) throws {
        var (signer, request, hash, date, context) = try Self.load(name)
        // Query mode never adds x-amz-content-sha256; the body's hash is the payload hash.
        signer.options.addContentSHA256Header = false
        let result = signer.presign(request, expires: context.expiration_in_seconds, payloadHash: hash, date: date)
        if let expected = Self.read(name, "query-canonical-request.txt") { #expect(result.canonicalRequest == expected, "\(name)") }
        if let expected = Self.read(name, "query-string-to-sign.txt") { #expect(result.stringToSign == expected, "\(name)") }
        let signature = try #require(Self.read(name, "query-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(result.signature == signature, "\(name)")
        #expect(result.query.contains("X-Amz-Signature=\(signature)"))
        request.headers = HTTPHeaders()
    }

    /// S3 signs the path as sent (no second encoding, no normalisation) and carries the
    /// payload hash (UNSIGNED-PAYLOAD allowed) in x-amz-content-sha256; the session token goes
    /// in X-Amz-Security-Token.
    @Test func s3Specifics() {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "TOKEN")
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "bucket.s3.us-east-1.amazonaws.com")
        var request = SigV4Request(method: "PUT", path: "/a%20b/./c%2Bd", headers: headers)
        let s3 = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3", options: .s3)
        let signed = s3.sign(&request, payloadHash: SigV4Signer.unsignedPayload, date: Date(timeIntervalSince1970: 1_440_938_160))
        let lines = signed.canonicalRequest.components(separatedBy: "\n")
        #expect(lines[1] == "/a%20b/./c%2Bd")
        #expect(lines.last == "UNSIGNED-PAYLOAD")
        #expect(request.headers.first(name: "x-amz-content-sha256") == "UNSIGNED-PAYLOAD")
        #expect(request.headers.first(name: "X-Amz-Security-Token") == "TOKEN")
        #expect(signed.canonicalRequest.contains("x-amz-security-token:TOKEN"))
        #expect(request.headers.first(name: "Authorization")?.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token") == true)
        // The same path for another service is normalised and encoded twice.
        let other = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
        #expect(other.canonicalPath("/a%20b/./c%2Bd") == "/a%2520b/c%252Bd")
    }
}
