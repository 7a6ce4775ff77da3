import Dockerfile
import Testing

/// The error `body` throws, or `nil` (recording an issue) when it throws none.
func dockerfileError(_ body: () throws(DockerfileError) -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> DockerfileError? {
    do {
        try body()
    } catch {
        return error
    }
    Issue.record("expected a DockerfileError", sourceLocation: sourceLocation)
    return nil
}

/// The error parsing `text` throws.
func parseError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> DockerfileError? {
    dockerfileError({ () throws(DockerfileError) in _ = try Dockerfile.parse(text) }, sourceLocation: sourceLocation)
}

/// The instruction kinds of each stage.
func kinds(_ dockerfile: Dockerfile) -> [[InstructionKind]] {
    dockerfile.stages.map { $0.instructions.map(\.kind) }
}

/// The stages the target needs, resolved with `arguments` as build arguments.
func resolve(_ text: String, arguments: [String: String] = [:], target: String? = nil,
             imageEnvironment: @escaping (String) -> [String] = { _ in [] }) throws -> [ResolvedStage] {
    let plan = try BuildPlan(try Dockerfile.parse(text), options: BuildOptions(buildArguments: arguments, target: target))
    return try plan.resolve(imageEnvironment: imageEnvironment)
}

/// The instruction kinds of the last resolved stage.
func resolvedKinds(_ text: String, arguments: [String: String] = [:]) throws -> [InstructionKind] {
    try resolve(text, arguments: arguments).last?.steps.map(\.instruction.kind) ?? []
}
