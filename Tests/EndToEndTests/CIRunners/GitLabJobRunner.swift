import Foundation
import StackshipTesting
import Testing
import Yams

/// Runs generated GitLab CI jobs with gitlabci-local (PyPI `gitlabci-local`, the `gcil`
/// program) in its native mode (`--host`): each job's `before_script` and `script` run in a
/// shell on this machine, with the pipeline's and the job's `variables`, as GitLab's shell
/// executor runs them.
///
/// Why native and not a container engine: gitlabci-local's docker/podman engines need the job
/// image (`debian:bookworm`) from a registry, which a loopback-only machine has not got, and
/// the jobs themselves start containers under runc (package builds, `stackship test`), which
/// would need a privileged nested engine. Natively, every job finds runc and the loopback
/// registry and moto as any shell runner would.
///
/// What gitlabci-local does not do, and this runner does instead:
/// - it mounts (or, natively, runs in) one folder for every job, so jobs would share the
///   store in `.stackship/`; GitLab gives each job a fresh checkout. Each job is run here by
///   its own gitlabci-local call in a fresh `git clone` (`CITestRepository.freshClone`), so
///   nothing but the binary cache and the registry passes between jobs, as on GitLab;
/// - it does not run `trigger:` jobs (it reports them "trigger only"): the child pipeline the
///   generate job wrote is run as a pipeline of its own, from that job's artifact, in the
///   repository's root (where GitLab runs a child pipeline's jobs);
/// - it ignores `rules:` and `needs:`; jobs run one at a time in stage order (file order
///   within a stage, the order gitlabci-local's `--pipeline` uses), which this runner checks
///   is an order `needs:` allows, and `rules:` are evaluated here for the simple
///   `$CI_COMMIT_BRANCH == "…" || $CI_COMMIT_TAG` form the emitter writes.
struct GitLabJobRunner {
    /// gitlabci-local's executable.
    let executable: String
    /// The environment every job starts from (GitLab's predefined and CI/CD variables, PATH,
    /// the AWS test keys); each job adds its own HOME and STACKSHIP_STATE.
    var environment: [String: String]

    static let installHint = "gitlabci-local is not installed: run scripts/setup (python3 -m pip install gitlabci-local)"

    /// gitlabci-local on PATH or where pip puts it.
    static func locate() throws -> String {
        var dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        dirs += ["/usr/local/bin", "/usr/bin", NSHomeDirectory() + "/.local/bin", "/root/.pyenv/shims"]
        for dir in dirs where FileManager.default.isExecutableFile(atPath: dir + "/gitlabci-local") { return dir + "/gitlabci-local" }
        throw ToolMissing(tool: "gitlabci-local", hint: installHint)
    }

    /// One job of a pipeline file, as this runner needs it.
    struct PipelineJob: Equatable {
        var name: String
        var stage: String
        var needs: [String]
        /// The `rules:` `if:` expressions (empty: none, the job always runs).
        var ruleConditions: [String]
        /// For a trigger job: the artifact path and the job that makes it.
        var triggerArtifact: (path: String, job: String)?

        static func == (a: PipelineJob, b: PipelineJob) -> Bool {
            a.name == b.name && a.stage == b.stage && a.needs == b.needs && a.ruleConditions == b.ruleConditions
                && a.triggerArtifact?.path == b.triggerArtifact?.path && a.triggerArtifact?.job == b.triggerArtifact?.job
        }
    }

    static let reservedKeys: Set<String> = ["stages", "variables", "default", "include", "workflow", "image", "services",
                                            "before_script", "after_script", "cache"]

    /// The jobs of `yaml` in the order gitlabci-local's pipeline mode runs them: by the index of
    /// their stage in `stages:`, file order within a stage. Throws for a stage not declared.
    static func jobsInStageOrder(_ yaml: String) throws -> [PipelineJob] {
        guard let document = try Yams.compose(yaml: yaml), let mapping = document.mapping else {
            throw CIRunnerFailure("the pipeline file is not a YAML mapping")
        }
        let stages = mapping["stages"]?.sequence?.compactMap(\.string) ?? ["build", "test", "deploy"]
        var jobs: [(Int, Int, PipelineJob)] = []
        for (index, (key, value)) in mapping.enumerated() {
            guard let name = key.string, !reservedKeys.contains(name), !name.hasPrefix("."), let job = value.mapping else { continue }
            let stage = job["stage"]?.string ?? "test"
            guard let stageIndex = stages.firstIndex(of: stage) else {
                throw CIRunnerFailure("job \(name) is in stage '\(stage)', which `stages:` does not list (\(stages))")
            }
            let needs = job["needs"]?.sequence?.compactMap { $0.string ?? $0.mapping?["job"]?.string } ?? []
            let rules = job["rules"]?.sequence?.compactMap { $0.mapping?["if"]?.string } ?? []
            var trigger: (String, String)?
            if let include = job["trigger"]?.mapping?["include"]?.sequence?.first?.mapping,
               let artifact = include["artifact"]?.string, let from = include["job"]?.string {
                trigger = (artifact, from)
            }
            jobs.append((stageIndex, index, PipelineJob(name: name, stage: stage, needs: needs, ruleConditions: rules, triggerArtifact: trigger)))
        }
        return jobs.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
    }

    /// Whether `job.needs` only names jobs that run before it in `order`.
    static func needsAreSatisfied(by order: [PipelineJob]) -> [String] {
        var seen: Set<String> = []
        var problems: [String] = []
        for job in order {
            for need in job.needs where !seen.contains(need) {
                problems.append("\(job.name) needs \(need), which does not run before it")
            }
            seen.insert(job.name)
        }
        return problems
    }

    /// Evaluates a rule of the form the emitter writes: `$CI_COMMIT_BRANCH == "main" || $CI_COMMIT_TAG`
    /// (terms joined by `||`, each `$VAR == "value"` or `$VAR`, a set and non-empty variable).
    /// Throws for any other form, rather than guess.
    static func ruleHolds(_ condition: String, variables: [String: String]) throws -> Bool {
        for term in condition.components(separatedBy: "||").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if let range = term.range(of: "==") {
                let lhs = term[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                var rhs = term[range.upperBound...].trimmingCharacters(in: .whitespaces)
                guard lhs.hasPrefix("$"), rhs.count >= 2, rhs.hasPrefix("\""), rhs.hasSuffix("\"") else {
                    throw CIRunnerFailure("rule term '\(term)' is not `$VAR == \"value\"`")
                }
                rhs = String(rhs.dropFirst().dropLast())
                if variables[String(lhs.dropFirst())] == rhs { return true }
            } else {
                guard term.hasPrefix("$"), term.dropFirst().allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw CIRunnerFailure("rule term '\(term)' is not `$VAR`")
                }
                if let value = variables[String(term.dropFirst())], !value.isEmpty { return true }
            }
        }
        return false
    }

    /// What one job did.
    struct JobRun {
        var name: String
        var status: Int32
        /// gitlabci-local's output: the job's output. (`--no-verbose`: without it gitlabci-local
        /// traces each command with `set -x`, expanded, masked variables included; GitLab
        /// echoes a command's text unexpanded and masks those variables.)
        var output: String
        var clone: String
    }

    /// Runs the job `name` of `configuration` (a path relative to `clone`, which must be the
    /// folder the jobs run in: gitlabci-local runs them in its configuration's folder) in
    /// `clone`, with `home` and `state` as the job's HOME and STACKSHIP_STATE.
    func run(job name: String, configuration: String, in clone: String, home: String, state: String) throws -> JobRun {
        var env = environment
        env["HOME"] = home
        env["STACKSHIP_STATE"] = state
        // Offline: no update check; plain output.
        env["DEBUG_UPDATES_DISABLE"] = "1"
        env["NO_COLOR"] = "1"
        env["CI_LOCAL_HOST"] = "true"
        let r = try runProgram(executable, ["--host", "--no-regex", "--no-color", "--no-verbose", "-c", configuration, "--", name], cwd: clone, environment: env)
        return JobRun(name: name, status: r.status, output: r.out + r.err, clone: clone)
    }
}
