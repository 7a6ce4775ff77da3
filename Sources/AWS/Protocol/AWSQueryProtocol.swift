import Foundation
import NIOHTTP1

/// The AWS query protocol (STS, CloudFormation): a form-encoded POST of `Action`, `Version` and
/// the parameters (lists as `Name.member.N`, maps as `Name.entry.N.key/value`), answered with
/// XML whose `<ActionResult>` holds the output.
public enum AWSQueryProtocol {
    /// Calls `action` and returns its `<ActionResult>` element (an empty element when the
    /// operation has no output). `signed: false` is for the unauthenticated STS calls.
    public static func call(_ client: AWSClient, service: AWSService, action: String, version: String,
                            parameters: [(String, String)] = [], signed: Bool = true) async throws -> AWSXMLElement {
        let body = AWSURIEncoding.formEncode([("Action", action), ("Version", version)] + parameters)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")
        let request = AWSRequest(service: service, operation: action, method: .POST, headers: headers, body: .data(Data(body.utf8)), signed: signed)
        let response = try await client.send(request)
        let xml: AWSXMLElement
        do {
            xml = try AWSXMLElement.parse(bytes: response.body)
        } catch {
            throw AWSError.unexpectedResponse(operation: request.qualifiedName, detail: "\(error)")
        }
        return xml.child("\(action)Result") ?? AWSXMLElement(name: "\(action)Result")
    }

    /// Adds a list parameter as `name.member.1`, `name.member.2`, … (nothing for an empty list).
    public static func list(_ name: String, _ values: [String]) -> [(String, String)] {
        values.enumerated().map { ("\(name).member.\($0.offset + 1)", $0.element) }
    }

    /// Adds a list of structures: `name.member.N.field` for each field of each item.
    public static func structList(_ name: String, _ items: [[(String, String)]]) -> [(String, String)] {
        items.enumerated().flatMap { index, fields in fields.map { ("\(name).member.\(index + 1).\($0.0)", $0.1) } }
    }
}
