import Foundation
import OCI
import Testing
@testable import Stack
import Support

// MARK: - Fixtures

/// A temporary directory for one test, removed by `withStackDir`.
struct StackDir {
    let path: String

    /// Writes `contents` to `relative` (creating directories), returning the absolute path.
    @discardableResult
    func write(_ relative: String, _ contents: String = "x", mode: Int? = nil) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: full))
        if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: full) }
        return full
    }

    @discardableResult
    func mkdir(_ relative: String) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        return full
    }

    func symlink(_ relative: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: path + "/" + relative, withDestinationPath: target)
    }

    /// Parses `yaml` as `stack.yaml` in this directory.
    func parse(_ yaml: String) throws -> StackFile {
        try StackFile.parse(yaml: yaml, path: "stack.yaml", directory: path)
    }

    /// Parses `yaml`, which must fail, and returns the error.
    func error(_ yaml: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> StackFileError? {
        #expect(throws: StackFileError.self, sourceLocation: sourceLocation) { try parse(yaml) }
    }
}

func withStackDir(_ body: (StackDir) throws -> Void) throws {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("stackfile-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer {
        // Make everything removable again (some tests chmod 000).
        if let items = FileManager.default.enumerator(atPath: url.path) {
            for case let item as String in items {
                try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path + "/" + item)
            }
        }
        try? FileManager.default.removeItem(at: url)
    }
    // Resolve symlinks such as /tmp -> /private/tmp so paths compare equal.
    try body(StackDir(path: url.resolvingSymlinksInPath().path))
}

/// Checks an error's location, message and hint.
func check(_ error: StackFileError?, line: Int, column: Int, message: String, hint: String? = nil,
           sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    guard let error else { return }
    #expect(error.location?.file == "stack.yaml", sourceLocation: sourceLocation)
    #expect(error.location?.line == line, "\(error)", sourceLocation: sourceLocation)
    #expect(error.location?.column == column, "\(error)", sourceLocation: sourceLocation)
    #expect(error.message.contains(message), "\(error)", sourceLocation: sourceLocation)
    if let hint {
        #expect(error.hint?.contains(hint) == true, "\(error)", sourceLocation: sourceLocation)
    }
}

// MARK: - Valid files

@Suite("stack.yaml: valid files")
struct StackFileValidTests {
    @Test func fullExample() throws {
        try withStackDir { dir in
            try dir.write("build/hello", "#!/bin/sh\n")
            try dir.write("static/index.html", "<html/>")
            let stack = try dir.parse("""
                version: 1            # optional
                images:
                  hello:
                    base: scratch
                    tags: [hello:latest, hello:1.0]
                    platform: linux/amd64
                    compression: gzip
                    layers:
                      - source: ./build/hello
                        destination: /usr/local/bin/hello
                        mode: 0755
                      - source: ./static
                        destination: /srv/static
                        exclude: ["*.tmp"]
                    config:
                      entrypoint: [/usr/local/bin/hello]
                      cmd: []
                      env: {HTTP_PORT: "80"}
                      workdir: /
                      user: "65534:65534"
                      exposed_ports: [80]
                      labels: {org.example.team: platform}
                      stop_signal: SIGTERM
                    annotations:
                      org.opencontainers.image.source: https://example.com/hello
                """)
            #expect(stack.version == 1)
            #expect(stack.path == "stack.yaml")
            #expect(stack.directory == dir.path)
            #expect(stack.images.count == 1)
            let image = try #require(stack.images.first)
            #expect(image.name == "hello")
            #expect(image.location == Stack.SourceLocation(file: "stack.yaml", line: 3, column: 3))
            #expect(image.base == .scratch)
            #expect(image.tags.map(\.description) == ["docker.io/library/hello:latest", "docker.io/library/hello:1.0"])
            #expect(image.platform == Platform(os: "linux", architecture: "amd64"))
            #expect(image.compression == .gzip)
            #expect(image.layers.count == 2)
            let binary = image.layers[0]
            #expect(binary.source == dir.path + "/build/hello")
            #expect(binary.destination == "/usr/local/bin/hello")
            #expect(binary.mode == 0o755)
            #expect(binary.followSymlinks == false)
            #expect(binary.exclude == [])
            #expect(binary.comment == nil)
            #expect(binary.location == Stack.SourceLocation(file: "stack.yaml", line: 9, column: 9))
            let statics = image.layers[1]
            #expect(statics.source == dir.path + "/static")
            #expect(statics.destination == "/srv/static")
            #expect(statics.mode == nil)
            #expect(statics.exclude == ["*.tmp"])
            #expect(image.config.entrypoint == ["/usr/local/bin/hello"])
            #expect(image.config.cmd == [])
            #expect(image.config.env == [EnvVar(name: "HTTP_PORT", value: "80")])
            #expect(image.config.workdir == "/")
            #expect(image.config.user == "65534:65534")
            #expect(image.config.exposedPorts == ["80/tcp"])
            #expect(image.config.labels == ["org.example.team": "platform"])
            #expect(image.config.stopSignal == "SIGTERM")
            #expect(image.config.volumes == [])
            #expect(image.annotations == ["org.opencontainers.image.source": "https://example.com/hello"])
            #expect(try stack.image(named: "hello").name == "hello")
        }
    }

    @Test func defaults() throws {
        try withStackDir { dir in
            let stack = try dir.parse("""
                images:
                  app: {}
                  empty:
                """)
            #expect(stack.version == 1)
            #expect(stack.images.map(\.name) == ["app", "empty"])
            for image in stack.images {
                #expect(image.base == .scratch)
                #expect(image.tags == [try ImageReference(parsing: "\(image.name):latest")])
                #expect(image.platform == Platform.host)
                #expect(image.compression == .gzip)
                #expect(image.layers.isEmpty)
                #expect(image.config == ConfigSpec())
                #expect(image.config.entrypoint == nil && image.config.cmd == nil)
                #expect(image.annotations.isEmpty)
            }
        }
    }

    @Test func imagesKeepFileOrder() throws {
        try withStackDir { dir in
            let stack = try dir.parse("images:\n  zeta: {}\n  alpha: {}\n  mid.dle_1-x: {}\n")
            #expect(stack.images.map(\.name) == ["zeta", "alpha", "mid.dle_1-x"])
        }
    }

    @Test func baseForms() throws {
        try withStackDir { dir in
            let oci = try dir.write("bases/base.oci.tar")
            let docker = try dir.write("base.docker.tar")
            let stack = try dir.parse("""
                images:
                  a: {base: "alpine:3.20"}
                  b: {base: localhost/base:1}
                  c: {base: "oci-archive:bases/base.oci.tar"}
                  d: {base: "oci-archive:./bases/base.oci.tar:v1"}
                  e: {base: "docker-archive:\(docker):busybox:latest"}
                  f: {base: "docker-archive:base.docker.tar:@1"}
                  g: {base: ~}
                """)
            #expect(stack.images.map(\.base) == [
                .store("alpine:3.20"), .store("localhost/base:1"),
                .ociArchive(path: oci, reference: nil), .ociArchive(path: oci, reference: "v1"),
                .dockerArchive(path: docker, reference: "busybox:latest"),
                .dockerArchive(path: docker, reference: "@1"), .scratch,
            ])
        }
    }

    @Test func layerOptions() throws {
        try withStackDir { dir in
            try dir.write("a.sh")
            try dir.mkdir("tree")
            let stack = try dir.parse("""
                images:
                  app:
                    layers:
                      - {source: a.sh, destination: /bin/a, mode: "0644"}
                      - {source: a.sh, destination: /bin/b, mode: 755}
                      - {source: a.sh, destination: /bin/c, mode: 0o700}
                      - source: \(dir.path)/tree/../tree/
                        destination: //srv/./www//
                        follow_symlinks: true
                        exclude: ["*.tmp", "cache/**"]
                        comment: static files
                      - {source: tree, destination: /, exclude: ~, comment: ~, mode: ~, follow_symlinks: ~}
                """)
            let layers = try #require(stack.images.first?.layers)
            #expect(layers.map(\.mode) == [0o644, 0o755, 0o700, nil, nil])
            #expect(layers.map(\.destination) == ["/bin/a", "/bin/b", "/bin/c", "/srv/www", "/"])
            #expect(layers[3].source == dir.path + "/tree")
            #expect(layers[3].followSymlinks)
            #expect(layers[3].exclude == ["*.tmp", "cache/**"])
            #expect(layers[3].comment == "static files")
        }
    }

    @Test func configForms() throws {
        try withStackDir { dir in
            let stack = try dir.parse("""
                images:
                  shell:
                    config:
                      entrypoint: echo hello world
                      cmd: ["--verbose", 1, true]
                      env: [B=2, A=, C=x=y]
                      user: nobody
                      exposed_ports: [80, "443/tcp", 53/UDP, 9000/sctp]
                      stop_signal: term
                      volumes: [/data, /var/lib/x/]
                      labels: {version: 1.0, enabled: yes, empty: }
                  mapped:
                    config:
                      env: {ZED: 1, ALPHA: on, EMPTY: ~, Q: "quoted"}
                      stop_signal: 9
                      user: 1000
                """)
            let shell = stack.images[0].config
            #expect(shell.entrypoint == ["/bin/sh", "-c", "echo hello world"])
            #expect(shell.cmd == ["--verbose", "1", "true"])
            #expect(shell.env == [EnvVar(name: "B", value: "2"), EnvVar(name: "A", value: ""), EnvVar(name: "C", value: "x=y")])
            #expect(shell.workdir == nil)
            #expect(shell.user == "nobody")
            #expect(shell.exposedPorts == ["80/tcp", "443/tcp", "53/udp", "9000/sctp"])
            #expect(shell.stopSignal == "SIGTERM")
            #expect(shell.volumes == ["/data", "/var/lib/x"])
            #expect(shell.labels == ["version": "1.0", "enabled": "yes", "empty": ""])
            let mapped = stack.images[1].config
            #expect(mapped.env.map(\.name) == ["ZED", "ALPHA", "EMPTY", "Q"])
            #expect(mapped.env.map(\.value) == ["1", "on", "", "quoted"])
            #expect(mapped.stopSignal == "9")
            #expect(mapped.user == "1000")
        }
    }

    @Test func userForms() throws {
        try withStackDir { dir in
            for user in ["0", "65534:65534", "nobody", "app:staff", "www-data:1000"] {
                let stack = try dir.parse("images:\n  a:\n    config: {user: \"\(user)\"}\n")
                #expect(stack.images[0].config.user == user)
            }
        }
    }

    @Test func stopSignalForms() throws {
        try withStackDir { dir in
            let cases = ["SIGTERM": "SIGTERM", "TERM": "SIGTERM", "sigint": "SIGINT", "KILL": "SIGKILL",
                         "SIGRTMIN+3": "SIGRTMIN+3", "15": "15", "64": "64", "1": "1"]
            for (input, expected) in cases {
                let stack = try dir.parse("images:\n  a:\n    config: {stop_signal: \"\(input)\"}\n")
                #expect(stack.images[0].config.stopSignal == expected)
            }
        }
    }

    @Test func compressionAndPlatform() throws {
        try withStackDir { dir in
            let stack = try dir.parse("""
                images:
                  a: {compression: zstd, platform: linux/arm64/v8}
                  b: {compression: none, platform: linux/x86_64}
                  c: {compression: gzip, platform: linux/arm/v7}
                """)
            #expect(stack.images.map(\.compression) == [.zstd, .none, .gzip])
            #expect(stack.images.map(\.platform.description) == ["linux/arm64", "linux/amd64", "linux/arm/v7"])
        }
    }

    @Test func workdirIsNormalised() throws {
        try withStackDir { dir in
            let stack = try dir.parse("images:\n  a:\n    config: {workdir: /srv/./app//data/}\n")
            #expect(stack.images[0].config.workdir == "/srv/app/data")
        }
    }

    @Test func mergeKeysAndExtensionFields() throws {
        try withStackDir { dir in
            let stack = try dir.parse("""
                x-defaults: &defaults
                  user: "1000"
                  env: {MODE: prod}
                images:
                  a:
                    config:
                      <<: *defaults
                      user: "2000"
                  b:
                    config: *defaults
                """)
            #expect(stack.images[0].config.user == "2000")
            #expect(stack.images[0].config.env == [EnvVar(name: "MODE", value: "prod")])
            #expect(stack.images[1].config.user == "1000")
        }
    }

    @Test func quotedKeysAndFlowStyles() throws {
        try withStackDir { dir in
            let stack = try dir.parse("{\"images\": {'app': {\"tags\": [\"app:1\"]}}}")
            #expect(stack.images.first?.tags.map(\.familiar) == ["app:1"])
        }
    }

    @Test func loadResolvesAgainstTheFilesDirectory() throws {
        try withStackDir { dir in
            try dir.write("project/bin/tool")
            try dir.write("project/stack.yaml", """
                images:
                  tool:
                    layers:
                      - {source: bin/tool, destination: /tool}
                """)
            let stack = try StackFile.load(path: dir.path + "/project/stack.yaml")
            #expect(stack.directory == dir.path + "/project")
            #expect(stack.images[0].layers[0].source == dir.path + "/project/bin/tool")
        }
    }

    @Test func loadKeepsTheGivenPathInErrors() throws {
        try withStackDir { dir in
            try dir.write("stack.yaml", "images:\n  app:\n    bsae: scratch\n")
            let relative = String(repeating: "../", count: FileManager.default.currentDirectoryPath.split(separator: "/").count)
                + dir.path.dropFirst() + "/stack.yaml"
            let error = #expect(throws: StackFileError.self) { try StackFile.load(path: relative) }
            #expect(error?.location?.file == relative)
            #expect(error?.description == "\(relative):3:5: unknown key 'bsae' in image 'app'; did you mean 'base'?")
        }
    }
}

// MARK: - Errors

@Suite("stack.yaml: errors")
struct StackFileErrorTests {
    // Reading the file

    @Test func missingFile() throws {
        try withStackDir { dir in
            let path = dir.path + "/nope/stack.yaml"
            let error = #expect(throws: StackFileError.self) { try StackFile.load(path: path) }
            #expect(error?.location == nil)
            #expect(error?.description == "no stack file at \(path); create one (see README) or pass its path")
        }
    }

    @Test func directoryInsteadOfFile() throws {
        try withStackDir { dir in
            let error = #expect(throws: StackFileError.self) { try StackFile.load(path: dir.path) }
            #expect(error?.location == nil)
            #expect(error?.message == "\(dir.path) is a directory, not a stack file")
        }
    }

    @Test func notUTF8() throws {
        try withStackDir { dir in
            let path = dir.path + "/stack.yaml"
            try Data("images:\n  a\u{e9}: {}\n".utf8.map { $0 == 0xC3 ? 0xFF : $0 }).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: StackFileError.self) { try StackFile.load(path: path) }
            #expect(error?.location == Stack.SourceLocation(file: path, line: 2, column: 4))
            #expect(error?.message == "\(path) is not UTF-8 text")
        }
    }

    @Test func emptyFile() throws {
        try withStackDir { dir in
            check(dir.error("# nothing here\n"), line: 1, column: 1, message: "the stack file is empty", hint: "images:")
        }
    }

    // Invalid YAML

    @Test func invalidYAMLScanner() throws {
        try withStackDir { dir in
            let error = dir.error("images:\n  app:\n    base: \"unterminated\n")
            check(error, line: 4, column: 1, message: "invalid YAML: found unexpected end of stream")
            #expect(error?.message.contains("while scanning a quoted scalar at line 3, column 11") == true)
        }
    }

    @Test func invalidYAMLParser() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app:\n    base: scratch\n   tags: [a]\n"), line: 4, column: 4,
                  message: "invalid YAML: did not find expected key", hint: "indentation")
        }
    }

    @Test func invalidYAMLMappingValue() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app:\n    base: a: b\n"), line: 3, column: 12,
                  message: "invalid YAML: mapping values are not allowed", hint: "quote values")
        }
    }

    @Test func invalidYAMLTabs() throws {
        try withStackDir { dir in
            check(dir.error("images:\n\tapp: {}\n"), line: 2, column: 1,
                  message: "invalid YAML", hint: "YAML does not allow tabs")
        }
    }

    @Test func invalidYAMLUndefinedAlias() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app: *nothing\n"), line: 2, column: 8,
                  message: "invalid YAML: found undefined alias", hint: "define the anchor")
        }
    }

    @Test func invalidYAMLControlCharacter() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app: {base: a\u{1}b}\n"), line: 2, column: 16,
                  message: "invalid YAML: control characters are not allowed", hint: "remove the character")
        }
    }

    @Test func twoDocuments() throws {
        try withStackDir { dir in
            check(dir.error("images: {a: {}}\n---\nimages: {b: {}}\n"), line: 2, column: 1,
                  message: "invalid YAML: but found another document", hint: "single YAML document")
        }
    }

    // Unknown keys

    @Test func unknownKeyInConfigSuggestsTheClosest() throws {
        try withStackDir { dir in
            let error = dir.error("""
                images:
                  app:
                    config:
                      entrypiont: [/app]
                """)
            check(error, line: 4, column: 7, message: "unknown key 'entrypiont' in config", hint: "did you mean 'entrypoint'?")
            #expect(error?.description == "stack.yaml:4:7: unknown key 'entrypiont' in config; did you mean 'entrypoint'?")
        }
    }

    @Test func unknownKeyCamelCaseSuggestsSnakeCase() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app:\n    config:\n      exposedPorts: [80]\n"), line: 4, column: 7,
                  message: "unknown key 'exposedPorts' in config", hint: "did you mean 'exposed_ports'?")
            check(dir.error("images:\n  app:\n    layers:\n      - {source: x, follow-symlinks: true}\n"), line: 4, column: 21,
                  message: "unknown key 'follow-symlinks' in layer 1 of image 'app'", hint: "did you mean 'follow_symlinks'?")
        }
    }

    @Test func unknownKeyAtEveryLevel() throws {
        try withStackDir { dir in
            check(dir.error("imagse:\n  app: {}\n"), line: 1, column: 1,
                  message: "unknown key 'imagse' at the top level", hint: "did you mean 'images'?")
            check(dir.error("images:\n  app:\n    tag: [a]\n"), line: 3, column: 5,
                  message: "unknown key 'tag' in image 'app'", hint: "did you mean 'tags'?")
            check(dir.error("images:\n  app:\n    layers:\n      - sorce: x\n"), line: 4, column: 9,
                  message: "unknown key 'sorce' in layer 1 of image 'app'", hint: "did you mean 'source'?")
        }
    }

    @Test func unknownKeyWithoutACloseMatchListsTheValidOnes() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app:\n    healthcheck: {}\n"), line: 3, column: 5,
                  message: "unknown key 'healthcheck' in image 'app'",
                  hint: "valid keys are 'base', 'tags', 'platform', 'compression', 'packages', 'layers', 'config', 'annotations', 'test', 'dockerfile', 'context', 'args', 'target' and 'steps'")
        }
    }

    // Types

    @Test func layersMustBeAList() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app:\n    layers: ./build\n"), line: 3, column: 13,
                  message: "`layers` must be a list of mappings, found a string", hint: "- source: PATH")
        }
    }

    @Test func layerEntryMustBeAMapping() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app:\n    layers:\n      - ./build\n"), line: 4, column: 9,
                  message: "layer 1 of image 'app' must be a mapping with `source:` and `destination:`, found a string")
        }
    }

    @Test func scalarWhereAListIsExpected() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app:\n    tags: app:1\n"), line: 3, column: 11,
                  message: "`tags` must be a list of image references, found a string", hint: "write `tags: [app:1]`")
            check(dir.error("images:\n  app:\n    config: {exposed_ports: 80}\n"), line: 3, column: 29,
                  message: "`exposed_ports` must be a list of ports, found a number", hint: "write `exposed_ports: [80]`")
            check(dir.error("images:\n  app:\n    config: {volumes: /data}\n"), line: 3, column: 23,
                  message: "`volumes` must be a list of absolute paths, found a string")
        }
    }

    @Test func otherWrongTypes() throws {
        try withStackDir { dir in
            try dir.write("f")
            check(dir.error("images: [app]\n"), line: 1, column: 9,
                  message: "`images` must be a mapping of image names to image definitions, found a list")
            check(dir.error("images:\n"), line: 1, column: 1,
                  message: "`images` must be a mapping of image names to image definitions, found nothing")
            check(dir.error("- images\n"), line: 1, column: 1,
                  message: "the top level must be a mapping with `version:` and `images:`, found a list")
            check(dir.error("images:\n  app: scratch\n"), line: 2, column: 8,
                  message: "image 'app' must be a mapping of image settings")
            check(dir.error("images:\n  app:\n    config: [a]\n"), line: 3, column: 13, message: "`config` must be a mapping")
            check(dir.error("images:\n  app:\n    config: {env: 3}\n"), line: 3, column: 19,
                  message: "`env` must be a mapping of NAME: VALUE or a list of NAME=VALUE strings, found a number")
            check(dir.error("images:\n  app:\n    config: {entrypoint: {a: b}}\n"), line: 3, column: 26,
                  message: "`entrypoint` must be a list of strings or a string, found a mapping")
            check(dir.error("images:\n  app:\n    config: {cmd: [a, [b]]}\n"), line: 3, column: 23,
                  message: "each entry in `cmd` must be a string, found a list")
            check(dir.error("images:\n  app:\n    layers: [{source: f, destination: /f, follow_symlinks: sure}]\n"),
                  line: 3, column: 60, message: "`follow_symlinks` must be true or false, found a string")
            check(dir.error("images:\n  app:\n    base: [alpine]\n"), line: 3, column: 11,
                  message: "`base` must be an image reference")
            check(dir.error("images:\n  app:\n    annotations: {a: [1]}\n"), line: 3, column: 22,
                  message: "annotation 'a' must be a string, found a list")
            check(dir.error("images:\n  app:\n    config: {labels: [a=b]}\n"), line: 3, column: 22,
                  message: "`labels` must be a mapping of names to strings, found a list")
            check(dir.error("images:\n  app:\n    layers: [{source: f, destination: /f, exclude: \"*.o\"}]\n"),
                  line: 3, column: 52, message: "`exclude` must be a list of glob patterns, found a string",
                  hint: "write `exclude: [\"*.o\"]`")
            check(dir.error("images:\n  ? [a]\n  : {}\n"), line: 2, column: 5, message: "keys in images must be strings, found a list")
        }
    }

    @Test func unsupportedVersion() throws {
        try withStackDir { dir in
            check(dir.error("version: 3\nimages:\n  app: {}\n"), line: 1, column: 10,
                  message: "unsupported stack file version '3'", hint: "this stackship reads versions 1 and 2")
        }
    }

    // Missing keys

    @Test func missingImages() throws {
        try withStackDir { dir in
            check(dir.error("version: 1\n"), line: 1, column: 1, message: "missing key 'images' at the top level",
                  hint: "add an `images:` mapping")
            check(dir.error("images: {}\n"), line: 1, column: 1, message: "no images under `images`")
        }
    }

    @Test func missingLayerSourceAndDestination() throws {
        try withStackDir { dir in
            try dir.write("f")
            check(dir.error("images:\n  app:\n    layers:\n      - destination: /f\n"), line: 4, column: 9,
                  message: "missing key 'source' in layer 1 of image 'app'", hint: "add `source: PATH`")
            check(dir.error("images:\n  app:\n    layers:\n      - source: f\n      - source: f\n        comment: x\n"),
                  line: 4, column: 9, message: "missing key 'destination' in layer 1 of image 'app'",
                  hint: "add `destination: /PATH`")
            check(dir.error("images:\n  app:\n    layers:\n      - {source: f, destination: /f}\n      - {source: f}\n"),
                  line: 5, column: 9, message: "missing key 'destination' in layer 2 of image 'app'")
            check(dir.error("images:\n  app:\n    layers:\n      - source:\n        destination: /f\n"), line: 4, column: 9,
                  message: "`source` must be the path of a file or directory, found nothing")
        }
    }

    // Layer sources on disk

    @Test func missingSourcePath() throws {
        try withStackDir { dir in
            let error = dir.error("images:\n  app:\n    layers:\n      - source: ./bin/hello\n        destination: /hello\n")
            check(error, line: 4, column: 17,
                  message: "layer source './bin/hello' does not exist (looked for \(dir.path)/bin/hello)",
                  hint: "fix the path, or build it first")
            #expect(error?.hint?.contains(dir.path) == true)
        }
    }

    @Test func sourceSymlinkLoop() throws {
        try withStackDir { dir in
            try dir.symlink("loop-a", to: "loop-b")
            try dir.symlink("loop-b", to: "loop-a")
            check(dir.error("images:\n  app:\n    layers:\n      - {source: loop-a, destination: /x}\n"), line: 4, column: 18,
                  message: "layer source 'loop-a' is a symlink loop (\(dir.path)/loop-a)", hint: "fix or remove the link")
        }
    }

    @Test func sourceBrokenSymlink() throws {
        try withStackDir { dir in
            try dir.symlink("dangling", to: "missing-target")
            check(dir.error("images:\n  app:\n    layers:\n      - {source: dangling, destination: /x}\n"), line: 4, column: 18,
                  message: "layer source 'dangling' is a broken symlink (\(dir.path)/dangling points to 'missing-target'")
        }
    }

    @Test func unreadableSource() throws {
        // As root, access() always succeeds, so a file whose mode grants read to nobody counts as
        // unreadable (see StackPaths.inspect).
        try withStackDir { dir in
            let path = try dir.write("secret", "s", mode: 0o000)
            check(dir.error("images:\n  app:\n    layers:\n      - {source: secret, destination: /s}\n"), line: 4, column: 18,
                  message: "cannot read layer source 'secret' (permission denied)", hint: "chmod a+r \(path)")
            let tree = try dir.mkdir("private")
            try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: tree)
            check(dir.error("images:\n  app:\n    layers:\n      - {source: private, destination: /s}\n"), line: 4, column: 18,
                  message: "cannot read layer source 'private' (permission denied)", hint: "chmod a+rX")
        }
    }

    @Test func sourceIsNotAFileOrDirectory() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app:\n    layers:\n      - {source: /dev/null, destination: /null}\n"), line: 4, column: 18,
                  message: "layer source '/dev/null' is not a regular file or directory")
        }
    }

    @Test func modeOnADirectory() throws {
        try withStackDir { dir in
            try dir.mkdir("tree")
            check(dir.error("images:\n  app:\n    layers:\n      - source: tree\n        destination: /t\n        mode: 0755\n"),
                  line: 6, column: 15, message: "`mode` applies only to a single-file source", hint: "remove `mode:`")
        }
    }

    @Test func badMode() throws {
        try withStackDir { dir in
            try dir.write("f")
            check(dir.error("images:\n  app:\n    layers: [{source: f, destination: /f, mode: 0855}]\n"), line: 3, column: 49,
                  message: "invalid mode '0855': modes are octal", hint: "such as 0755")
            check(dir.error("images:\n  app:\n    layers: [{source: f, destination: /f, mode: rwx}]\n"), line: 3, column: 49,
                  message: "invalid mode 'rwx'")
            check(dir.error("images:\n  app:\n    layers: [{source: f, destination: /f, mode: 017777}]\n"), line: 3, column: 49,
                  message: "mode '017777' is out of range")
        }
    }

    @Test func badExcludePatterns() throws {
        try withStackDir { dir in
            try dir.mkdir("d")
            check(dir.error("images:\n  app:\n    layers: [{source: d, destination: /d, exclude: [/abs/*.o]}]\n"), line: 3, column: 53,
                  message: "exclude pattern '/abs/*.o' is absolute", hint: "write 'abs/*.o'")
            check(dir.error("images:\n  app:\n    layers: [{source: d, destination: /d, exclude: [\"\"]}]\n"), line: 3, column: 53,
                  message: "empty pattern in `exclude`")
        }
    }

    // Paths inside the image

    @Test func relativeDestination() throws {
        try withStackDir { dir in
            try dir.write("f")
            check(dir.error("images:\n  app:\n    layers:\n      - source: f\n        destination: usr/bin/f\n"), line: 5, column: 22,
                  message: "layer destination 'usr/bin/f' is not an absolute path", hint: "such as '/usr/bin/f'")
        }
    }

    @Test func destinationWithDotDot() throws {
        try withStackDir { dir in
            try dir.write("f")
            check(dir.error("images:\n  app:\n    layers: [{source: f, destination: /a/../b}]\n"), line: 3, column: 39,
                  message: "layer destination '/a/../b' contains '..'", hint: "such as '/b'")
            check(dir.error("images:\n  app:\n    layers: [{source: f, destination: /../etc}]\n"), line: 3, column: 39,
                  message: "layer destination '/../etc' contains '..'", hint: "remove the '..' components")
        }
    }

    @Test func relativeWorkdirAndVolume() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app:\n    config:\n      workdir: app\n"), line: 4, column: 16,
                  message: "workdir 'app' is not an absolute path", hint: "such as '/app'")
            check(dir.error("images:\n  app:\n    config:\n      volumes: [/data, data2]\n"), line: 4, column: 24,
                  message: "volume 'data2' is not an absolute path", hint: "such as '/data2'")
            check(dir.error("images:\n  app:\n    config:\n      volumes: [/data, /data/]\n"), line: 4, column: 24,
                  message: "volume /data is listed twice", hint: "stack.yaml:4:17")
        }
    }

    // Config values

    @Test func badPorts() throws {
        try withStackDir { dir in
            let prefix = "images:\n  app:\n    config:\n      exposed_ports: "
            check(dir.error(prefix + "[0]\n"), line: 4, column: 23, message: "port 0 is out of range", hint: "1 to 65535")
            check(dir.error(prefix + "[80, 70000]\n"), line: 4, column: 27, message: "port 70000 is out of range")
            check(dir.error(prefix + "[80/xtp]\n"), line: 4, column: 23, message: "unknown protocol 'xtp' in port '80/xtp'",
                  hint: "tcp, udp or sctp")
            check(dir.error(prefix + "[8000-8002/tcp]\n"), line: 4, column: 23,
                  message: "port ranges such as '8000-8002/tcp' are not supported")
            check(dir.error(prefix + "[http]\n"), line: 4, column: 23, message: "invalid port 'http'")
            check(dir.error(prefix + "[80, 80/tcp]\n"), line: 4, column: 27, message: "port 80/tcp is listed twice",
                  hint: "already listed at stack.yaml:4:23")
        }
    }

    @Test func badStopSignal() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app:\n    config: {stop_signal: SIGTREM}\n"), line: 3, column: 27,
                  message: "unknown stop signal 'SIGTREM'", hint: "did you mean 'SIGTERM'?")
            check(dir.error("images:\n  app:\n    config: {stop_signal: SIGFOOBAR}\n"), line: 3, column: 27,
                  message: "unknown stop signal 'SIGFOOBAR'", hint: "a number from 1 to 64")
            check(dir.error("images:\n  app:\n    config: {stop_signal: 65}\n"), line: 3, column: 27,
                  message: "stop signal 65 is out of range", hint: "1 to 64")
            check(dir.error("images:\n  app:\n    config: {stop_signal: 0}\n"), line: 3, column: 27,
                  message: "stop signal 0 is out of range")
        }
    }

    @Test func badEnv() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app:\n    config:\n      env: {1PORT: 80}\n"), line: 4, column: 13,
                  message: "invalid environment variable name '1PORT'", hint: "do not start with a digit")
            check(dir.error("images:\n  app:\n    config:\n      env: [A=1, MY-VAR=2]\n"), line: 4, column: 18,
                  message: "invalid environment variable name 'MY-VAR'")
            check(dir.error("images:\n  app:\n    config:\n      env: [DEBUG]\n"), line: 4, column: 13,
                  message: "env entry 'DEBUG' has no '='", hint: "write DEBUG=VALUE")
            check(dir.error("images:\n  app:\n    config:\n      env: [A=1, A=2]\n"), line: 4, column: 18,
                  message: "environment variable 'A' is set twice", hint: "already set at stack.yaml:4:13")
            check(dir.error("images:\n  app:\n    config:\n      env: {A: [1]}\n"), line: 4, column: 16,
                  message: "environment variable 'A' must be a string, found a list")
        }
    }

    @Test func badUser() throws {
        try withStackDir { dir in
            for user in ["a:b:c", ":1", "1:", "two words", "99999999999"] {
                check(dir.error("images:\n  app:\n    config: {user: \"\(user)\"}\n"), line: 3, column: 20,
                      message: "invalid user '\(user)'", hint: "UID, UID:GID, NAME or NAME:GROUP")
            }
        }
    }

    @Test func badCompression() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app:\n    compression: gz\n"), line: 3, column: 18,
                  message: "unknown compression 'gz'", hint: "did you mean 'gzip'?")
            check(dir.error("images:\n  app:\n    compression: brotli\n"), line: 3, column: 18,
                  message: "unknown compression 'brotli'", hint: "use gzip, zstd or none")
        }
    }

    // References and platforms

    @Test func invalidPlatform() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app:\n    platform: linux\n"), line: 3, column: 15,
                  message: "invalid platform 'linux': use OS/ARCH[/VARIANT], such as linux/amd64 or linux/arm64/v8")
        }
    }

    @Test func invalidBaseReference() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app:\n    base: Alpine:3.20\n"), line: 3, column: 11,
                  message: "invalid base image reference 'Alpine:3.20': repository name must be lowercase ('library/alpine' would do)",
                  hint: "use `scratch`")
            check(dir.error("images:\n  app:\n    base: \"alpine:-bad\"\n"), line: 3, column: 11,
                  message: "invalid base image reference 'alpine:-bad': bad tag '-bad'")
            check(dir.error("images:\n  app:\n    base: docker://alpine\n"), line: 3, column: 11,
                  message: "base 'docker://alpine' uses the unsupported transport 'docker://'", hint: "oci-archive:PATH")
        }
    }

    @Test func invalidTag() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app:\n    tags: [app:1, \"app:two words\"]\n"), line: 3, column: 19,
                  message: "invalid tag 'app:two words': references may contain only printable ASCII characters without spaces")
            check(dir.error("images:\n  app:\n    tags:\n      - App:1\n"), line: 4, column: 9,
                  message: "invalid tag 'App:1': repository name must be lowercase")
            check(dir.error("images:\n  app:\n    tags: [app, \"docker.io/library/app:latest\"]\n"), line: 3, column: 17,
                  message: "tag 'docker.io/library/app:latest' is listed twice", hint: "already listed at stack.yaml:3:12")
            check(dir.error("images:\n  app:\n    tags: []\n"), line: 3, column: 11,
                  message: "`tags` of image 'app' is empty", hint: "remove `tags:` to use 'app:latest'")
        }
    }

    @Test func baseArchives() throws {
        try withStackDir { dir in
            try dir.mkdir("layout")
            check(dir.error("images:\n  app:\n    base: oci-archive:./base.tar\n"), line: 3, column: 11,
                  message: "base archive './base.tar' does not exist (looked for \(dir.path)/base.tar)", hint: "build it first")
            check(dir.error("images:\n  app:\n    base: \"docker-archive:missing.tar:busybox:latest\"\n"), line: 3, column: 11,
                  message: "base archive 'missing.tar' does not exist")
            check(dir.error("images:\n  app:\n    base: oci-archive:layout\n"), line: 3, column: 11,
                  message: "base archive 'layout' is a directory", hint: "takes a tar file")
            check(dir.error("images:\n  app:\n    base: \"oci-archive:\"\n"), line: 3, column: 11,
                  message: "base 'oci-archive:' has no archive path")
            try dir.write("b.tar")
            check(dir.error("images:\n  app:\n    base: \"docker-archive:b.tar:Bad Ref\"\n"), line: 3, column: 11,
                  message: "invalid reference 'Bad Ref' in base 'docker-archive:b.tar:Bad Ref'")
            check(dir.error("images:\n  app:\n    base: \"docker-archive:b.tar:@x\"\n"), line: 3, column: 11,
                  message: "invalid image index '@x'", hint: "@0")
            check(dir.error("images:\n  app:\n    base: \"oci-archive:b.tar:\"\n"), line: 3, column: 11,
                  message: "empty reference after ':'")
        }
    }

    // Names

    @Test func badImageName() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  ok: {}\n  My_App: {}\n"), line: 3, column: 3,
                  message: "invalid image name 'My_App'", hint: "such as 'my_app'")
            check(dir.error("images:\n  -app: {}\n"), line: 2, column: 3, message: "invalid image name '-app'", hint: "such as 'app'")
            check(dir.error("images:\n  \"web server\": {}\n"), line: 2, column: 3, message: "invalid image name 'web server'",
                  hint: "such as 'web-server'")
        }
    }

    @Test func imageNameThatIsNotAValidRepository() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app-: {}\n"), line: 2, column: 3,
                  message: "image name 'app-' cannot be the default tag 'app-:latest'", hint: "add `tags:`")
            // With explicit tags the name is fine.
            let stack = try dir.parse("images:\n  app-: {tags: [app]}\n")
            #expect(stack.images[0].name == "app-")
        }
    }

    @Test func imageNamedLookup() throws {
        try withStackDir { dir in
            let stack = try dir.parse("images:\n  frontend: {}\n  backend: {}\n")
            let close = #expect(throws: StackFileError.self) { try stack.image(named: "frontent") }
            #expect(close?.message == "no image named 'frontent' in stack.yaml")
            #expect(close?.hint == "did you mean 'frontend'?")
            #expect(close?.location == Stack.SourceLocation(file: "stack.yaml", line: 1, column: 1))
            let far = #expect(throws: StackFileError.self) { try stack.image(named: "database") }
            #expect(far?.hint == "the images are 'frontend' and 'backend'")
        }
    }

    // Duplicate keys

    @Test func duplicateKeyPointsAtTheSecondUse() throws {
        try withStackDir { dir in
            let error = dir.error("""
                images:
                  app:
                    base: scratch
                    config:
                      user: "1"
                      workdir: /
                      user: "2"
                """)
            check(error, line: 7, column: 7, message: "duplicate key 'user' in config", hint: "already set at stack.yaml:5:7")
        }
    }

    @Test func duplicateKeyAtTheTopAndInImages() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  a: {}\nversion: 1\nimages:\n  b: {}\n"), line: 4, column: 1,
                  message: "duplicate key 'images' at the top level", hint: "stack.yaml:1:1")
            check(dir.error("images:\n  a: {}\n  b: {}\n  a: {base: scratch}\n"), line: 4, column: 3,
                  message: "duplicate key 'a' in images", hint: "stack.yaml:2:3")
        }
    }

    @Test func duplicateKeyInAFlowMappingOnOneLine() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app: {base: scratch, tags: [a], base: scratch}\n"), line: 2, column: 35,
                  message: "duplicate key 'base' in image 'app'", hint: "stack.yaml:2:9")
            check(dir.error("images:\n  app: {\"base\": scratch, 'base': x}\n"), line: 2, column: 26,
                  message: "duplicate key 'base' in image 'app'", hint: "stack.yaml:2:9")
        }
    }

    @Test func syntaxErrorOnTheLineOfADuplicate() throws {
        try withStackDir { dir in
            // A syntax error anywhere wins over a repeated key, at its own column.
            check(dir.error("images: {a: {tags: [a], tags: [b]}, b: {tags: [c}}\n"), line: 1, column: 49,
                  message: "invalid YAML: did not find expected ',' or ']'")
        }
    }

    @Test func duplicateOfAnAnchoredKey() throws {
        try withStackDir { dir in
            // Keys come from libyaml's events, so an anchored key's repeat is found like any
            // other (re-parsing with a renamed key could not rename it in place).
            check(dir.error("images:\n  &x app: {}\n  app: {}\n"), line: 3, column: 3,
                  message: "duplicate key 'app' in images", hint: "already set at stack.yaml:2:3")
        }
    }

    @Test func keyUsedThreeTimes() throws {
        try withStackDir { dir in
            check(dir.error("images:\n  app:\n    config:\n      env:\n        A: 1\n        A: 2\n        A: 3\n"), line: 6, column: 9,
                  message: "duplicate key 'A' in env", hint: "stack.yaml:5:9")
        }
    }

    @Test func duplicatesInTwoMappings() throws {
        try withStackDir { dir in
            // The first repeat in file order, though the inner mapping closes first.
            check(dir.error("images:\n  a:\n    tags: [a]\n    tags: [b]\n  b:\n    labels: {x: 1, x: 2}\n"), line: 4, column: 5,
                  message: "duplicate key 'tags' in image 'a'", hint: "stack.yaml:3:5")
        }
    }

    @Test func keysThatCollideOnlyAsStrings() throws {
        try withStackDir { dir in
            // Yams sees an int and a string; as labels they are both "1".
            check(dir.error("images:\n  app:\n    config:\n      labels: {1: a, \"1\": b}\n"), line: 4, column: 22,
                  message: "duplicate key '1' in labels", hint: "stack.yaml:4:16")
        }
    }

    @Test func duplicateKeyAfterASyntaxErrorLaterOn() throws {
        try withStackDir { dir in
            // A YAML error later in the file wins over an earlier repeat.
            check(dir.error("images:\n  a: {tags: [a], tags: [b]}\n  b: {tags: [c}\n"), line: 3, column: 15,
                  message: "invalid YAML")
        }
    }
}

// MARK: - Pieces

@Suite("stack.yaml: helpers")
struct StackFileHelperTests {
    @Test func editDistance() {
        #expect(Suggestions.editDistance("", "") == 0)
        #expect(Suggestions.editDistance("abc", "") == 3)
        #expect(Suggestions.editDistance("entrypiont", "entrypoint") == 1)
        #expect(Suggestions.editDistance("SIGTREM", "SIGTERM") == 1)
        #expect(Suggestions.editDistance("kitten", "sitting") == 3)
        #expect(Suggestions.editDistance("tag", "tags") == 1)
    }

    @Test func closestMatch() {
        let keys = StackFileParser.configKeys
        #expect(Suggestions.closest(to: "exposedPorts", in: keys) == "exposed_ports")
        #expect(Suggestions.closest(to: "ENV", in: keys) == "env")
        #expect(Suggestions.closest(to: "wrkdir", in: keys) == "workdir")
        #expect(Suggestions.closest(to: "healthcheck", in: keys) == nil)
        #expect(Suggestions.closest(to: "x", in: ["id"]) == nil)
    }

    @Test func errorDescription() {
        let error = StackFileError(location: Stack.SourceLocation(file: "stack.yaml", line: 12, column: 7),
                                   message: "unknown key 'entrypiont' in config", hint: "did you mean 'entrypoint'?")
        #expect(error.description == "stack.yaml:12:7: unknown key 'entrypiont' in config; did you mean 'entrypoint'?")
        #expect(error.errorDescription == error.description)
        #expect(StackFileError(location: nil, message: "m").description == "m")
    }

    @Test func pathNormalisation() {
        #expect(StackPaths.normalise("/a/./b//c/../d/") == "/a/b/d")
        #expect(StackPaths.normalise("/..") == "/")
        #expect(StackPaths.absolute("x/y", relativeTo: "/base/dir") == "/base/dir/x/y")
        #expect(StackPaths.absolute("/abs", relativeTo: "/base") == "/abs")
        #expect(StackPaths.parent(of: "/a/b/stack.yaml") == "/a/b")
        #expect(StackPaths.parent(of: "/stack.yaml") == "/")
    }
}
