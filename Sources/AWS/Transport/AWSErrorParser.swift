import Foundation
import NIOHTTP1
import Support

/// Turns an AWS error answer into an `AWSServiceError`: the XML of the query and REST-XML
/// protocols (`<ErrorResponse><Error><Code>…` and S3's `<Error><Code>…`), the JSON of the JSON
/// protocols (`{"__type": "…#Code", "message": …}`), or, for bodiless answers (HEAD), the status.
enum AWSErrorParser {
    static func parse(operation: String, status: Int, headers: HTTPHeaders, body: Data) -> AWSServiceError {
        var code: String?
        var message: String?
        var requestID = headers.first(name: "x-amzn-RequestId") ?? headers.first(name: "x-amz-request-id") ?? headers.first(name: "x-amzn-request-id")
        let trimmed = body.drop(while: { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 })
        if trimmed.first == UInt8(ascii: "<"), let xml = try? AWSXMLElement.parse(bytes: trimmed) {
            let error = xml.first(named: "Error") ?? xml
            code = error.string("Code")
            message = error.string("Message") ?? error.string("message")
            requestID = requestID ?? xml.string("RequestId") ?? xml.string("RequestID") ?? error.string("RequestId")
        } else if trimmed.first == UInt8(ascii: "{"),
                  let object = try? JSONSerialization.jsonObject(with: Data(trimmed)) as? [String: Any] {
            code = (object["__type"] as? String) ?? (object["code"] as? String) ?? (object["Code"] as? String)
            message = (object["message"] as? String) ?? (object["Message"] as? String) ?? (object["errorMessage"] as? String)
        }
        if code == nil || code?.isEmpty == true { code = headers.first(name: "x-amzn-ErrorType") }
        // JSON codes may be "namespace#Code" and headers "Code:http://…".
        if var c = code {
            if let hash = c.lastIndex(of: "#") { c = String(c[c.index(after: hash)...]) }
            if let colon = c.firstIndex(of: ":") { c = String(c[..<colon]) }
            code = c
        }
        if code == nil || code?.isEmpty == true {
            code = HTTPResponseStatus(statusCode: status).reasonPhrase.replacingOccurrences(of: " ", with: "")
            // A body that is not AWS's (a proxy's or stand-in's HTML page): one line of it.
            if message == nil, !trimmed.isEmpty { message = DiagnosticText.printable(String(decoding: trimmed.prefix(2000), as: UTF8.self), limit: 200) }
        }
        return AWSServiceError(operation: operation, status: status, code: code ?? "Unknown",
                               message: DiagnosticText.printable(message ?? "", limit: 1000), requestID: requestID)
    }
}
