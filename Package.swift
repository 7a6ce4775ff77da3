// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "stackship",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "OCI", targets: ["OCI"]),
        .library(name: "HTTPCore", targets: ["HTTPCore"]),
        .library(name: "Registry", targets: ["Registry"]),
        .library(name: "Runtime", targets: ["Runtime"]),
        .library(name: "Stack", targets: ["Stack"]),
        .library(name: "BuildCache", targets: ["BuildCache"]),
        .library(name: "StackshipTesting", targets: ["StackshipTesting"]),
        .library(name: "AWS", targets: ["AWS"]),
        .library(name: "AWSTemplates", targets: ["AWSTemplates"]),
        .library(name: "Pipelines", targets: ["Pipelines"]),
        .library(name: "Dockerfile", targets: ["Dockerfile"]),
        .executable(name: "stackship", targets: ["stackship"]),
        // For Fuzz/'s libFuzzer harness only (see the FuzzSupport target).
        .library(name: "FuzzSupport", targets: ["FuzzSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.60.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.25.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages (installed by scripts/setup).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

        // What every target uses and none owns: child processes (spawned with exact descriptors and
        // a clean signal mask), text for messages (did-you-mean, one-line diagnostics), and
        // escaping for JSON, XML/HTML, DOT, Mermaid and the shell.
        .target(name: "Support", dependencies: ["CSupport"]),
        .target(
            name: "OCI",
            dependencies: [
                "Support", "CZlib", "CZstd", "CSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The one HTTP stack: connection pools, proxies and NO_PROXY, trusted CAs, time limits and
        // retries with a classifier each client supplies. It imports nothing of ours.
        .target(
            name: "HTTPCore",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // C for Support and OCI: posix_spawn with exact descriptors, and openat2(RESOLVE_IN_ROOT),
        // which Swift cannot call directly (syscall is variadic), for the safe extractor.
        .target(name: "CSupport"),
        // Namespaces, mounts, the monitor's fork and port relays for the runtime.
        .target(name: "CRuntime"),
        .target(
            name: "Runtime",
            dependencies: ["OCI", "Support", "CRuntime", "CSupport"]
        ),
        // Tests against running containers (testcontainers/dockertest for Stackship).
        // Its ScriptedServer is an in-process HTTP(S) server on NIO, so client tests need no Python.
        .target(
            name: "StackshipTesting",
            dependencies: [
                "Runtime", "OCI", "Support",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "Registry",
            dependencies: [
                "OCI", "Support", "HTTPCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The binary package cache: signed, content-addressed artifacts behind pluggable backends.
        .target(
            name: "BuildCache",
            dependencies: [
                "OCI", "AWS",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Credentials, SigV4 and small AWS API clients (no AWS SDK).
        .target(
            name: "AWS",
            dependencies: [
                "Support", "HTTPCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The stack file (one reader for every section, `ci:` and `aws:` included), package
        // builds, image assembly, and the plan input for Pipelines (Stack/Planning). Yams brings
        // CYaml, whose events find repeated keys.
        .target(
            name: "Stack",
            dependencies: [
                "OCI", "Support", "Runtime", "BuildCache", "Pipelines", "Dockerfile",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // CloudFormation templates built from the `aws:` settings the stack file reader produces.
        .target(
            name: "AWSTemplates",
            dependencies: ["Stack", "OCI", "Support", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // One plan emitted as GitHub Actions, GitLab CI and CodeBuild pipelines, and run locally.
        // Its input (PlanInput) is built from the stack file by Stack/Planning, so it does not
        // import Stack (its tests and benchmark make inputs by hand).
        .target(
            name: "Pipelines",
            dependencies: ["OCI", "Support", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The Dockerfile reader for `stackship build -f`: parser, typed model, variable expansion,
        // stage resolution and .dockerignore matching. Pure text in, values out: no I/O.
        .target(name: "Dockerfile", dependencies: ["Support"]),
        // Times plan + emitters on a synthetic 2,000-package input (Benchmarks/pipelines/run.sh).
        .executableTarget(
            name: "pipelines-bench",
            dependencies: ["Pipelines"],
            path: "Benchmarks/pipelines/Sources/pipelines-bench"
        ),
        .executableTarget(
            name: "stackship",
            dependencies: [
                "OCI", "Support", "HTTPCore", "Registry", "Stack", "Runtime", "BuildCache", "Pipelines", "AWS", "AWSTemplates", "Dockerfile",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [
                // A fully static, position-dependent release executable: no dynamic loader and no
                // start-up relocation of its ~130,000 pointers. Position-dependent took ~2 ms off
                // every command and static linking ~2 ms more (`stackship --version`: 5.8 to 3.6
                // ms); `stackship run` is timed against bare runc. glibc 2.34+ has its files and
                // dns name services built in, so host lookups need no shared library. lld ships
                // with Swift on Linux.
                .unsafeFlags(["-use-ld=lld", "-static-executable"], .when(platforms: [.linux], configuration: .release)),
            ]
        ),

        // The fuzz corpus, mutators and invariants, shared by the fuzz tests and the libFuzzer
        // harness in Fuzz/ (which needs it as a product). Test support, not API.
        .target(name: "FuzzSupport", dependencies: ["OCI", "Runtime"], path: "Tests/FuzzSupport"),
        .testTarget(name: "OCITests", dependencies: ["OCI", "Support", "StackshipTesting", "FuzzSupport"]),
        // The transport alone, and the registry and AWS clients side by side, against ScriptedServer.
        .testTarget(
            name: "HTTPCoreTests",
            dependencies: ["HTTPCore", "Registry", "AWS", "OCI", "StackshipTesting", .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "AsyncHTTPClient", package: "async-http-client")]
        ),
        .testTarget(
            name: "RegistryTests",
            dependencies: ["Registry", "HTTPCore", "OCI", "StackshipTesting", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOCore", package: "swift-nio")],
            // The fixtures' token server and fault proxy, run with python3 (found via #filePath).
            exclude: ["Fixtures/token_server.py", "Fixtures/fault_proxy.py"]
        ),
        .testTarget(name: "StackTests", dependencies: ["Stack", "OCI", "Pipelines", "Dockerfile", "StackshipTesting", .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "BuildCacheTests", dependencies: ["BuildCache", "AWS", "OCI", "StackshipTesting"]),
        // SigV4 vectors in Resources (found via #filePath); integration tests against moto_server.
        .testTarget(
            name: "AWSTests", dependencies: ["AWS", "HTTPCore", "StackshipTesting", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                             .product(name: "NIOCore", package: "swift-nio")],
            exclude: ["Resources"]
        ),
        // The `aws:` settings as the stack file reader reads them, and the templates: golden
        // files (found via #filePath), cfn-lint on what they write, least privilege.
        .testTarget(
            name: "AWSTemplatesTests", dependencies: ["AWSTemplates", "Stack", .product(name: "Yams", package: "Yams")],
            exclude: ["Golden"]
        ),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "OCI", "Support", "StackshipTesting", "FuzzSupport"]),
        // The hello example's own tests, against its image running under runc.
        .testTarget(name: "HelloTests", dependencies: ["StackshipTesting"], path: "Examples/hello/Tests/HelloTests"),
        .testTarget(
            name: "PipelinesTests",
            dependencies: ["Pipelines", "Support", .product(name: "Yams", package: "Yams")],
            exclude: ["Golden"]
        ),
        // Parser tables, Docker's documented examples, a mutation property test, and the CLI's own
        // `stackship dockerfile` output (run from this build, found through StackshipTesting).
        .testTarget(name: "DockerfileTests", dependencies: ["Dockerfile", "Support", "StackshipTesting"], exclude: ["Fixtures"]),
        // The CLI's own code, in process (the command-line tests run the built executable).
        .testTarget(name: "CLITests", dependencies: ["stackship"]),
        // The AWS command tests also use the AWS clients (to check what a deploy made).
        .testTarget(name: "EndToEndTests", dependencies: ["OCI", "Stack", "StackshipTesting", "AWS", "AWSTemplates", "HTTPCore", "Runtime", .product(name: "Yams", package: "Yams")]),
    ],
    swiftLanguageModes: [.v6]
)
