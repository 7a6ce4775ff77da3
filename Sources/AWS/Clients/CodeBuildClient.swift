import Foundation

/// AWS CodeBuild: start a batch build (the build-graph Stackship generates) and follow it.
public struct CodeBuildClient: Sendable {
    /// The shared client.
    public let client: AWSClient
    static let target = "CodeBuild_20161006"

    /// A CodeBuild client over `client`.
    public init(client: AWSClient) { self.client = client }

    /// A batch build's state.
    public struct BuildBatch: Sendable, Equatable, Decodable {
        /// The batch id ("project:uuid").
        public var id: String
        /// The ARN.
        public var arn: String?
        /// SUCCEEDED, FAILED, FAULT, TIMED_OUT, IN_PROGRESS, STOPPED.
        public var buildBatchStatus: String?
        /// The current phase.
        public var currentPhase: String?
        /// The project.
        public var projectName: String?
        /// The source version built.
        public var resolvedSourceVersion: String?
        /// The builds in the batch.
        public var buildGroups: [BuildGroup]?

        /// One node of the build-graph.
        public struct BuildGroup: Sendable, Equatable, Decodable {
            /// The identifier from the buildspec's batch section.
            public var identifier: String?
            /// What it depends on.
            public var dependsOn: [String]?
            /// Its build's summary.
            public var currentBuildSummary: Summary?
        }

        /// A build's summary.
        public struct Summary: Sendable, Equatable, Decodable {
            /// The build ARN.
            public var arn: String?
            /// The build's status.
            public var buildStatus: String?
        }

        /// True once the batch has finished (any way).
        public var isFinished: Bool { !["IN_PROGRESS", nil].contains(buildBatchStatus) }
    }

    /// StartBuildBatch for `project`, optionally at `sourceVersion` (a commit, branch or PR ref)
    /// with extra environment variables (plain text; never pass secrets here).
    /// `buildspec` overrides the project's (a path in the source, such as the second batch
    /// buildspec a large plan was split into).
    public func startBuildBatch(project: String, sourceVersion: String? = nil, buildspec: String? = nil,
                                environment: [String: String] = [:]) async throws -> BuildBatch {
        struct Variable: Encodable { var name: String; var value: String; var type = "PLAINTEXT" }
        struct Input: Encodable {
            var projectName: String; var sourceVersion: String?; var buildspecOverride: String?; var environmentVariablesOverride: [Variable]?
        }
        struct Output: Decodable { var buildBatch: BuildBatch }
        let variables = environment.sorted { $0.key < $1.key }.map { Variable(name: $0.key, value: $0.value) }
        return try await AWSJSONProtocol.call(client, service: .codeBuild, targetPrefix: Self.target, operation: "StartBuildBatch",
                                              input: Input(projectName: project, sourceVersion: sourceVersion, buildspecOverride: buildspec,
                                                           environmentVariablesOverride: variables.isEmpty ? nil : variables),
                                              as: Output.self).buildBatch
    }

    /// BatchGetBuildBatches: the state of each id (unknown ids are left out).
    public func batchGetBuildBatches(ids: [String]) async throws -> [BuildBatch] {
        struct Input: Encodable { var ids: [String] }
        struct Output: Decodable { var buildBatches: [BuildBatch]? }
        return try await AWSJSONProtocol.call(client, service: .codeBuild, targetPrefix: Self.target, operation: "BatchGetBuildBatches",
                                              input: Input(ids: ids), as: Output.self).buildBatches ?? []
    }
}
