import Foundation
import NIOHTTP1

/// The AWS JSON 1.1 protocol (ECR, Secrets Manager, CodeBuild): a POST of a JSON document with
/// `X-Amz-Target: Prefix.Operation`, answered with JSON.
public enum AWSJSONProtocol {
    /// Calls `operation` with `input` and decodes the answer as `Output`.
    public static func call<Input: Encodable, Output: Decodable>(_ client: AWSClient, service: AWSService, targetPrefix: String,
                                                                 operation: String, input: Input, as: Output.Type = Output.self) async throws -> Output {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = try encoder.encode(input)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-amz-json-1.1")
        headers.add(name: "X-Amz-Target", value: "\(targetPrefix).\(operation)")
        let request = AWSRequest(service: service, operation: operation, method: .POST, headers: headers, body: .data(body))
        let response = try await client.send(request)
        let data = response.body.isEmpty ? Data("{}".utf8) : response.body
        do {
            return try JSONDecoder().decode(Output.self, from: data)
        } catch {
            throw AWSError.unexpectedResponse(operation: request.qualifiedName, detail: Self.describe(error))
        }
    }

    /// A decoding error without the document's values (they may be secrets).
    static func describe(_ error: Error) -> String {
        switch error as? DecodingError {
        case let .keyNotFound(key, context)?:
            return "missing \(key.stringValue) at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case let .typeMismatch(_, context)?, let .valueNotFound(_, context)?:
            return "unexpected value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case .dataCorrupted?:
            return "not valid JSON"
        default:
            return "undecodable answer"
        }
    }
}

/// An empty JSON object, for operations without input or whose output is not needed.
public struct AWSEmptyJSON: Codable, Sendable {
    /// The empty object.
    public init() {}
}
