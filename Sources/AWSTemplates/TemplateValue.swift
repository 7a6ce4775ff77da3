import Foundation
import Stack

/// A value inside a CloudFormation template: JSON data plus the intrinsic functions, which are
/// one-key objects (`{"Ref": "X"}`), so they render the same way as any other object.
///
/// Only integers are numbers here: CloudFormation's numeric properties in the templates this
/// module writes are whole numbers, and keeping doubles out keeps the rendered bytes exact.
public indirect enum TemplateValue: Sendable, Hashable {
    /// A JSON string.
    case string(String)
    /// A JSON integer.
    case int(Int)
    /// A JSON boolean.
    case bool(Bool)
    /// A JSON array, in its given order.
    case array([TemplateValue])
    /// A JSON object; rendered with its keys sorted.
    case object([String: TemplateValue])
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// A string literal is a `.string`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer literal is an `.int`.
    public init(integerLiteral value: Int) { self = .int(value) }
    /// A boolean literal is a `.bool`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An array literal is an `.array`.
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
    /// A dictionary literal is an `.object`; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

// MARK: - Intrinsic functions and pseudo parameters

extension TemplateValue {
    /// `{"Ref": name}`: a resource's primary identifier, a parameter's value or a pseudo parameter.
    public static func ref(_ name: String) -> TemplateValue { ["Ref": .string(name)] }

    /// `{"Fn::GetAtt": [resource, attribute]}`.
    public static func getAtt(_ resource: String, _ attribute: String) -> TemplateValue {
        ["Fn::GetAtt": [.string(resource), .string(attribute)]]
    }

    /// `{"Fn::Sub": string}`: `${Name}` and `${Resource.Attribute}` substitutions.
    public static func sub(_ string: String) -> TemplateValue { ["Fn::Sub": .string(string)] }

    /// `{"Fn::Sub": [string, variables]}`: substitutions with explicit variables.
    public static func sub(_ string: String, _ variables: [String: TemplateValue]) -> TemplateValue {
        ["Fn::Sub": [.string(string), .object(variables)]]
    }

    /// `{"Fn::Join": [separator, values]}`.
    public static func join(_ separator: String, _ values: [TemplateValue]) -> TemplateValue {
        ["Fn::Join": [.string(separator), .array(values)]]
    }

    /// `{"Fn::If": [condition, then, else]}`; `condition` names an entry of the template's conditions.
    public static func `if`(_ condition: String, _ then: TemplateValue, _ else: TemplateValue) -> TemplateValue {
        ["Fn::If": [.string(condition), then, `else`]]
    }

    /// `{"Fn::Select": [index, list]}`.
    public static func select(_ index: Int, _ list: TemplateValue) -> TemplateValue {
        ["Fn::Select": [.string(String(index)), list]]
    }

    /// `{"Fn::GetAZs": region}`; the empty string means the stack's own region.
    public static func getAZs(_ region: String = "") -> TemplateValue { ["Fn::GetAZs": .string(region)] }

    /// `{"Fn::Equals": [a, b]}`, for conditions.
    public static func equals(_ a: TemplateValue, _ b: TemplateValue) -> TemplateValue { ["Fn::Equals": [a, b]] }

    /// `{"Fn::Not": [condition]}`, for conditions.
    public static func not(_ condition: TemplateValue) -> TemplateValue { ["Fn::Not": [condition]] }

    /// `AWS::NoValue`: removes the property it is the value of (typically inside `Fn::If`).
    public static let noValue: TemplateValue = .ref("AWS::NoValue")
    /// The stack's account ID.
    public static let accountId: TemplateValue = .ref("AWS::AccountId")
    /// The stack's region.
    public static let region: TemplateValue = .ref("AWS::Region")
    /// The stack's partition (`aws`, `aws-cn`, `aws-us-gov`).
    public static let partition: TemplateValue = .ref("AWS::Partition")
    /// The stack's name.
    public static let stackName: TemplateValue = .ref("AWS::StackName")
}

// MARK: - Reading values back (tests, checks)

extension TemplateValue {
    /// The string, when this is a `.string`.
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    /// The elements, when this is an `.array`.
    public var arrayValue: [TemplateValue]? { if case .array(let a) = self { a } else { nil } }
    /// The members, when this is an `.object`.
    public var objectValue: [String: TemplateValue]? { if case .object(let o) = self { o } else { nil } }

    /// A list of strings as an array of `.string`s.
    public static func strings(_ values: [String]) -> TemplateValue { .array(values.map { .string($0) }) }
}
