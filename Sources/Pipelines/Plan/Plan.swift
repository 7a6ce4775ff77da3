/// A DAG of jobs: package builds, image assembly, tests, publishing, then cache reindex and
/// cleanup. Made from a `PlanInput` by `Plan.make(from:options:)`, or directly from jobs.
///
/// Jobs are sorted by stage, then kind, then id, so everything rendered or emitted from a plan
/// is deterministic.
public struct Plan: Sendable, Codable, Equatable {
    /// A package the plan does not build, and why.
    public struct PrunedPackage: Sendable, Codable, Equatable {
        /// Why a package was left out.
        public enum Reason: String, Sendable, Codable {
            /// The binary cache already holds it.
            case cached
            /// It did not change since the base ref (and none of its dependencies is rebuilt).
            case unchanged
        }
        /// The package name.
        public var name: String
        /// Its hash.
        public var hash: String
        /// Why it is not built.
        public var reason: Reason

        /// Creates a record.
        public init(name: String, hash: String, reason: Reason) {
            self.name = name
            self.hash = hash
            self.reason = reason
        }
    }

    /// Choices made when planning.
    public struct Options: Sendable, Equatable {
        /// Leave out packages with `changedSinceBase == false` whose dependencies are not rebuilt.
        public var pruneUnchanged: Bool
        /// The program every job runs (`argv[0]`).
        public var program: String
        /// Without a registry, plan no publish jobs (a local run) instead of failing (CI files).
        public var omitPublishWithoutRegistry: Bool

        /// Creates options.
        public init(pruneUnchanged: Bool = false, program: String = "stackship", omitPublishWithoutRegistry: Bool = false) {
            self.pruneUnchanged = pruneUnchanged
            self.program = program
            self.omitPublishWithoutRegistry = omitPublishWithoutRegistry
        }
    }

    /// The stack's name.
    public var stackName: String
    /// The stack file the jobs pass to the CLI.
    public var stackFile: String
    /// The jobs, sorted by stage, kind and id.
    public var jobs: [Job]
    /// Packages left out, sorted by name.
    public var pruned: [PrunedPackage]
    /// The settings emitters use.
    public var settings: PlanInput.Settings

    /// Makes a plan from jobs built by hand (tests, other front ends): checks that ids are
    /// unique and valid, that every need exists, and that there is no cycle; computes stages.
    /// - Throws: `PipelineError` naming the offending job or the cycle.
    public init(stackName: String, stackFile: String = "stack.yaml", jobs: [Job],
                pruned: [PrunedPackage] = [], settings: PlanInput.Settings = .init()) throws {
        var byID: [String: Job] = [:]
        for job in jobs {
            try JobID.validate(job.id)
            if job.argv.isEmpty { throw PipelineError.emptyCommand(job: job.id) }
            if byID.updateValue(job, forKey: job.id) != nil {
                throw PipelineError.duplicateName(name: job.id, kind: "job")
            }
        }
        var edges: [String: [String]] = [:]
        for job in jobs {
            for need in job.needs where byID[need] == nil {
                throw PipelineError.unknownJob(id: need, neededBy: job.id)
            }
            edges[job.id] = job.needs
        }
        let ids = jobs.map(\.id)
        if let cycle = GraphCycle.find(nodes: ids, edges: edges) {
            throw PipelineError.dependencyCycle(cycle: cycle, kind: "job")
        }
        var stage: [String: Int] = [:]
        for id in GraphCycle.order(nodes: ids, edges: edges) {
            stage[id] = (edges[id] ?? []).map { stage[$0]! + 1 }.max() ?? 0
        }
        var sorted = jobs.map { job -> Job in
            var job = job
            job.stage = stage[job.id]!
            job.needs = Array(Set(job.needs)).sorted()
            return job
        }
        sorted.sort { ($0.stage, $0.kind, $0.id) < ($1.stage, $1.kind, $1.id) }
        self.stackName = stackName
        self.stackFile = stackFile
        self.jobs = sorted
        self.pruned = pruned.sorted { $0.name < $1.name }
        self.settings = settings
    }

    /// The number of stages (1 + the deepest stage).
    public var stageCount: Int { (jobs.map(\.stage).max() ?? -1) + 1 }

    /// Jobs by id.
    public var jobsByID: [String: Job] {
        Dictionary(uniqueKeysWithValues: jobs.map { ($0.id, $0) })
    }

    /// For each job id, the ids of the jobs that need it (sorted).
    public var dependents: [String: [String]] {
        var out: [String: [String]] = [:]
        for job in jobs { for need in job.needs { out[need, default: []].append(job.id) } }
        return out.mapValues { $0.sorted() }
    }
}

extension Plan {
    /// Plans the stack: builds of packages the cache lacks (and, with `pruneUnchanged`, of
    /// changed ones), a package being rebuilt whenever one of its dependencies is; assembly of
    /// every image after its packages' remaining builds; tests; publishing after the tests; cache
    /// reindex and cleanup at the end. When nothing is left, one no-op job.
    /// - Throws: `PipelineError` for duplicate names, unknown packages or a dependency cycle.
    public static func make(from input: PlanInput, options: Options = Options()) throws -> Plan {
        let program = options.program
        let stack = ["--stack", input.stackFile]
        var packages: [String: PlanInput.Package] = [:]
        for p in input.packages {
            if p.name.isEmpty { throw PipelineError.invalidName(name: p.name, reason: "a package name is empty") }
            if packages.updateValue(p, forKey: p.name) != nil {
                throw PipelineError.duplicateName(name: p.name, kind: "package")
            }
        }
        var edges: [String: [String]] = [:]
        for p in input.packages {
            for d in p.dependencies where packages[d] == nil {
                throw PipelineError.unknownPackage(name: d, referencedBy: "package '\(p.name)'")
            }
            edges[p.name] = p.dependencies
        }
        var imageNames = Set<String>()
        for image in input.images {
            if image.name.isEmpty { throw PipelineError.invalidName(name: image.name, reason: "an image name is empty") }
            if !imageNames.insert(image.name).inserted { throw PipelineError.duplicateName(name: image.name, kind: "image") }
            for p in image.packages where packages[p] == nil {
                throw PipelineError.unknownPackage(name: p, referencedBy: "image '\(image.name)'")
            }
            for tag in image.publishTags {
                // Tags reach CI scripts and variables: only a reference's own characters.
                let ok = !tag.isEmpty && tag.utf8.count <= 255 && tag.unicodeScalars.first.map { $0.isASCIILetter || $0.isASCIIDigit } == true
                    && tag.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || "._-:/@".unicodeScalars.contains($0) }
                if !ok {
                    throw PipelineError.invalidSetting(name: "publishTags of \(image.name)", value: tag, reason: "an image tag or reference holds only letters, digits and . _ - : / @, starting with a letter or digit")
                }
            }
        }
        let names = input.packages.map(\.name)
        if let cycle = GraphCycle.find(nodes: names, edges: edges) {
            throw PipelineError.dependencyCycle(cycle: cycle, kind: "package")
        }

        let packageIDs = JobID.assign(prefix: "package_", names: names)
        let imageIDs = JobID.assign(prefix: "image_", names: input.images.map(\.name))
        let testIDs = JobID.assign(prefix: "test_", names: input.images.map(\.name))
        // Keyed by "IMAGE TAG"; the id shows the image and the tag's own part (`publish_hello_1_0`).
        var publishNames: [String: String] = [:]
        for image in input.images {
            for tag in image.publishTags { publishNames["\(image.name) \(tag)"] = "\(image.name) \(Self.tagPart(tag))" }
        }
        let publishByName = JobID.assign(prefix: "publish_", names: Array(Set(publishNames.values)).sorted())
        var publishIDs = publishNames.mapValues { publishByName[$0]! }
        if Set(publishIDs.values).count < publishIDs.count {
            // Two references with the same tag part: tell them apart by the whole reference.
            publishIDs = JobID.assign(prefix: "publish_", names: publishNames.keys.sorted())
        }

        var rebuilt = Set<String>()
        var keys: [String: String] = [:]
        var pruned: [PrunedPackage] = []
        var jobs: [Job] = []
        for name in GraphCycle.order(nodes: names, edges: edges) {
            let p = packages[name]!
            let deps = Array(Set(p.dependencies)).sorted()
            keys[name] = Hashing.hex(["package", name, p.hash] + deps.map { keys[$0]! })
            let depRebuilt = deps.contains { rebuilt.contains($0) }
            if !depRebuilt && p.cached {
                pruned.append(.init(name: name, hash: p.hash, reason: .cached))
                continue
            }
            if !depRebuilt && options.pruneUnchanged && p.changedSinceBase == false {
                pruned.append(.init(name: name, hash: p.hash, reason: .unchanged))
                continue
            }
            rebuilt.insert(name)
            jobs.append(Job(
                id: packageIDs[name]!, kind: .package,
                argv: [program, "build", input.stackFile, "--package", name],
                needs: deps.filter { rebuilt.contains($0) }.map { packageIDs[$0]! },
                env: ["STACKSHIP_PACKAGE_HASH": p.hash],
                subject: name, key: keys[name]!))
        }
        let packageJobs = jobs
        var finals: [String] = []
        // An image built on another of the stack's images (its runtime base, say) comes after
        // it, and needs it: its key covers the base's, and its job runs after the base's.
        let imageOrder = input.images.map(\.name)
        var imageEdges: [String: [String]] = [:]
        for image in input.images {
            for base in image.bases where !imageOrder.contains(base) {
                throw PipelineError.invalidName(name: base, reason: "image '\(image.name)' is built on it, but the plan has no such image")
            }
            imageEdges[image.name] = image.bases
        }
        if let cycle = GraphCycle.find(nodes: imageOrder, edges: imageEdges) {
            throw PipelineError.dependencyCycle(cycle: cycle, kind: "image base")
        }
        let imagesByName = Dictionary(uniqueKeysWithValues: input.images.map { ($0.name, $0) })
        var imageKeys: [String: String] = [:]
        for image in GraphCycle.order(nodes: imageOrder, edges: imageEdges).map({ imagesByName[$0]! }) {
            let members = Array(Set(image.packages)).sorted()
            let bases = Array(Set(image.bases)).sorted()
            let imageKey = Hashing.hex(["image", image.name] + members.map { keys[$0]! } + bases.map { "base " + imageKeys[$0]! })
            imageKeys[image.name] = imageKey
            let imageID = imageIDs[image.name]!
            jobs.append(Job(
                id: imageID, kind: .image,
                argv: [program, "build", input.stackFile, "--image", image.name],
                needs: members.filter { rebuilt.contains($0) }.map { packageIDs[$0]! } + bases.map { imageIDs[$0]! },
                subject: image.name, key: imageKey))
            var last = imageID
            var lastKey = imageKey
            if image.tests {
                let id = testIDs[image.name]!
                lastKey = Hashing.hex(["test", imageKey])
                jobs.append(Job(id: id, kind: .test, argv: [program, "test", image.name, "--stack", input.stackFile],
                                needs: [imageID], subject: image.name, key: lastKey))
                last = id
            }
            // One push per tag (`stackship push SOURCE DESTINATION` takes one destination); each
            // after the tests, all of them before the cleanup.
            var publishes: [String] = []
            let tags = input.settings.registry == nil && options.omitPublishWithoutRegistry ? [] : image.publishTags
            for tag in tags {
                let registry = try input.settings.require(\.registry, "ci.registry", for: "the publish jobs push image '\(image.name)' to it (or leave the image out with `ci: publish: [...]`)",
                                                          example: "123456789012.dkr.ecr.us-east-1.amazonaws.com/team")
                let id = publishIDs["\(image.name) \(tag)"]!
                let source = Self.reference(tag, image: image.name)
                let argv = [program, "push", source, Self.destination(registry: registry, tag: source)]
                jobs.append(Job(id: id, kind: .publish, argv: argv, needs: [last], subject: image.name,
                                key: Hashing.hex(["publish", lastKey, tag, registry])))
                publishes.append(id)
            }
            if !publishes.isEmpty {
                finals += publishes
            } else {
                finals.append(last)
            }
        }
        if !packageJobs.isEmpty {
            let needed = Set(packageJobs.flatMap(\.needs))
            let reindexArgv = [program, "cache", "reindex"]
            jobs.append(Job(id: "cache_reindex", kind: .reindex, argv: reindexArgv,
                            needs: packageJobs.map(\.id).filter { !needed.contains($0) },
                            key: Hashing.hex(["reindex"] + reindexArgv)))
            // The packages of the stack at this commit are kept (with anything younger than
            // gc's --min-age, so other branches' recent builds survive).
            let gcArgv = [program, "cache", "gc", "--stack", input.stackFile]
            jobs.append(Job(id: "cache_cleanup", kind: .cleanup, argv: gcArgv,
                            needs: ["cache_reindex"] + finals, key: Hashing.hex(["cleanup"] + gcArgv)))
        }
        if jobs.isEmpty {
            let argv = [program, "plan"] + stack
            jobs.append(Job(id: "nothing_to_do", kind: .noop, argv: argv, key: Hashing.hex(["noop"] + argv)))
        }
        return try Plan(stackName: input.stackName, stackFile: input.stackFile, jobs: jobs,
                        pruned: pruned, settings: input.settings)
    }

    /// A publish tag as a reference in the store: a bare tag (`1.0`) is a tag of the image's
    /// own name (`hello:1.0`); a reference (`team/hello:1.0`) is taken as it is.
    static func reference(_ tag: String, image: String) -> String {
        tag.contains(":") || tag.contains("/") || tag.contains("@") ? tag : "\(image):\(tag)"
    }

    /// A reference without its tag or digest (`reg/team/hello` of `reg/team/hello:1.0`).
    static func repository(of reference: String) -> String {
        let name = reference.split(separator: "@").first.map(String.init) ?? reference
        guard let slash = name.lastIndex(of: "/") else {
            return name.split(separator: ":").first.map(String.init) ?? name
        }
        let last = name[name.index(after: slash)...]
        guard let colon = last.lastIndex(of: ":") else { return name }
        return String(name[..<colon])
    }

    /// The tag of a reference (`1.0` of `hello:1.0`, `latest` when it has none).
    static func tagPart(_ reference: String) -> String {
        let name = reference.split(separator: "@").first.map(String.init) ?? reference
        let last = name.split(separator: "/").last.map(String.init) ?? name
        guard let colon = last.lastIndex(of: ":") else { return "latest" }
        return String(last[last.index(after: colon)...])
    }

    /// Where `push` sends a tag: the registry, then the reference's repository path and tag
    /// (a registry host in the reference is replaced; `docker.io/library/` is dropped).
    static func destination(registry: String, tag: String) -> String {
        var parts = tag.split(separator: "/").map(String.init)
        if parts.count > 1, parts[0].contains(".") || parts[0].contains(":") || parts[0] == "localhost" { parts.removeFirst() }
        if parts.count > 1 && parts[0] == "library" { parts.removeFirst() }
        var path = parts.joined(separator: "/")
        if !path.contains(":") && !path.contains("@") { path += ":latest" }
        let host = registry.hasSuffix("/") ? String(registry.dropLast()) : registry
        return host.isEmpty ? path : host + "/" + path
    }
}
