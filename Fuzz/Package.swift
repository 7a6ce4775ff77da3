// swift-tools-version: 6.1
// libFuzzer harnesses for the readers of untrusted bytes (see README.md): built only with
// `-sanitize=fuzzer` by run.sh, never by the main package's build or tests.
import Foundation
import PackageDescription

// The main package is the folder above; SwiftPM names a path dependency after its folder
// (`stackship` in a clone, a worktree's own name elsewhere).
let main = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

func harness(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: products.map { .product(name: $0, package: main) },
        // No main: libFuzzer's main calls LLVMFuzzerTestOneInput.
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]
    )
}

let package = Package(
    name: "stackship-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        harness("fuzz-tar", ["FuzzSupport", "OCI"]),
        harness("fuzz-json", ["FuzzSupport", "OCI"]),
        harness("fuzz-unpack", ["FuzzSupport", "OCI"]),
    ],
    swiftLanguageModes: [.v6]
)
