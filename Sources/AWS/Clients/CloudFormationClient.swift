import Foundation

/// AWS CloudFormation: validate templates, deploy them through change sets, follow stacks.
/// The waiters are in `CloudFormationClient+Waiters.swift`.
public struct CloudFormationClient: Sendable {
    /// The shared client.
    public let client: AWSClient
    static let version = "2010-05-15"

    /// A CloudFormation client over `client`.
    public init(client: AWSClient) { self.client = client }

    /// What ValidateTemplate says about a template.
    public struct TemplateSummary: Sendable, Equatable {
        /// The template's Description.
        public var description: String?
        /// Parameter names, in template order.
        public var parameters: [String]
        /// Capabilities the template needs (CAPABILITY_IAM, CAPABILITY_NAMED_IAM, …).
        public var capabilities: [String]
    }

    /// A stack.
    public struct Stack: Sendable, Equatable {
        /// The stack id (an ARN); stays valid after deletion.
        public var stackID: String
        /// The name.
        public var name: String
        /// CREATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE, …
        public var status: String
        /// Why it is in that status.
        public var statusReason: String?
        /// Outputs by key.
        public var outputs: [String: String]
    }

    /// One stack event.
    public struct StackEvent: Sendable, Equatable {
        /// Unique id.
        public var eventID: String
        /// The stack's name.
        public var stackName: String
        /// The resource's logical id (the stack's own name for stack-level events).
        public var logicalResourceID: String
        /// The physical id, once known.
        public var physicalResourceID: String?
        /// AWS::S3::Bucket, AWS::CloudFormation::Stack, …
        public var resourceType: String
        /// CREATE_IN_PROGRESS, CREATE_FAILED, …
        public var resourceStatus: String
        /// Why (set on failures).
        public var resourceStatusReason: String?
        /// When.
        public var timestamp: Date?
    }

    /// A resource of a stack.
    public struct StackResource: Sendable, Equatable {
        /// The logical id in the template.
        public var logicalResourceID: String
        /// The physical id (bucket name, parameter name, …).
        public var physicalResourceID: String?
        /// The resource type.
        public var resourceType: String
        /// Its status.
        public var resourceStatus: String
    }

    /// CREATE for a new stack, UPDATE for an existing one.
    public enum ChangeSetType: String, Sendable {
        /// A new stack (it appears in REVIEW_IN_PROGRESS until executed).
        case create = "CREATE"
        /// An existing stack.
        case update = "UPDATE"
    }

    /// A change set.
    public struct ChangeSet: Sendable, Equatable {
        /// The change set id (ARN).
        public var id: String
        /// The stack id.
        public var stackID: String
        /// CREATE_PENDING, CREATE_IN_PROGRESS, CREATE_COMPLETE, FAILED, …
        public var status: String
        /// UNAVAILABLE, AVAILABLE, EXECUTE_IN_PROGRESS, …
        public var executionStatus: String?
        /// Why (set when FAILED).
        public var statusReason: String?
        /// The resource changes.
        public var changes: [Change]

        /// One resource change.
        public struct Change: Sendable, Equatable {
            /// Add, Modify, Remove, Import, Dynamic.
            public var action: String
            /// The logical id.
            public var logicalResourceID: String
            /// The type.
            public var resourceType: String
            /// True, False or Conditional (Modify only).
            public var replacement: String?
        }

        /// True when CloudFormation refused the change set because the template and parameters
        /// change nothing (not an error for a deploy).
        public var hasNoChanges: Bool {
            status == "FAILED" && ((statusReason ?? "").contains("didn't contain changes") || (statusReason ?? "").contains("No updates are to be performed"))
        }
    }

    // MARK: - Calls

    private func call(_ action: String, _ parameters: [(String, String)] = []) async throws -> AWSXMLElement {
        try await AWSQueryProtocol.call(client, service: .cloudFormation, action: action, version: Self.version, parameters: parameters)
    }

    /// ValidateTemplate on a template body (up to 51,200 bytes; larger ones need S3).
    public func validateTemplate(body: String) async throws -> TemplateSummary {
        let r = try await call("ValidateTemplate", [("TemplateBody", body)])
        return TemplateSummary(description: r.string("Description"),
                               parameters: r.members("Parameters").compactMap { $0.string("ParameterKey") },
                               capabilities: r.members("Capabilities").map(\.text))
    }

    /// CreateChangeSet; returns the change set's id and the stack id. Wait for it with
    /// `waitForChangeSet`.
    public func createChangeSet(stackName: String, changeSetName: String, templateBody: String, type: ChangeSetType,
                                parameters: [String: String] = [:], capabilities: [String] = [], tags: [String: String] = [:],
                                description: String? = nil) async throws -> (id: String, stackID: String) {
        var p: [(String, String)] = [("StackName", stackName), ("ChangeSetName", changeSetName), ("TemplateBody", templateBody),
                                     ("ChangeSetType", type.rawValue)]
        p += AWSQueryProtocol.structList("Parameters", parameters.sorted { $0.key < $1.key }.map { [("ParameterKey", $0.key), ("ParameterValue", $0.value)] })
        p += AWSQueryProtocol.list("Capabilities", capabilities)
        p += AWSQueryProtocol.structList("Tags", tags.sorted { $0.key < $1.key }.map { [("Key", $0.key), ("Value", $0.value)] })
        if let description { p.append(("Description", description)) }
        let r = try await call("CreateChangeSet", p)
        return (r.string("Id") ?? "", r.string("StackId") ?? "")
    }

    /// DescribeChangeSet (every page of changes).
    public func describeChangeSet(stackName: String, changeSetName: String) async throws -> ChangeSet {
        var token: String?
        var changeSet: ChangeSet?
        repeat {
            var p = [("StackName", stackName), ("ChangeSetName", changeSetName)]
            if let token { p.append(("NextToken", token)) }
            let r = try await call("DescribeChangeSet", p)
            let changes = r.members("Changes").compactMap { $0.child("ResourceChange") }.map {
                ChangeSet.Change(action: $0.string("Action") ?? "", logicalResourceID: $0.string("LogicalResourceId") ?? "",
                                 resourceType: $0.string("ResourceType") ?? "", replacement: $0.string("Replacement"))
            }
            if changeSet == nil {
                changeSet = ChangeSet(id: r.string("ChangeSetId") ?? "", stackID: r.string("StackId") ?? "", status: r.string("Status") ?? "",
                                      executionStatus: r.string("ExecutionStatus"), statusReason: r.string("StatusReason"), changes: changes)
            } else {
                changeSet?.changes += changes
            }
            token = r.string("NextToken").flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return changeSet!
    }

    /// ExecuteChangeSet; follow the stack with `waitForStack`.
    public func executeChangeSet(stackName: String, changeSetName: String) async throws {
        _ = try await call("ExecuteChangeSet", [("StackName", stackName), ("ChangeSetName", changeSetName)])
    }

    /// DeleteChangeSet (e.g. one that has no changes).
    public func deleteChangeSet(stackName: String, changeSetName: String) async throws {
        _ = try await call("DeleteChangeSet", [("StackName", stackName), ("ChangeSetName", changeSetName)])
    }

    /// DescribeStacks for one stack (name or id); nil when it does not exist.
    public func describeStack(_ stackName: String) async throws -> Stack? {
        do {
            return try await describeStacks(stackName: stackName).first
        } catch let error as AWSError where Self.isStackMissing(error) {
            return nil
        }
    }

    /// DescribeStacks: one stack, or every stack (all pages) when `stackName` is nil.
    public func describeStacks(stackName: String? = nil) async throws -> [Stack] {
        var all: [Stack] = []
        var token: String?
        repeat {
            var p: [(String, String)] = []
            if let stackName { p.append(("StackName", stackName)) }
            if let token { p.append(("NextToken", token)) }
            let r = try await call("DescribeStacks", p)
            all += r.members("Stacks").map { s in
                var outputs: [String: String] = [:]
                for o in s.members("Outputs") { if let k = o.string("OutputKey") { outputs[k] = o.string("OutputValue") ?? "" } }
                return Stack(stackID: s.string("StackId") ?? "", name: s.string("StackName") ?? "", status: s.string("StackStatus") ?? "",
                             statusReason: s.string("StackStatusReason"), outputs: outputs)
            }
            token = r.string("NextToken").flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return all
    }

    /// One page of DescribeStackEvents (newest first) and the token of the next.
    public func describeStackEvents(stackName: String, nextToken: String? = nil) async throws -> (events: [StackEvent], nextToken: String?) {
        var p = [("StackName", stackName)]
        if let nextToken { p.append(("NextToken", nextToken)) }
        let r = try await call("DescribeStackEvents", p)
        let events = r.members("StackEvents").map { e in
            StackEvent(eventID: e.string("EventId") ?? "", stackName: e.string("StackName") ?? "",
                       logicalResourceID: e.string("LogicalResourceId") ?? "", physicalResourceID: e.string("PhysicalResourceId"),
                       resourceType: e.string("ResourceType") ?? "", resourceStatus: e.string("ResourceStatus") ?? "",
                       resourceStatusReason: e.string("ResourceStatusReason"), timestamp: e.string("Timestamp").flatMap(AWSDate.parse))
        }
        return (events, r.string("NextToken").flatMap { $0.isEmpty ? nil : $0 })
    }

    /// DescribeStackResources.
    public func describeStackResources(stackName: String) async throws -> [StackResource] {
        let r = try await call("DescribeStackResources", [("StackName", stackName)])
        return r.members("StackResources").map {
            StackResource(logicalResourceID: $0.string("LogicalResourceId") ?? "", physicalResourceID: $0.string("PhysicalResourceId"),
                          resourceType: $0.string("ResourceType") ?? "", resourceStatus: $0.string("ResourceStatus") ?? "")
        }
    }

    /// DeleteStack; follow it with `waitForStack` (use the stack id, which stays valid).
    public func deleteStack(_ stackName: String) async throws {
        _ = try await call("DeleteStack", [("StackName", stackName)])
    }

    /// True when `error` says an update would change nothing ("No updates are to be
    /// performed"): some endpoints refuse CreateChangeSet or UpdateStack this way instead of
    /// creating a FAILED change set (`ChangeSet.hasNoChanges`).
    public static func isNoChangesError(_ error: Error) -> Bool {
        guard case let .service(e)? = error as? AWSError else { return false }
        return e.code == "ValidationError" && (e.message.contains("No updates are to be performed") || e.message.contains("didn't contain changes"))
    }

    /// True for CloudFormation's "Stack with id X does not exist".
    static func isStackMissing(_ error: AWSError) -> Bool {
        guard case let .service(e) = error else { return false }
        return e.code == "ValidationError" && e.message.contains("does not exist")
    }
}
