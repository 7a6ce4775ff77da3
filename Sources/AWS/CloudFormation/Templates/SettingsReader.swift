import Foundation

/// A settings key of any name, so a section can list the keys it was given and refuse unknown ones.
struct SettingsKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}

/// Settings paths as users read them: `aws.ci_build.environment.variables`, `aws.stacks[1]`.
enum SettingsPath {
    static func string(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue, key.stringValue == String(index) || key.stringValue.hasPrefix("Index") {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        if text.isEmpty { return "aws" }
        return text.hasPrefix("aws") ? text : "aws.\(text)"
    }
}

/// Reads one settings section: typed getters whose errors name the key's full path, and a
/// check that every key given is one the section knows.
struct SettingsReader {
    let container: KeyedDecodingContainer<SettingsKey>
    let path: String

    /// Opens the section at `decoder`; throws ``TemplateError/unknownKey(path:known:)`` for any key
    /// outside `known`, and ``TemplateError/invalidValue(path:value:reason:)`` if it is not a mapping.
    init(_ decoder: any Decoder, known: [String]) throws {
        path = SettingsPath.string(decoder.codingPath)
        do {
            container = try decoder.container(keyedBy: SettingsKey.self)
        } catch {
            throw TemplateError.invalidValue(path: path, value: "", reason: "expected a mapping of keys to values")
        }
        for key in container.allKeys.map(\.stringValue).sorted() where !known.contains(key) {
            throw TemplateError.unknownKey(path: "\(path).\(key)", known: known)
        }
    }

    func path(_ key: String) -> String { "\(path).\(key)" }

    func has(_ key: String) -> Bool { container.contains(SettingsKey(key)) }

    /// The value at `key`, or nil when absent (or null).
    func optional<T: Decodable>(_ key: String, _ type: T.Type = T.self) throws -> T? {
        let codingKey = SettingsKey(key)
        guard container.contains(codingKey) else { return nil }
        do {
            if try container.decodeNil(forKey: codingKey) { return nil }
            return try container.decode(T.self, forKey: codingKey)
        } catch let error as TemplateError {
            throw error
        } catch let error where TemplateError.wrapped(in: error) != nil {
            throw TemplateError.wrapped(in: error)!
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let at = context.codingPath.isEmpty ? path(key) : SettingsPath.string(context.codingPath)
            throw TemplateError.invalidValue(path: at, value: "", reason: "expected \(Self.expected(T.self))")
        } catch let DecodingError.valueNotFound(_, context) {
            throw TemplateError.invalidValue(path: SettingsPath.string(context.codingPath), value: "", reason: "expected \(Self.expected(T.self)), found nothing")
        } catch let DecodingError.keyNotFound(missing, context) {
            throw TemplateError.missingKey(path: SettingsPath.string(context.codingPath + [missing]), hint: "add it")
        }
    }

    /// The value at `key`; throws ``TemplateError/missingKey(path:hint:)`` with `hint` when absent.
    func required<T: Decodable>(_ key: String, _ type: T.Type = T.self, hint: String) throws -> T {
        guard let value = try optional(key, T.self) else { throw TemplateError.missingKey(path: path(key), hint: hint) }
        return value
    }

    /// Refuses a key whose value would be a secret: the error never repeats the value.
    func refuseSecret(_ key: String, hint: String) throws {
        if has(key) { throw TemplateError.secretInSettings(path: path(key), hint: hint) }
    }

    /// An integer at `key` within `range`, `defaultValue` when absent.
    func int(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>) throws -> Int {
        let value = try optional(key, Int.self) ?? defaultValue
        guard range.contains(value) else {
            throw TemplateError.invalidValue(path: path(key), value: String(value), reason: "must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return value
    }

    /// A string at `key` that must be one of `allowed`.
    func oneOf(_ key: String, _ allowed: [String], default defaultValue: String?) throws -> String? {
        guard let value = try optional(key, String.self) ?? defaultValue else { return nil }
        guard allowed.contains(value) else {
            throw TemplateError.invalidValue(path: path(key), value: value, reason: "use one of \(allowed.joined(separator: ", "))")
        }
        return value
    }

    /// A log retention in days, which CloudWatch only accepts from a fixed list.
    func logRetention(_ key: String, default defaultValue: Int?) throws -> Int? {
        guard let days = try optional(key, Int.self) ?? defaultValue else { return nil }
        guard Self.retentionDays.contains(days) else {
            throw TemplateError.invalidValue(path: path(key), value: String(days), reason: "CloudWatch Logs keeps logs for one of \(Self.retentionDays.map(String.init).joined(separator: ", ")) days")
        }
        return days
    }

    /// Environment variables whose names do not look like secrets.
    func plainVariables(_ key: String, secretHint: String) throws -> [String: String] {
        let variables = try optional(key, [String: String].self) ?? [:]
        for name in variables.keys.sorted() {
            try Self.checkVariableName(name, path: path(key))
            if Self.looksSecret(name) {
                throw TemplateError.secretInSettings(path: "\(path(key)).\(name)", hint: secretHint)
            }
        }
        return variables
    }

    static func checkVariableName(_ name: String, path: String) throws {
        let ok = !name.isEmpty && name.utf8.allSatisfy { c in
            (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95
        } && !(name.first!.isNumber)
        if !ok { throw TemplateError.invalidValue(path: "\(path).\(name)", value: name, reason: "a variable name is letters, digits and underscores, not starting with a digit") }
    }

    /// Variable names whose values are credentials by convention; those belong in Secrets Manager.
    static func looksSecret(_ name: String) -> Bool {
        let upper = name.uppercased()
        return ["TOKEN", "PASSWORD", "PASSWD", "SECRET", "SECRET_KEY", "SECRET_ACCESS_KEY", "PRIVATE_KEY", "API_KEY"].contains {
            upper == $0 || upper.hasSuffix("_\($0)")
        }
    }

    static let retentionDays = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]

    static func expected<T>(_ type: T.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "a whole number"
        case is Bool.Type: "true or false"
        case is [String].Type: "a list of strings"
        case is [String: String].Type: "a mapping of names to strings"
        default: "a \(String(describing: type)) section"
        }
    }
}

/// Checks shared by several settings sections.
enum SettingsCheck {
    static func matches(_ text: String, _ pattern: String) -> Bool {
        text.range(of: "^(?:\(pattern))$", options: .regularExpression) != nil
    }

    /// A Secrets Manager secret name (path-like, letters, digits and `/_+=.@-`) or a secret ARN.
    static func secretName(_ name: String, path: String) throws {
        if name.hasPrefix("arn:") {
            guard matches(name, #"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+"#) else {
                throw TemplateError.invalidValue(path: path, value: name, reason: "a secret ARN looks like arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME")
            }
            return
        }
        guard matches(name, #"[A-Za-z0-9/_+=.@-]{1,512}"#) else {
            throw TemplateError.invalidValue(path: path, value: name, reason: "give the Secrets Manager secret's name (letters, digits and /_+=.@-) or its ARN")
        }
    }

    /// An image pinned by digest: `REPOSITORY@sha256:<64 hex>`.
    static func imageByDigest(_ image: String, path: String) throws {
        guard matches(image, #"[a-z0-9][a-z0-9._:/-]*@sha256:[a-f0-9]{64}"#) else {
            throw TemplateError.invalidValue(path: path, value: image, reason: "pin the image by digest, as REPOSITORY@sha256:<64 hex digits> (stackship push prints the digest), so a deployment runs exactly the image that was tested")
        }
    }
}
