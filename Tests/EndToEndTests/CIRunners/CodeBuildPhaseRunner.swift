import Foundation
import StackshipTesting
import Testing
import Yams

/// A CodeBuild stand-in for tests: no local CodeBuild runner exists, so this reads a batch
/// buildspec's `build-graph` and runs each build the way CodeBuild's 0.2 buildspecs run:
///
/// - builds start in `depend-on` order (file order among builds that are ready); a build whose
///   dependency failed does not start, and with `fast-fail: false` the others go on;
/// - a build runs its own buildspec's phases `install`, `pre_build`, `build`, `post_build` in
///   one shell (`env.shell`, else `sh`), every command in order in that same shell (so a `cd`
///   or an exported variable carries over), and stops at the first command that fails;
/// - its environment: the buildspec's `env.variables`, overridden by the graph entry's
///   `env.variables` (a start-build override), its `env.secrets-manager` entries read from
///   Secrets Manager (here moto's: `secret-id[:json-key]`), and CodeBuild's own variables
///   (CODEBUILD_SRC_DIR, CODEBUILD_RESOLVED_SOURCE_VERSION, CODEBUILD_BUILD_ID,
///   CODEBUILD_BATCH_BUILD_IDENTIFIER, CODEBUILD_WEBHOOK_TRIGGER, …);
/// - the graph is checked first against the CodeBuild project's batch restrictions (most
///   builds, compute types allowed), as read from its CloudFormation template.
///
/// Each build runs in its own fresh clone (CODEBUILD_SRC_DIR), as CodeBuild downloads the
/// source for each build of a batch.
struct CodeBuildPhaseRunner {
    /// One entry of `batch.build-graph`.
    struct GraphBuild: Equatable {
        var identifier: String
        var buildspec: String
        var dependOn: [String]
        var computeType: String?
        var image: String?
        var privilegedMode: Bool
        var variables: [Pair]
        var ignoreFailure: Bool
    }

    /// A name and value, in file order.
    struct Pair: Equatable {
        var name: String
        var value: String
    }

    /// A batch buildspec's graph.
    struct BatchGraph {
        var builds: [GraphBuild]
        var fastFail: Bool
    }

    /// A per-build buildspec.
    struct Buildspec {
        var shell: String?
        var variables: [Pair]
        /// Environment name → `secret-id[:json-key[:version-stage[:version-id]]]`.
        var secretsManager: [Pair]
        /// (phase, commands) in CodeBuild's phase order, only the phases present.
        var phases: [(name: String, commands: [String])]
        var artifactsBaseDirectory: String?
    }

    /// The project's `BuildBatchConfig.Restrictions`.
    struct BatchRestrictions: Equatable {
        var maximumBuildsAllowed: Int
        var computeTypesAllowed: [String]
    }

    static let phaseOrder = ["install", "pre_build", "build", "post_build"]

    // MARK: Reading

    static func mapping(_ text: String, _ what: String) throws -> Node.Mapping {
        guard let node = try Yams.compose(yaml: text), let mapping = node.mapping else {
            throw CIRunnerFailure("\(what) is not a YAML mapping")
        }
        return mapping
    }

    static func pairs(_ node: Node?) throws -> [Pair] {
        guard let node else { return [] }
        guard let mapping = node.mapping else { throw CIRunnerFailure("expected a mapping of names to values, found \(node)") }
        return try mapping.map { key, value in
            guard let name = key.string, let text = value.string else { throw CIRunnerFailure("variable \(key) is not a plain value") }
            return Pair(name: name, value: text)
        }
    }

    /// Reads `batch.build-graph` (and `fast-fail`) of a batch buildspec.
    static func readGraph(_ text: String) throws -> BatchGraph {
        let root = try mapping(text, "the batch buildspec")
        guard root["version"]?.string == "0.2" else { throw CIRunnerFailure("the batch buildspec is not version 0.2") }
        guard let batch = root["batch"]?.mapping, let graph = batch["build-graph"]?.sequence else {
            throw CIRunnerFailure("the batch buildspec has no batch.build-graph")
        }
        let builds = try graph.map { node -> GraphBuild in
            guard let entry = node.mapping, let identifier = entry["identifier"]?.string else {
                throw CIRunnerFailure("a build-graph entry has no identifier")
            }
            let env = entry["env"]?.mapping
            return GraphBuild(
                identifier: identifier,
                buildspec: entry["buildspec"]?.string ?? "buildspec.yml",
                dependOn: entry["depend-on"]?.sequence?.compactMap(\.string) ?? [],
                computeType: env?["compute-type"]?.string,
                image: env?["image"]?.string,
                privilegedMode: env?["privileged-mode"]?.bool ?? false,
                variables: try pairs(env?["variables"]),
                ignoreFailure: entry["ignore-failure"]?.bool ?? false)
        }
        return BatchGraph(builds: builds, fastFail: batch["fast-fail"]?.bool ?? true)
    }

    /// Reads a build's buildspec.
    static func readBuildspec(_ text: String) throws -> Buildspec {
        let root = try mapping(text, "the buildspec")
        guard root["version"]?.string == "0.2" else { throw CIRunnerFailure("the buildspec is not version 0.2") }
        let env = root["env"]?.mapping
        var phases: [(String, [String])] = []
        let phaseMap = root["phases"]?.mapping
        for key in phaseMap?.keys.compactMap(\.string) ?? [] where !phaseOrder.contains(key) {
            throw CIRunnerFailure("unknown phase '\(key)' (CodeBuild has \(phaseOrder.joined(separator: ", ")))")
        }
        for name in phaseOrder {
            guard let phase = phaseMap?[name]?.mapping else { continue }
            let commands = phase["commands"]?.sequence?.compactMap(\.string) ?? []
            phases.append((name, commands))
        }
        return Buildspec(shell: env?["shell"]?.string, variables: try pairs(env?["variables"]),
                         secretsManager: try pairs(env?["secrets-manager"]), phases: phases,
                         artifactsBaseDirectory: root["artifacts"]?.mapping?["base-directory"]?.string)
    }

    /// The batch restrictions of the CodeBuild project in a CloudFormation template (JSON):
    /// the one `AWS::CodeBuild::Project` with a `BuildBatchConfig`.
    static func readRestrictions(template path: String) throws -> BatchRestrictions {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let root = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let resources = root?["Resources"] as? [String: Any] ?? [:]
        for (_, value) in resources {
            guard let resource = value as? [String: Any], resource["Type"] as? String == "AWS::CodeBuild::Project",
                  let properties = resource["Properties"] as? [String: Any],
                  let batch = properties["BuildBatchConfig"] as? [String: Any],
                  let restrictions = batch["Restrictions"] as? [String: Any] else { continue }
            return BatchRestrictions(maximumBuildsAllowed: restrictions["MaximumBuildsAllowed"] as? Int ?? 100,
                                     computeTypesAllowed: restrictions["ComputeTypesAllowed"] as? [String] ?? [])
        }
        throw CIRunnerFailure("\(path) has no CodeBuild project with BuildBatchConfig.Restrictions")
    }

    /// The project's own environment variables (`Environment.EnvironmentVariables` in its
    /// template): PLAINTEXT ones as values, SECRETS_MANAGER ones as `secret-id[:json-key]`.
    static func readProjectVariables(template path: String) throws -> (plain: [Pair], secrets: [Pair]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let root = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        for (_, value) in root?["Resources"] as? [String: Any] ?? [:] {
            guard let resource = value as? [String: Any], resource["Type"] as? String == "AWS::CodeBuild::Project",
                  let properties = resource["Properties"] as? [String: Any], properties["BuildBatchConfig"] != nil else { continue }
            let variables = (properties["Environment"] as? [String: Any])?["EnvironmentVariables"] as? [[String: Any]] ?? []
            var plain: [Pair] = [], secrets: [Pair] = []
            for variable in variables {
                guard let name = variable["Name"] as? String, let text = variable["Value"] as? String else { continue }
                switch variable["Type"] as? String ?? "PLAINTEXT" {
                case "SECRETS_MANAGER": secrets.append(Pair(name: name, value: text))
                case "PLAINTEXT": plain.append(Pair(name: name, value: text))
                default: throw CIRunnerFailure("project variable \(name) has a type this runner does not read")
                }
            }
            return (plain, secrets)
        }
        throw CIRunnerFailure("\(path) has no CodeBuild batch project")
    }

    // MARK: Checking

    /// What CodeBuild would refuse in `graph` before starting it: too many builds, a compute
    /// type the project does not allow, an identifier twice, a `depend-on` naming no build, a
    /// buildspec missing from the source, a cycle.
    static func problems(in graph: BatchGraph, restrictions: BatchRestrictions, source: String) -> [String] {
        var problems: [String] = []
        if graph.builds.count > restrictions.maximumBuildsAllowed {
            problems.append("the graph has \(graph.builds.count) builds; the project allows \(restrictions.maximumBuildsAllowed)")
        }
        var seen: Set<String> = []
        let identifiers = Set(graph.builds.map(\.identifier))
        for build in graph.builds {
            if !seen.insert(build.identifier).inserted { problems.append("identifier \(build.identifier) twice") }
            if let type = build.computeType, !restrictions.computeTypesAllowed.isEmpty, !restrictions.computeTypesAllowed.contains(type) {
                problems.append("\(build.identifier): compute type \(type) is not allowed (\(restrictions.computeTypesAllowed.joined(separator: ", ")))")
            }
            for dependency in build.dependOn where !identifiers.contains(dependency) {
                problems.append("\(build.identifier) depends on \(dependency), which is not in the graph")
            }
            if !FileManager.default.fileExists(atPath: source + "/" + build.buildspec) {
                problems.append("\(build.identifier): buildspec \(build.buildspec) is not in the source")
            }
        }
        if (try? order(graph.builds)) == nil { problems.append("depend-on has a cycle") }
        return problems
    }

    /// The builds in an order `depend-on` allows: each ready build in file order, repeatedly.
    static func order(_ builds: [GraphBuild]) throws -> [GraphBuild] {
        var done: Set<String> = [], out: [GraphBuild] = []
        var left = builds
        while !left.isEmpty {
            guard let next = left.firstIndex(where: { $0.dependOn.allSatisfy(done.contains) }) else {
                throw CIRunnerFailure("depend-on has a cycle among \(left.map(\.identifier))")
            }
            done.insert(left[next].identifier)
            out.append(left.remove(at: next))
        }
        return out
    }

    // MARK: Running

    /// The shell script a buildspec's phases become: every command in order in this one shell,
    /// each followed by a check of its status that ends the build at the first failure.
    static func script(_ spec: Buildspec) -> String {
        var lines = ["# CodeBuild 0.2 phases, one shell"]
        for phase in spec.phases {
            lines.append("echo '[Container] Entering phase \(phase.name.uppercased())'")
            for (index, command) in phase.commands.enumerated() {
                lines.append("echo '[Container] Running command \(index + 1) of phase \(phase.name)'")
                lines.append(command)
                lines.append("__codebuild_status=$?")
                lines.append("if [ \"$__codebuild_status\" -ne 0 ]; then echo \"[Container] Command did not exit successfully (exit status $__codebuild_status) in phase \(phase.name)\"; echo '[Container] Phase complete: \(phase.name.uppercased()) State: FAILED'; exit \"$__codebuild_status\"; fi")
            }
            lines.append("echo '[Container] Phase complete: \(phase.name.uppercased()) State: SUCCEEDED'")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One build's result.
    struct BuildRun {
        var identifier: String
        /// nil: not started (a dependency failed).
        var status: Int32?
        var output: String
        var environment: [String: String]
    }

    /// The project's name (in CODEBUILD_BUILD_ID) and the batch's commit and branch.
    var project: String
    var commit: String
    var branch: String
    /// The environment every build starts from (PATH, AWS test keys, …).
    var base: [String: String]
    /// The project's environment variables (plain, and Secrets Manager references): they win
    /// over the buildspec's, and the graph entry's win over them (CodeBuild's precedence).
    var projectVariables: [Pair] = []
    var projectSecrets: [Pair] = []
    /// Looks a Secrets Manager secret up by id (its SecretString).
    var secret: (String) async throws -> String
    /// Makes a build's source folder (a fresh clone) and a scratch folder for its HOME and state.
    var checkout: (String) throws -> (source: String, scratch: String)

    init(project: String, commit: String, branch: String, base: [String: String], projectVariables: [Pair] = [], projectSecrets: [Pair] = [],
         secret: @escaping (String) async throws -> String, checkout: @escaping (String) throws -> (source: String, scratch: String)) {
        self.project = project
        self.commit = commit
        self.branch = branch
        self.base = base
        self.projectVariables = projectVariables
        self.projectSecrets = projectSecrets
        self.secret = secret
        self.checkout = checkout
    }

    /// The CodeBuild variables a build gets.
    func codebuildVariables(_ build: GraphBuild, number: Int, source: String) -> [String: String] {
        let id = "\(project):\(UUID().uuidString.lowercased())"
        return [
            "CODEBUILD_CI": "true",
            "CODEBUILD_SRC_DIR": source,
            "CODEBUILD_SOURCE_VERSION": commit,
            "CODEBUILD_RESOLVED_SOURCE_VERSION": commit,
            "CODEBUILD_BUILD_ID": id,
            "CODEBUILD_BUILD_ARN": "arn:aws:codebuild:\(base["AWS_REGION"] ?? "us-east-1"):123456789012:build/\(id)",
            "CODEBUILD_BUILD_NUMBER": String(number),
            "CODEBUILD_BATCH_BUILD_IDENTIFIER": build.identifier,
            "CODEBUILD_INITIATOR": "codebuild-\(project)-batch",
            "CODEBUILD_BUILD_IMAGE": build.image ?? "",
            "CODEBUILD_BUILD_SUCCEEDING": "1",
            "CODEBUILD_WEBHOOK_TRIGGER": "branch/\(branch)",
            "CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/\(branch)",
            "CODEBUILD_WEBHOOK_EVENT": "PUSH",
            "CODEBUILD_SOURCE_REPO_URL": "https://example.invalid/\(project).git",
        ]
    }

    /// Runs one build: its buildspec's phases in one shell in a fresh source folder.
    func run(_ build: GraphBuild, number: Int) async throws -> BuildRun {
        let (source, scratch) = try checkout(build.identifier)
        let specPath = source + "/" + build.buildspec
        let spec = try Self.readBuildspec(try String(contentsOfFile: specPath, encoding: .utf8))
        var env = base
        for (k, v) in codebuildVariables(build, number: number, source: source) { env[k] = v }
        for pair in spec.variables { env[pair.name] = pair.value }
        for pair in projectVariables { env[pair.name] = pair.value }
        for pair in build.variables { env[pair.name] = pair.value }
        for pair in spec.secretsManager + projectSecrets {
            let parts = pair.value.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            // An ARN holds colons of its own: arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME[:json-key…].
            let idParts = parts.first == "arn" ? 7 : 1
            let id = parts.prefix(idParts).joined(separator: ":")
            var value = try await secret(id)
            if parts.count > idParts, !parts[idParts].isEmpty {
                let object = try JSONSerialization.jsonObject(with: Data(value.utf8)) as? [String: Any]
                guard let field = object?[parts[idParts]] as? String else {
                    throw CIRunnerFailure("secret \(id) has no JSON key \(parts[idParts])")
                }
                value = field
            }
            env[pair.name] = value
        }
        env["HOME"] = scratch + "/home"
        env["STACKSHIP_STATE"] = scratch + "/state"
        try FileManager.default.createDirectory(atPath: scratch + "/home", withIntermediateDirectories: true)
        let scriptPath = scratch + "/phases.sh"
        try Data(Self.script(spec).utf8).write(to: URL(fileURLWithPath: scriptPath))
        let shell = spec.shell ?? "sh"
        let r = try runProgram(shell, [scriptPath], cwd: source, environment: env)
        return BuildRun(identifier: build.identifier, status: r.status, output: r.out + r.err, environment: env)
    }

    /// Runs the whole graph in `depend-on` order; a build whose dependency failed is not started.
    func runBatch(_ graph: BatchGraph) async throws -> [BuildRun] {
        var runs: [BuildRun] = []
        var failed: Set<String> = []
        for (index, build) in try Self.order(graph.builds).enumerated() {
            if build.dependOn.contains(where: failed.contains) || (graph.fastFail && !failed.isEmpty) {
                failed.insert(build.identifier)
                runs.append(BuildRun(identifier: build.identifier, status: nil, output: "not started: a dependency failed", environment: [:]))
                continue
            }
            let run = try await run(build, number: index + 1)
            if run.status != 0 && !build.ignoreFailure { failed.insert(build.identifier) }
            runs.append(run)
        }
        return runs
    }
}
