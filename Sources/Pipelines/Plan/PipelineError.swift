/// Everything that can go wrong making, emitting or running a plan.
public enum PipelineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Packages depend on each other in a cycle; `cycle` starts and ends with the same name.
    case dependencyCycle(cycle: [String], kind: String)
    /// A package or image refers to a package the stack does not have.
    case unknownPackage(name: String, referencedBy: String)
    /// A job needs a job the plan does not have.
    case unknownJob(id: String, neededBy: String)
    /// Two packages, images or jobs have the same name or id.
    case duplicateName(name: String, kind: String)
    /// A name or id cannot be used (empty, or invalid for CI).
    case invalidName(name: String, reason: String)
    /// A job has an empty command.
    case emptyCommand(job: String)
    /// A setting is unusable.
    case invalidSetting(name: String, value: String, reason: String)
    /// A backend cannot express the plan.
    case backendLimit(backend: String, reason: String)
    /// Writing output failed.
    case writeFailed(path: String, reason: String)
    /// Starting a job's command failed.
    case launchFailed(job: String, program: String, reason: String)

    /// What happened and what to do about it.
    public var description: String {
        switch self {
        case .dependencyCycle(let cycle, let kind):
            return "\(kind) dependencies form a cycle: \(cycle.joined(separator: " → ")). Remove one of these dependencies so the graph is acyclic."
        case .unknownPackage(let name, let by):
            return "\(by) refers to package '\(name)', which the stack does not define. Add the package or fix the name."
        case .unknownJob(let id, let by):
            return "job '\(by)' needs job '\(id)', which the plan does not have. Fix the needs list."
        case .duplicateName(let name, let kind):
            return "\(kind) '\(name)' is defined more than once. Give each \(kind) a unique name."
        case .invalidName(let name, let reason):
            return "the name '\(name)' cannot be used: \(reason). Rename it."
        case .emptyCommand(let job):
            return "job '\(job)' has an empty command. Give it an argv with at least the program."
        case .invalidSetting(let name, let value, let reason):
            // A setting that names a secret may have been given the secret itself: never echo it.
            if name.lowercased().contains("secret") || name.lowercased().contains("key") {
                return "setting \(name) is unusable (its value is not shown: it may be a secret): \(reason)."
            }
            return "setting \(name) = '\(value)' is unusable: \(reason)."
        case .backendLimit(let backend, let reason):
            return "\(backend) cannot run this plan: \(reason)"
        case .writeFailed(let path, let reason):
            return "could not write \(path): \(reason). Check that the folder is writable and the disk has space."
        case .launchFailed(let job, let program, let reason):
            return "job '\(job)' could not start '\(program)': \(reason). Check that the program exists and is executable (or pass another program path)."
        }
    }
}
