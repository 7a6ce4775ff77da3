import Foundation
import OCI

/// One JSON fuzz case: the document is read as every image-spec type `run` and the stores
/// read (Manifest, Index, ImageConfig, Descriptor, Platform, MediaTypeProbe) through
/// `CanonicalJSON.decode`, and JSONReader's fast path is held to JSONDecoder's answer.
///
/// It holds the readers to "an error or a value": `CanonicalJSON.decode` throws only an
/// `OCIError`, and when the fast path takes a document JSONDecoder reads it to the same value
/// (the fast path must never accept what JSONDecoder refuses, nor read it differently).
public enum JSONFuzzTarget {
    /// Runs one case; returns each broken invariant, in words (empty when the readers behaved).
    public static func run(_ bytes: [UInt8]) -> [String] {
        let data = Data(bytes)
        var violations: [String] = []
        let parsed = JSONReader.parse(data)
        check(Manifest.self, data, parsed, &violations)
        check(Index.self, data, parsed, &violations)
        check(ImageConfig.self, data, parsed, &violations)
        check(Descriptor.self, data, parsed, &violations)
        check(Platform.self, data, parsed, &violations)
        checkProbe(data, parsed, &violations)
        return violations
    }

    static func check<T: JSONReadable & Equatable>(_: T.Type, _ data: Data, _ parsed: JSONValue?, _ violations: inout [String]) {
        let decoded = decode(T.self, data, &violations)
        guard let parsed, let fast = try? T(json: parsed) else { return }
        guard let codable = try? JSONDecoder().decode(T.self, from: data) else {
            violations.append("JSONReader reads a \(T.self) that JSONDecoder refuses")
            return
        }
        if fast != codable { violations.append("JSONReader reads a \(T.self) differently from JSONDecoder: \(fast) against \(codable)") }
        if decoded != nil && decoded != fast { violations.append("CanonicalJSON.decode gives a \(T.self) that is not the fast path's") }
    }

    static func checkProbe(_ data: Data, _ parsed: JSONValue?, _ violations: inout [String]) {
        _ = decode(MediaTypeProbe.self, data, &violations)
        guard let parsed, let fast = try? MediaTypeProbe(json: parsed) else { return }
        guard let codable = try? JSONDecoder().decode(MediaTypeProbe.self, from: data) else {
            violations.append("JSONReader reads a MediaTypeProbe that JSONDecoder refuses")
            return
        }
        if fast.mediaType != codable.mediaType || fast.manifests != codable.manifests || fast.config != codable.config || fast.layers != codable.layers {
            violations.append("JSONReader reads a MediaTypeProbe differently from JSONDecoder")
        }
    }

    static func decode<T: JSONReadable>(_: T.Type, _ data: Data, _ violations: inout [String]) -> T? {
        do {
            return try CanonicalJSON.decode(T.self, from: data, what: "fuzzed \(T.self)")
        } catch is OCIError {
            return nil
        } catch {
            violations.append("CanonicalJSON.decode of a \(T.self) threw a \(type(of: error)), not an OCIError: \(error)")
            return nil
        }
    }
}
