import Foundation
import Stack

/// A CloudFormation template: what a stack is made of, as a value.
///
/// Build one with the stack kind builders (``StackTemplates``) or by hand, then render it with
/// ``jsonString()`` / ``jsonData()`` (deterministic: sorted keys, two-space indent, no escaped
/// slashes, trailing newline) or ``yamlString()``. Same template, same bytes.
public struct CloudFormationTemplate: Sendable, Hashable {
    /// The template's `Description` (at most 1024 bytes by CloudFormation's rule).
    public var description: String?
    /// Input parameters by logical name.
    public var parameters: [String: Parameter]
    /// Conditions by name: values built from `Fn::Equals`, `Fn::Not`, ...
    public var conditions: [String: TemplateValue]
    /// Rules by name: `Assertions` CloudFormation checks before it creates or changes anything
    /// (a change set is refused with the assertion's description).
    public var rules: [String: TemplateValue] = [:]
    /// Resources by logical ID.
    public var resources: [String: Resource]
    /// Outputs by logical name.
    public var outputs: [String: Output]

    /// A template; everything but the resources is optional.
    public init(
        description: String? = nil, parameters: [String: Parameter] = [:], conditions: [String: TemplateValue] = [:],
        resources: [String: Resource] = [:], outputs: [String: Output] = [:]
    ) {
        self.description = description
        self.parameters = parameters
        self.conditions = conditions
        self.resources = resources
        self.outputs = outputs
    }

    /// One resource: its type (`AWS::S3::Bucket`), properties and the resource attributes.
    public struct Resource: Sendable, Hashable {
        /// The resource type, `AWS::Service::Thing`.
        public var type: String
        /// The resource's properties.
        public var properties: [String: TemplateValue]
        /// Logical IDs this resource must be created after, beyond the ones its references imply.
        public var dependsOn: [String]
        /// The condition that decides whether the resource exists.
        public var condition: String?
        /// `Delete`, `Retain` or `Snapshot`; nil is CloudFormation's default (`Delete`).
        public var deletionPolicy: String?
        /// What happens to the old resource on replacement; set it with ``deletionPolicy``.
        public var updateReplacePolicy: String?

        /// A resource of `type` with `properties`.
        public init(
            _ type: String, properties: [String: TemplateValue] = [:], dependsOn: [String] = [], condition: String? = nil,
            deletionPolicy: String? = nil, updateReplacePolicy: String? = nil
        ) {
            self.type = type
            self.properties = properties
            self.dependsOn = dependsOn
            self.condition = condition
            self.deletionPolicy = deletionPolicy
            self.updateReplacePolicy = updateReplacePolicy
        }
    }

    /// A template parameter.
    public struct Parameter: Sendable, Hashable {
        /// `String`, `Number`, `AWS::EC2::VPC::Id`, ...
        public var type: String
        /// What the parameter is for.
        public var description: String?
        /// The value used when the stack does not pass one.
        public var defaultValue: TemplateValue?
        /// The only values accepted, if any.
        public var allowedValues: [String]
        /// Marks a parameter whose value CloudFormation hides in its console and API.
        public var noEcho: Bool

        /// A parameter of `type`.
        public init(
            type: String, description: String? = nil, defaultValue: TemplateValue? = nil, allowedValues: [String] = [],
            noEcho: Bool = false
        ) {
            self.type = type
            self.description = description
            self.defaultValue = defaultValue
            self.allowedValues = allowedValues
            self.noEcho = noEcho
        }
    }

    /// A stack output.
    public struct Output: Sendable, Hashable {
        /// The output's value.
        public var value: TemplateValue
        /// What the output is.
        public var description: String?
        /// The name other stacks import it by (`Fn::ImportValue`), if exported.
        public var exportName: TemplateValue?
        /// The condition under which the output exists.
        public var condition: String?

        /// An output of `value`.
        public init(_ value: TemplateValue, description: String? = nil, exportName: TemplateValue? = nil, condition: String? = nil)
        {
            self.value = value
            self.description = description
            self.exportName = exportName
            self.condition = condition
        }
    }
}

// MARK: - As a value

extension CloudFormationTemplate {
    /// The template as one ``TemplateValue`` object, the shape both renderings serialise.
    public var templateValue: TemplateValue {
        var root: [String: TemplateValue] = ["AWSTemplateFormatVersion": "2010-09-09"]
        if let description { root["Description"] = .string(description) }
        if !parameters.isEmpty { root["Parameters"] = .object(parameters.mapValues(\.templateValue)) }
        if !conditions.isEmpty { root["Conditions"] = .object(conditions) }
        if !rules.isEmpty { root["Rules"] = .object(rules) }
        root["Resources"] = .object(resources.mapValues(\.templateValue))
        if !outputs.isEmpty { root["Outputs"] = .object(outputs.mapValues(\.templateValue)) }
        return .object(root)
    }

    /// The template as deterministic, pretty-printed JSON text ending in a newline.
    public func jsonString() -> String { TemplateRendering.json(templateValue) }

    /// ``jsonString()`` as UTF-8 bytes.
    public func jsonData() -> Data { Data(jsonString().utf8) }

    /// The template as deterministic YAML text (block style, strings double-quoted), ending in a newline.
    public func yamlString() -> String { TemplateRendering.yaml(templateValue) }
}

extension CloudFormationTemplate.Resource {
    /// The resource as its template object.
    public var templateValue: TemplateValue {
        var object: [String: TemplateValue] = ["Type": .string(type)]
        if !properties.isEmpty { object["Properties"] = .object(properties) }
        if !dependsOn.isEmpty { object["DependsOn"] = .strings(dependsOn.sorted()) }
        if let condition { object["Condition"] = .string(condition) }
        if let deletionPolicy { object["DeletionPolicy"] = .string(deletionPolicy) }
        if let updateReplacePolicy { object["UpdateReplacePolicy"] = .string(updateReplacePolicy) }
        return .object(object)
    }
}

extension CloudFormationTemplate.Parameter {
    /// The parameter as its template object.
    public var templateValue: TemplateValue {
        var object: [String: TemplateValue] = ["Type": .string(type)]
        if let description { object["Description"] = .string(description) }
        if let defaultValue { object["Default"] = defaultValue }
        if !allowedValues.isEmpty { object["AllowedValues"] = .strings(allowedValues) }
        if noEcho { object["NoEcho"] = true }
        return .object(object)
    }
}

extension CloudFormationTemplate.Output {
    /// The output as its template object.
    public var templateValue: TemplateValue {
        var object: [String: TemplateValue] = ["Value": self.value]
        if let description { object["Description"] = .string(description) }
        if let exportName { object["Export"] = ["Name": exportName] }
        if let condition { object["Condition"] = .string(condition) }
        return .object(object)
    }
}
