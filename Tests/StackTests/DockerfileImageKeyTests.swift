import Foundation
import Testing
@testable import Stack

/// An image built from a Dockerfile (`dockerfile:`, `context:`, `args:`, `target:`).
struct DockerfileImageKeyTests {
    @Test func readsThePathContextArgsAndTarget() throws {
        try withStackDir { dir in
            try dir.write("web/Dockerfile", "FROM scratch\n")
            try dir.mkdir("src")
            let stack = try dir.parse("""
                images:
                  web:
                    dockerfile: web/Dockerfile
                    context: src
                    args: {VERSION: "1.2"}
                    target: runtime
                    tags: [web:1.2]
                  plain: {}
                """)
            let spec = try #require(try stack.image(named: "web").dockerfile)
            #expect(spec.path == dir.path + "/web/Dockerfile")
            #expect(spec.context == dir.path + "/src")
            #expect(spec.arguments == ["VERSION": "1.2"])
            #expect(spec.target == "runtime")
            #expect(try stack.image(named: "plain").dockerfile == nil)
        }
    }

    @Test func theContextDefaultsToTheDockerfilesFolder() throws {
        try withStackDir { dir in
            try dir.write("web/Dockerfile", "FROM scratch\n")
            let spec = try #require(try dir.parse("images:\n  web:\n    dockerfile: web/Dockerfile\n").image(named: "web").dockerfile)
            #expect(spec.context == dir.path + "/web")
        }
    }

    @Test func assemblyKeysBesideADockerfileAreRefused() throws {
        try withStackDir { dir in
            try dir.write("Dockerfile", "FROM scratch\n")
            check(dir.error("images:\n  web:\n    dockerfile: Dockerfile\n    layers: []\n"), line: 4, column: 5,
                  message: "has both `dockerfile:` and `layers:`", hint: "remove `layers:` or `dockerfile:`")
            check(dir.error("images:\n  web:\n    target: x\n"), line: 3, column: 5,
                  message: "`target:` in image 'web' needs `dockerfile:`")
        }
    }

    @Test func aMissingDockerfileOrOneOutsideTheFolderIsNamed() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  web:\n    dockerfile: nope/Dockerfile\n"), line: 3, column: 17, message: "nope/Dockerfile")
            try dir.mkdir("web")
            check(dir.error("images:\n  web:\n    dockerfile: web\n"), line: 3, column: 17, message: "is a directory")
            check(dir.error("images:\n  web:\n    dockerfile: ../../etc/passwd\n"), line: 3, column: 17, message: "../../etc/passwd")
        }
    }
}
