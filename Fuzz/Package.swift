// swift-tools-version: 6.1
// libFuzzer harnesses for the readers of untrusted bytes (see README.md): built only with
// `-sanitize=fuzzer` by run.sh, never by the main package's build or tests.
import Foundation
import PackageDescription

// The main package is the folder above; SwiftPM names a path dependency after its folder
// (`stackship` in a clone, a worktree's own name elsewhere).
let main = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

// Each harness's main.swift hands its test function to libFuzzer (LLVMFuzzerRunDriver).
func harness(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["CFuzzerDriver"] + products.map { .product(name: $0, package: main) },
        // lld, which ships with Swift: GNU gold (the default here) dies with an internal error
        // in format_file_lineno on the sanitized objects of fuzz-json.
        linkerSettings: [.unsafeFlags(["-use-ld=lld"])]
    )
}

let package = Package(
    name: "stackship-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        harness("fuzz-tar", ["FuzzSupport", "OCI"]),
        harness("fuzz-json", ["FuzzSupport", "OCI"]),
        harness("fuzz-unpack", ["FuzzSupport", "OCI"]),
    ],
    swiftLanguageModes: [.v6]
)
