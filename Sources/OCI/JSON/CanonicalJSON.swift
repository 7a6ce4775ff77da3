import Foundation

/// Canonical JSON: sorted keys, no escaped slashes, no whitespace, so the same value always
/// gives the same bytes and therefore the same digest.
public enum CanonicalJSON {
    /// Encodes `value` canonically.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Encodes `value` for a person to read (sorted, indented); never hashed.
    public static func pretty<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return try encoder.encode(value)
    }

    /// Decodes `T` with JSONReader when it takes the document (see there), else as the
    /// Decodable overload does.
    public static func decode<T: JSONReadable>(_ type: T.Type, from data: Data, what: String) throws -> T {
        if let json = JSONReader.parse(data), let value = try? T(json: json) { return value }
        return try decodeWithCodable(T.self, from: data, what: what)
    }

    /// Decodes `T`, turning decoding errors into `OCIError.malformedJSON` naming `what`.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, what: String) throws -> T {
        try decodeWithCodable(T.self, from: data, what: what)
    }

    private static func decodeWithCodable<T: Decodable>(_ type: T.Type, from data: Data, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as OCIError {
            throw error
        } catch let DecodingError.keyNotFound(key, context) {
            throw OCIError.malformedJSON(what: what, detail: "missing key '\(key.stringValue)' at \(path(context))")
        } catch let DecodingError.typeMismatch(_, context) {
            throw OCIError.malformedJSON(what: what, detail: "\(context.debugDescription) at \(path(context))")
        } catch let DecodingError.valueNotFound(_, context) {
            throw OCIError.malformedJSON(what: what, detail: "null value at \(path(context))")
        } catch let DecodingError.dataCorrupted(context) {
            throw OCIError.malformedJSON(what: what, detail: context.underlyingError.map { "\($0.localizedDescription)" } ?? context.debugDescription)
        } catch {
            throw OCIError.malformedJSON(what: what, detail: "\(error)")
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return p.isEmpty ? "the top level" : p
    }
}

/// A manifest or index decoded just enough to know what it is.
public struct MediaTypeProbe: JSONReadable, Sendable {
    public var mediaType: String?
    public var manifests: [Descriptor]?
    public var config: Descriptor?
    public var layers: [Descriptor]?

    /// The media type, inferred from the shape when the document leaves it out (allowed by OCI).
    public var inferredMediaType: String {
        if let mediaType { return mediaType }
        if manifests != nil { return MediaType.ociIndex }
        return MediaType.ociManifest
    }
}

extension MediaTypeProbe {
    public init(json: JSONValue) throws {
        let o = try json.object()
        mediaType = try o["mediaType"]?.string()
        manifests = try o["manifests"].map(Descriptor.list)
        config = try o["config"].map { try Descriptor(json: $0) }
        layers = try o["layers"].map(Descriptor.list)
    }
}
