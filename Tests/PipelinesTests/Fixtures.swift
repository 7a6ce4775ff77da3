import Foundation
import Testing
import Yams
@testable import Pipelines

/// Example inputs, tools and helpers shared by the Pipelines tests.
enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let goldenRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// A small web service stack: one cached package, a chain rebuilt above it, two images.
    static var hello: PlanInput {
        PlanInput(
            stackName: "hello", stackFile: "examples/hello/stack.yaml",
            packages: [
                .init(name: "zlib", hash: "a1", cached: true),
                .init(name: "openssl", hash: "b2", dependencies: ["zlib"]),
                .init(name: "curl", hash: "c3", dependencies: ["openssl", "zlib"]),
                .init(name: "hello-app", hash: "d4", dependencies: ["curl"]),
                .init(name: "busybox", hash: "e5", cached: true),
            ],
            images: [
                .init(name: "hello", packages: ["hello-app", "curl", "busybox"], tests: true, publishTags: ["latest", "v1.0"]),
                .init(name: "tools", packages: ["busybox", "zlib"]),
            ],
            settings: helloSettings)
    }

    /// Every setting given, as a stack file's `ci:` would (nothing has a default): stackship from
    /// a release artifact, the cache's public key, one set-up command for every backend.
    static var helloSettings: PlanInput.Settings {
        var s = PlanInput.Settings(cacheURL: "s3://stackship-cache/packages", registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com",
                                   awsRoleARN: "arn:aws:iam::123456789012:role/stackship-ci", awsRegion: "us-east-1")
        s.install = .release(url: "https://downloads.example.invalid/stackship-0.1.0-linux-x86_64.tar.gz", sha256: String(repeating: "ab", count: 32))
        s.trustedKeys = ["examples/hello/keys/cache.pub"]
        s.setup = .init(commands: ["apt-get update && apt-get install -y --no-install-recommends ca-certificates"])
        return s
    }

    /// An HPC stack: 56 libraries on MPI in one image (over GitLab's 50 needs), some cached,
    /// some unchanged since the base ref, and a small CodeBuild batch limit (so it splits).
    static var hpc: PlanInput {
        var packages: [PlanInput.Package] = [
            .init(name: "gcc-runtime", hash: "00ff", cached: true),
            .init(name: "openmpi", hash: "01ff", dependencies: ["gcc-runtime"], changedSinceBase: true),
            .init(name: "hdf5", hash: "02ff", dependencies: ["openmpi"], changedSinceBase: false),
            .init(name: "petsc", hash: "03ff", dependencies: ["openmpi", "hdf5"], changedSinceBase: false),
            .init(name: "ipopt", hash: "04ff", dependencies: ["gcc-runtime"], changedSinceBase: false),
        ]
        for i in 0..<56 {
            packages.append(.init(name: String(format: "lib%02d", i), hash: String(format: "%04x", 0x100 + i),
                                  dependencies: i % 4 == 3 ? ["ipopt"] : ["openmpi"],
                                  cached: i % 7 == 3, changedSinceBase: i % 5 == 0 ? false : nil))
        }
        var s = PlanInput.Settings(cacheURL: "s3://hpc-cache/spack", signingKeySecret: "SPACK_SIGNING_KEY",
                                   registry: "111122223333.dkr.ecr.us-west-2.amazonaws.com/exago", awsRoleARN: "arn:aws:iam::111122223333:role/exago-ci",
                                   awsRegion: "us-west-2", toolVersion: "0.2.0", codebuildComputeType: "BUILD_GENERAL1_LARGE",
                                   codebuildImageComputeType: "BUILD_GENERAL1_MEDIUM")
        s.codebuildMaxBuildsPerBatch = 40
        // stackship built from source; set-up per backend (a pinned action on GitHub).
        s.install = .source(repository: "https://git.example.invalid/stackship.git", ref: "v0.2.0")
        s.trustedKeys = ["keys/spack-cache.pub"]
        s.setup = .init(github: [.init(name: "Swift", uses: "swift-actions/setup-swift@0123456789abcdef0123456789abcdef01234567", with: ["swift-version": "6.1"], run: nil)],
                        gitlab: ["apt-get update && apt-get install -y git"], codebuild: ["yum install -y git"])
        return PlanInput(stackName: "exago", stackFile: "stack.yaml", packages: packages, images: [
            .init(name: "exago", packages: packages.map(\.name).filter { $0.hasPrefix("lib") } + ["petsc", "ipopt"],
                  tests: true, publishTags: ["latest"]),
            .init(name: "exago-dev", packages: ["petsc", "hdf5"], tests: false, publishTags: []),
        ], settings: s)
    }

    static func temporaryDirectory(_ name: String = #function) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("pipelines-tests-\(name.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Parses YAML into nested `[String: Any]` / `[Any]` / `String` (scalars stay strings).
    static func yaml(_ text: String) throws -> Any {
        guard let node = try Yams.compose(yaml: text) else { return [String: Any]() }
        return plain(node)
    }

    static func plain(_ node: Node) -> Any {
        switch node {
        case .scalar(let s): return s.string
        case .sequence(let seq): return seq.map { plain($0) }
        case .mapping(let map):
            var out: [String: Any] = [:]
            for (k, v) in map { out[k.string ?? ""] = plain(v) }
            return out
        case .alias: return ""
        }
    }

    /// A tool's path, or a recorded failure with the install hint (tests never skip).
    static func tool(_ name: String, hint: String) -> String? {
        var dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        dirs += ["/usr/local/bin", "/usr/bin", NSHomeDirectory() + "/.pyenv/shims", NSHomeDirectory() + "/.local/bin"]
        for dir in dirs where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") { return "\(dir)/\(name)" }
        Issue.record("\(name) is not installed: \(hint) (scripts/setup installs it)")
        return nil
    }

    /// Runs a tool with output to files (not pipes), offline: proxies point at a closed port.
    static func run(_ path: String, _ args: [String], cwd: URL? = nil) throws -> (status: Int32, output: String) {
        let dir = try temporaryDirectory("tool")
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("out")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outURL)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = cwd }
        var env = ProcessInfo.processInfo.environment
        for key in ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"] {
            env[key] = "http://127.0.0.1:9"
        }
        env["NO_PROXY"] = ""
        env["no_proxy"] = ""
        p.environment = env
        p.standardOutput = handle
        p.standardError = handle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try handle.close()
        return (p.terminationStatus, (try? String(contentsOf: outURL, encoding: .utf8)) ?? "")
    }
}
