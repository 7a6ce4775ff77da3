import BuildCache
import Foundation
import Pipelines
import Support
import Yams

/// Reading the `ci:` keys that make a stock runner able to run a job: `install:`, `setup:` and
/// `trusted_key:`.
extension StackFileParser {
    /// `install: preinstalled`, `install: {url: …, sha256: …}` or `install: {source: …, ref: …}`.
    func parseInstall(_ field: Entry) throws -> PlanInput.Settings.Install {
        let forms = "`install: {url: URL-or-path, sha256: HEX}`, `install: {source: GIT-URL, ref: TAG}` or `install: preinstalled`"
        if case let .scalar(scalar) = field.value {
            guard scalar.string == "preinstalled" else {
                throw StackFileError(location: valueLocation(field), message: "`ci.install` must be \(forms), found '\(scalar.string)'",
                                     hint: scalar.string.contains("://") ? "a URL needs its checksum: `install: {url: \(scalar.string), sha256: HEX}`"
                                         : "write `install: preinstalled` when the runner image already has stackship")
            }
            return .preinstalled
        }
        guard case let .mapping(mapping) = field.value else {
            throw typeError(field, what: "ci.install", expected: forms)
        }
        var values: [String: (text: String, at: SourceLocation)] = [:]
        for item in try entries(of: mapping, context: "in ci.install", allowed: ["url", "sha256", "source", "ref"]) {
            values[item.key] = (try scalar(item, what: "ci.install.\(item.key)", expected: "a string"), valueLocation(item))
        }
        let here = location(field.keyNode)
        if let url = values["url"] {
            if values["source"] != nil || values["ref"] != nil {
                throw StackFileError(location: here, message: "`ci.install` has both `url:` (a release artifact) and `source:`/`ref:` (a build from source)",
                                     hint: "keep one of the two forms")
            }
            guard let sum = values["sha256"] else {
                throw StackFileError(location: here, message: "`ci.install.url` needs `sha256:`, the artifact's SHA-256, so that a job never runs a binary other than the one you chose",
                                     hint: "add `sha256:` with the output of `sha256sum` on the artifact")
            }
            guard sum.text.count == 64, sum.text.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                throw StackFileError(location: sum.at, message: "`ci.install.sha256` must be 64 lowercase hex digits (a SHA-256), found '\(sum.text)'",
                                     hint: "use the first field `sha256sum FILE` prints")
            }
            if !PlanInput.Settings.Install.isRemote(url.text) {
                guard !url.text.contains("://") else {
                    throw StackFileError(location: url.at, message: "`ci.install.url` '\(url.text)' is neither an http(s) URL nor a path in the repository",
                                         hint: "use https://…, or commit the artifact and give its path relative to the stack file")
                }
                let absolute = StackPaths.absolute(url.text, relativeTo: directory)
                guard case .file = try checkPath(raw: url.text, absolute: absolute, what: "ci.install.url", at: url.at) else {
                    throw StackFileError(location: url.at, message: "`ci.install.url` '\(url.text)' is a directory", hint: "name the stackship executable or the .tar.gz holding it")
                }
            }
            return .release(url: url.text, sha256: sum.text)
        }
        if let source = values["source"] {
            guard let ref = values["ref"] else {
                throw StackFileError(location: here, message: "`ci.install.source` needs `ref:`, the tag or commit to build, so every job builds the same stackship",
                                     hint: "add `ref: v\(StackshipVersion.current)`")
            }
            return .source(repository: source.text, ref: ref.text)
        }
        throw StackFileError(location: here, message: "`ci.install` says neither where the artifact is (`url:`) nor which source to build (`source:`)",
                             hint: "write \(forms)")
    }

    /// `setup: [COMMAND, …]` for every backend, or `setup: {github: […], gitlab: […], codebuild: […]}`.
    func parseSetup(_ field: Entry) throws -> PlanInput.Settings.Setup {
        switch field.value {
        case .sequence:
            return PlanInput.Settings.Setup(commands: try commands(field, what: "ci.setup"))
        case let .mapping(mapping):
            var setup = PlanInput.Settings.Setup()
            for item in try entries(of: mapping, context: "in ci.setup", allowed: ["github", "gitlab", "codebuild"]) where !isNull(item.value) {
                switch item.key {
                case "github": setup.github = try githubSteps(item)
                case "gitlab": setup.gitlab = try commands(item, what: "ci.setup.gitlab")
                default: setup.codebuild = try commands(item, what: "ci.setup.codebuild")
                }
            }
            return setup
        default:
            throw typeError(field, what: "ci.setup", expected: "a list of shell commands, or a mapping of github:, gitlab: and codebuild: lists",
                            hint: "write `setup: [\"apt-get install -y golang-go\"]`")
        }
    }

    private func commands(_ entry: Entry, what: String) throws -> [String] {
        try sequence(entry, what: what, expected: "a list of shell commands", scalarHint: { "write it as a list: `[\"\($0)\"]`" })
            .map { try itemString($0, what: what, expected: "a shell command") }
    }

    /// GitHub set-up steps: a string is a `run:` step; a mapping has `uses:` (pinned to a commit,
    /// as the generated workflows' own actions are) with `with:`, or `run:`, and an optional `name:`.
    private func githubSteps(_ entry: Entry) throws -> [PlanInput.Settings.GitHubStep] {
        let what = "ci.setup.github"
        return try sequence(entry, what: what, expected: "a list of steps", scalarHint: { "write it as a list: `[\"\($0)\"]`" }).map { node in
            if case .scalar = node { return .run(try itemString(node, what: what, expected: "a shell command or a step")) }
            guard case let .mapping(mapping) = node else {
                throw StackFileError(location: location(node), message: "each entry in `\(what)` must be a shell command or a step mapping, found \(describe(node))",
                                     hint: "write `- run: COMMAND` or `- uses: owner/action@SHA`")
            }
            var step = PlanInput.Settings.GitHubStep(name: nil, uses: nil, with: [:], run: nil)
            for item in try entries(of: mapping, context: "in a \(what) step", allowed: ["name", "uses", "with", "run"]) {
                switch item.key {
                case "name": step.name = try scalar(item, what: "\(what) name", expected: "a string")
                case "run": step.run = try scalar(item, what: "\(what) run", expected: "a shell command")
                case "with": step.with = try stringMapping(item, what: "with")
                default:
                    let uses = try scalar(item, what: "\(what) uses", expected: "an action reference")
                    try checkPinned(uses, at: valueLocation(item))
                    step.uses = uses
                }
            }
            guard (step.uses == nil) != (step.run == nil) else {
                throw StackFileError(location: location(node), message: "a `\(what)` step needs exactly one of `uses:` and `run:`",
                                     hint: "split it into two steps")
            }
            if step.run != nil, !step.with.isEmpty {
                throw StackFileError(location: location(node), message: "a `\(what)` step with `run:` cannot have `with:`", hint: "`with:` gives an action's inputs; use `uses:`")
            }
            return step
        }
    }

    /// A remote action must be pinned to a full commit SHA (a tag can be moved under you);
    /// a local action (`./path`) needs no pin.
    private func checkPinned(_ uses: String, at here: SourceLocation) throws {
        if uses.hasPrefix("./") { return }
        let parts = uses.split(separator: "@", maxSplits: 1)
        let pinned = parts.count == 2 && parts[1].count == 40 && parts[1].allSatisfy { $0.isHexDigit && !$0.isUppercase }
            && parts[0].split(separator: "/").count >= 2
        guard pinned else {
            throw StackFileError(location: here, message: "`ci.setup.github` action '\(uses)' is not pinned to a commit",
                                 hint: "write owner/action@FULL-40-HEX-SHA (the commit of the release you want, as in `uses: actions/setup-go@<sha>`); tags can be moved")
        }
    }

    /// `trusted_key:` must name a public key file (relative to the stack file).
    func checkTrustedKey(_ raw: String, at here: SourceLocation) throws {
        let absolute = StackPaths.absolute(raw, relativeTo: directory)
        _ = try checkPath(raw: raw, absolute: absolute, what: "ci.trusted_key", at: here)
        if let data = try? FileIO.readFile(absolute), String(decoding: data.prefix(256), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix(SigningKey.textPrefix) {
            throw StackFileError(location: here, message: "`ci.trusted_key` '\(raw)' is a private signing key; it must never be committed or given to jobs that only read",
                                 hint: "name the .pub file beside it; remove the private key from the repository (and its history) and make a new one with `stackship cache keygen`")
        }
        do {
            _ = try PublicKey(contentsOfFile: absolute)
        } catch {
            throw StackFileError(location: here, message: "`ci.trusted_key` '\(raw)' is not a stackship public key (\(error))",
                                 hint: "name the .pub file `stackship cache keygen` wrote beside the signing key (never the key itself)")
        }
    }
}
