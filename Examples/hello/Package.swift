// swift-tools-version: 6.2
// The hello service: GET / answers "Hello, world.", GET /ping answers "pong".
// Built in release mode with a static Swift standard library; stack.yaml packs
// the binary and the few system libraries it still links into the image.
import PackageDescription

let package = Package(
    name: "hello",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        .executableTarget(
            name: "hello",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Sources/Hello"
        ),
    ],
    swiftLanguageModes: [.v6]
)
