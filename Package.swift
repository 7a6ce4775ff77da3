// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "stackship",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "OCI", targets: ["OCI"]),
        .library(name: "Stack", targets: ["Stack"]),
        .executable(name: "stackship", targets: ["stackship"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages (installed by scripts/setup).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

        .target(
            name: "OCI",
            dependencies: [
                "CZlib", "CZstd",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "Stack",
            dependencies: [
                "OCI",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "stackship",
            dependencies: [
                "OCI", "Stack",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "OCITests", dependencies: ["OCI"]),
        .testTarget(name: "StackTests", dependencies: ["Stack", "OCI"]),
        .testTarget(name: "EndToEndTests", dependencies: ["OCI", "Stack"]),
    ],
    swiftLanguageModes: [.v6]
)
