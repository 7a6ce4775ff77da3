import Foundation
import Testing
@testable import Registry

/// Registry credentials as docker, skopeo and crane users keep them. Every test works in its own
/// temporary HOME and passes its environment explicitly, so the real ~/.docker is never read.
@Suite struct CredentialsTests {
    /// A temporary HOME with a bin directory for credential helpers.
    final class Sandbox {
        let root: String
        var home: String { root + "/home" }
        var bin: String { root + "/bin" }
        var helperDir: String { root + "/helper" }
        var dockerDir: String { home + "/.docker" }
        var configPath: String { dockerDir + "/config.json" }
        var extra: [String: String] = [:]

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("stackship-creds-\(UUID().uuidString)").path
            for dir in [root + "/home", root + "/bin", root + "/helper"] {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            }
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        /// HOME, PATH (the sandbox's bin first, then the system's tools the helper script uses)
        /// and the helper's store directory, plus `extra`.
        var environment: [String: String] {
            var env = ["HOME": home, "PATH": bin + ":/usr/bin:/bin", "STACKSHIP_TEST_HELPER_DIR": helperDir]
            env.merge(extra) { $1 }
            return env
        }

        func store(explicit: RegistryCredential? = nil, explicitFor: String? = nil, timeout: Duration = .seconds(30)) -> CredentialStore {
            CredentialStore(environment: environment, explicit: explicit, explicitFor: explicitFor, helperTimeout: timeout)
        }

        func writeConfig(_ text: String, mode: Int = 0o600) throws {
            try FileManager.default.createDirectory(atPath: dockerDir, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: configPath))
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: configPath)
        }

        func readConfig(_ path: String? = nil) throws -> String {
            String(decoding: try Data(contentsOf: URL(fileURLWithPath: path ?? configPath)), as: UTF8.self)
        }

        /// The config parsed by Foundation, as an independent check of what was written.
        func configObject(_ path: String? = nil) throws -> [String: Any] {
            try #require(JSONSerialization.jsonObject(with: Data(readConfig(path).utf8)) as? [String: Any])
        }

        func mode(_ path: String) throws -> Int {
            try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        }

        func installHelper(_ name: String = "stackship-test") throws {
            try TestCredentialHelper.install(in: bin, name: name)
        }

        /// Seeds a helper's store as if it had stored these before.
        func seedHelper(_ entries: [(server: String, user: String, secret: String)], name: String = "stackship-test") throws {
            let lines = entries.map { "\"\($0.server)\": {\"Username\": \"\($0.user)\", \"Secret\": \"\($0.secret)\"}" }
            try Data(("{\n" + lines.joined(separator: ",\n") + (lines.isEmpty ? "" : "\n") + "}\n").utf8)
                .write(to: URL(fileURLWithPath: helperDir + "/docker-credential-\(name).json"))
        }

        func helperStore(_ name: String = "stackship-test") throws -> String {
            let path = helperDir + "/docker-credential-\(name).json"
            guard FileManager.default.fileExists(atPath: path) else { return "" }
            return String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        }

        /// `NAME ACTION SERVER` for each helper call, in order.
        func helperCalls() throws -> [String] {
            let path = helperDir + "/calls.log"
            guard FileManager.default.fileExists(atPath: path) else { return [] }
            return String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
                .split(separator: "\n").map(String.init)
        }

        func leftovers() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: dockerDir).filter { $0.hasPrefix(".tmp-") }
        }
    }

    static func auth(_ user: String, _ pass: String) -> String {
        Data("\(user):\(pass)".utf8).base64EncodedString()
    }

    /// A JSON value parsed by Foundation, as sorted JSON text, to compare values.
    static func canonical(_ value: Any?) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: try #require(value), options: [.sortedKeys, .fragmentsAllowed])
        return String(decoding: data, as: UTF8.self)
    }

    /// The error `body` throws, as a `CredentialError`.
    static func credentialError(_ body: () throws -> Void) -> CredentialError? {
        do {
            try body()
            return nil
        } catch let error as CredentialError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    // MARK: Resolution order

    @Test func explicitCredentialComesFirst() throws {
        let box = try Sandbox()
        try box.installHelper()
        try box.seedHelper([("ghcr.io", "helper-user", "helper-secret")])
        try box.writeConfig(#"{"credsStore": "stackship-test", "auths": {"ghcr.io": {"auth": "\#(Self.auth("file", "file-pw"))"}}}"#)
        box.extra = [CredentialStore.usernameVariable: "env-user", CredentialStore.passwordVariable: "env-pw"]
        let flag = RegistryCredential(username: "flag-user", password: "flag-pw")

        let resolved = try #require(try box.store(explicit: flag).resolve(for: "ghcr.io"))
        #expect(resolved.credential == flag)
        #expect(resolved.source == .explicit)
        #expect(try box.store(explicit: flag, explicitFor: "ghcr.io").credential(for: "https://ghcr.io/") == flag)
        // No helper ran: the flag answered before config.json was read.
        #expect(try box.helperCalls().isEmpty)
    }

    @Test func explicitCredentialForAnotherRegistryIsSkipped() throws {
        let box = try Sandbox()
        try box.writeConfig(#"{"auths": {"https://index.docker.io/v1/": {"auth": "\#(Self.auth("hub", "hub-pw"))"}}}"#)
        let flag = RegistryCredential(username: "flag-user", password: "flag-pw")
        let forGhcr = box.store(explicit: flag, explicitFor: "ghcr.io")
        #expect(try forGhcr.credential(for: "docker.io") == RegistryCredential(username: "hub", password: "hub-pw"))
        #expect(try forGhcr.credential(for: "ghcr.io") == flag)
        // explicitFor is normalised like any registry name.
        #expect(try box.store(explicit: flag, explicitFor: "index.docker.io").credential(for: "docker.io") == flag)
    }

    @Test func environmentComesBeforeConfig() throws {
        let box = try Sandbox()
        try box.installHelper()
        try box.seedHelper([("ghcr.io", "helper-user", "helper-secret")])
        try box.writeConfig(#"{"credHelpers": {"ghcr.io": "stackship-test"}, "auths": {"ghcr.io": {"auth": "\#(Self.auth("file", "pw"))"}}}"#)
        box.extra = [CredentialStore.usernameVariable: "env-user", CredentialStore.passwordVariable: "env:pw"]
        let resolved = try #require(try box.store().resolve(for: "ghcr.io"))
        #expect(resolved.credential == RegistryCredential(username: "env-user", password: "env:pw"))
        #expect(resolved.source == .environment)
        // They apply to every registry.
        #expect(try box.store().credential(for: "localhost:5000")?.username == "env-user")
        #expect(try box.helperCalls().isEmpty)
    }

    @Test func halfAnEnvironmentPairIsAnError() throws {
        let box = try Sandbox()
        box.extra = [CredentialStore.passwordVariable: "only-the-password"]
        let error = try #require(Self.credentialError { _ = try box.store().credential(for: "ghcr.io") })
        #expect(error == .incompleteEnvironment(set: CredentialStore.passwordVariable, missing: CredentialStore.usernameVariable))
        #expect(error.description.contains(CredentialStore.usernameVariable))
        #expect(!error.description.contains("only-the-password"))
        // Empty values count as unset (a CI secret that is not available to a fork).
        box.extra = [CredentialStore.usernameVariable: "", CredentialStore.passwordVariable: ""]
        #expect(try box.store().credential(for: "ghcr.io") == nil)
    }

    @Test func credHelpersThenCredsStoreThenAuths() throws {
        let box = try Sandbox()
        try box.installHelper("stackship-test")
        try box.installHelper("stackship-test-store")
        try box.seedHelper([("ghcr.io", "per-registry", "s1")], name: "stackship-test")
        try box.seedHelper([("ghcr.io", "store-wide", "s2")], name: "stackship-test-store")
        let config = #"""
        {
          "credHelpers": {"ghcr.io": "stackship-test"},
          "credsStore": "stackship-test-store",
          "auths": {"ghcr.io": {"auth": "\#(Self.auth("from-file", "s3"))"}}
        }
        """#
        try box.writeConfig(config)
        let first = try #require(try box.store().resolve(for: "ghcr.io"))
        #expect(first.credential == RegistryCredential(username: "per-registry", password: "s1"))
        #expect(first.source == .helper("docker-credential-stackship-test"))

        // The per-registry helper has nothing: the store-wide one is asked next.
        try box.seedHelper([], name: "stackship-test")
        let second = try #require(try box.store().resolve(for: "ghcr.io"))
        #expect(second.credential == RegistryCredential(username: "store-wide", password: "s2"))
        #expect(second.source == .helper("docker-credential-stackship-test-store"))

        // Neither helper has it: config.json's auths.
        try box.seedHelper([], name: "stackship-test-store")
        let third = try #require(try box.store().resolve(for: "ghcr.io"))
        #expect(third.credential == RegistryCredential(username: "from-file", password: "s3"))
        #expect(third.source == .configFile(box.configPath))

        let calls = try box.helperCalls()
        #expect(calls.first == "docker-credential-stackship-test get ghcr.io")
        #expect(calls.contains("docker-credential-stackship-test-store get ghcr.io"))

        // A registry with no entry anywhere is anonymous.
        #expect(try box.store().credential(for: "quay.io") == nil)
    }

    @Test func noConfigFileMeansNoCredentials() throws {
        let box = try Sandbox()
        #expect(try box.store().credential(for: "docker.io") == nil)
        #expect(!FileManager.default.fileExists(atPath: box.configPath))
    }

    @Test func configPathFollowsDockerAndSkopeo() throws {
        let box = try Sandbox()
        #expect(box.store().configPath == box.home + "/.docker/config.json")
        box.extra["DOCKER_CONFIG"] = box.root + "/dc"
        #expect(box.store().configPath == box.root + "/dc/config.json")
        box.extra["REGISTRY_AUTH_FILE"] = box.root + "/auth.json"
        #expect(box.store().configPath == box.root + "/auth.json")

        // The file named by REGISTRY_AUTH_FILE is the one read and written.
        try Data(#"{"auths": {"quay.io": {"auth": "\#(Self.auth("q", "qpw"))"}}}"#.utf8).write(to: URL(fileURLWithPath: box.root + "/auth.json"))
        #expect(try box.store().credential(for: "quay.io") == RegistryCredential(username: "q", password: "qpw"))
        #expect(try box.store().store(RegistryCredential(username: "g", password: "gpw"), for: "ghcr.io") == box.root + "/auth.json")
        #expect(try box.configObject(box.root + "/auth.json")["auths"].flatMap { $0 as? [String: Any] }?.keys.sorted() == ["ghcr.io", "quay.io"])
    }

    // MARK: Registry keys

    @Test(arguments: ["docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/", "https://registry-1.docker.io/v2/", "Docker.IO"])
    func dockerHubAliases(asked: String) throws {
        let box = try Sandbox()
        try box.writeConfig(#"{"auths": {"https://index.docker.io/v1/": {"auth": "\#(Self.auth("hub", "pw"))"}}}"#)
        #expect(try box.store().credential(for: asked) == RegistryCredential(username: "hub", password: "pw"))
    }

    @Test(arguments: ["docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"])
    func dockerHubAliasesAsConfigKeys(key: String) throws {
        let box = try Sandbox()
        try box.writeConfig(#"{"auths": {"\#(key)": {"auth": "\#(Self.auth("hub", "pw"))"}}}"#)
        #expect(try box.store().credential(for: "docker.io") == RegistryCredential(username: "hub", password: "pw"))
        #expect(try box.store().credential(for: "ghcr.io") == nil)
    }

    @Test(arguments: [
        ("https://ghcr.io", "ghcr.io"),
        ("ghcr.io/", "ghcr.io"),
        ("http://localhost:5000/v2/", "localhost:5000"),
        ("localhost:5000", "https://localhost:5000"),
        ("HTTPS://Quay.IO/v1/", "quay.io"),
        ("[::1]:5000", "[::1]:5000"),
    ])
    func keySpellingsMatch(key: String, asked: String) throws {
        let box = try Sandbox()
        try box.writeConfig(#"{"auths": {"\#(key)": {"auth": "\#(Self.auth("u", "pw"))"}}}"#)
        #expect(try box.store().credential(for: asked) == RegistryCredential(username: "u", password: "pw"))
    }

    @Test func portsAreDifferentRegistries() throws {
        let box = try Sandbox()
        try box.writeConfig(#"{"auths": {"localhost:5000": {"auth": "\#(Self.auth("a", "1"))"}, "localhost": {"auth": "\#(Self.auth("b", "2"))"}}}"#)
        #expect(try box.store().credential(for: "localhost:5000")?.username == "a")
        #expect(try box.store().credential(for: "localhost")?.username == "b")
        #expect(try box.store().credential(for: "localhost:5001") == nil)
    }

    @Test func theExactKeyWinsOverOtherSpellings() throws {
        let box = try Sandbox()
        try box.writeConfig(#"{"auths": {"https://ghcr.io": {"auth": "\#(Self.auth("old", "1"))"}, "ghcr.io": {"auth": "\#(Self.auth("new", "2"))"}}}"#)
        #expect(try box.store().credential(for: "ghcr.io")?.username == "new")
    }

    @Test func emptyRegistryNameIsAnError() throws {
        let box = try Sandbox()
        #expect(Self.credentialError { _ = try box.store().credential(for: " https:// ") } == .invalidRegistry(" https:// "))
    }

    // MARK: auths entries

    @Test func authDecodesPasswordsWithColons() throws {
        let box = try Sandbox()
        let unpadded = Self.auth("u2", "p").replacingOccurrences(of: "=", with: "")
        try box.writeConfig(#"""
        {"auths": {
          "a.example": {"auth": "\#(Self.auth("user", "pa:ss:word"))"},
          "b.example": {"auth": "\#(Self.auth("ünï", "pässwörd ✓"))"},
          "c.example": {"auth": "\#(unpadded)"},
          "d.example": {"username": "plain", "password": "fields"},
          "e.example": {"auth": "\#(Self.auth("x", ""))", "email": "x@example.com"},
          "f.example": {}
        }}
        """#)
        let s = box.store()
        #expect(try s.credential(for: "a.example") == RegistryCredential(username: "user", password: "pa:ss:word"))
        #expect(try s.credential(for: "b.example") == RegistryCredential(username: "ünï", password: "pässwörd ✓"))
        #expect(try s.credential(for: "c.example") == RegistryCredential(username: "u2", password: "p"))
        #expect(try s.credential(for: "d.example") == RegistryCredential(username: "plain", password: "fields"))
        #expect(try s.credential(for: "e.example") == RegistryCredential(username: "x", password: ""))
        // docker's marker entry for a login kept by a helper holds nothing.
        #expect(try s.credential(for: "f.example") == nil)
    }

    @Test func identityTokens() throws {
        let box = try Sandbox()
        try box.writeConfig(#"""
        {"auths": {
          "https://index.docker.io/v1/": {"auth": "\#(Self.auth("hubuser", ""))", "identitytoken": "refresh-123"},
          "tok.example": {"identitytoken": "refresh-456"}
        }}
        """#)
        let hub = try #require(try box.store().credential(for: "docker.io"))
        #expect(hub == RegistryCredential(username: "hubuser", password: "refresh-123", identityToken: "refresh-123"))
        #expect(hub.isIdentityToken)
        let bare = try #require(try box.store().credential(for: "tok.example"))
        #expect(bare == RegistryCredential(identityToken: "refresh-456"))
        #expect(bare.username == "<token>")
    }

    @Test(arguments: [
        (#""auth": "%%%not base64%%%""#, "not valid base64"),
        (#""auth": "bm9jb2xvbg==""#, "no ':'"),        // "nocolon"
        (#""auth": "/w==""#, "UTF-8"),                  // 0xFF
        (#""auth": 42"#, "is a number, not a string"),
        (#""identitytoken": true"#, "is a boolean"),
    ])
    func malformedAuthEntries(field: String, expected: String) throws {
        let box = try Sandbox()
        try box.writeConfig(#"{"auths": {"ghcr.io": {\#(field)}}}"#)
        let error = try #require(Self.credentialError { _ = try box.store().credential(for: "ghcr.io") })
        guard case let .malformedAuthEntry(path, registry, _) = error else {
            Issue.record("expected malformedAuthEntry, got \(error)")
            return
        }
        #expect(path == box.configPath)
        #expect(registry == "ghcr.io")
        #expect(error.description.contains(expected))
        #expect(error.description.contains("log in to ghcr.io again"))
        #expect(!error.description.contains("bm9jb2xvbg"))
        #expect(!error.description.contains("nocolon"))
    }

    @Test func anEntryThatIsNotAnObjectIsReported() throws {
        let box = try Sandbox()
        try box.writeConfig(#"{"auths": {"ghcr.io": "dXNlcjpwYXNz"}}"#)
        let error = try #require(Self.credentialError { _ = try box.store().credential(for: "ghcr.io") })
        #expect(error == .malformedAuthEntry(path: box.configPath, registry: "ghcr.io", reason: "its entry is a string, not an object"))
        #expect(!error.description.contains("dXNlcjpwYXNz"))
    }

    // MARK: Malformed config.json

    @Test(arguments: [
        ("{\n  \"auths\": {\n    \"ghcr.io\": {},\n  }\n}", "trailing comma before '}' at line 4, column 3"),
        ("{\"auths\": {}", "the object opened at line 1, column 1 is not closed"),
        ("{\"auths\": tru}", "invalid literal (expected 'true') at line 1, column 11"),
        ("{\"auths\": {}} x", "unexpected character 'x' after the end of the JSON value at line 1, column 15"),
        ("{\"a\": \"b\n\"}", "a string is not closed before the end of the line at line 1, column 9"),
        ("[]", "its top level is an array"),
        ("\"just a string\"", "its top level is a string"),
        ("{\"auths\": []}", "\"auths\" is an array, but it must be an object"),
        ("{\"credsStore\": 7}", "\"credsStore\" is a number, but it must be a string"),
        ("{\"credHelpers\": {\"ghcr.io\": false}}", "credHelpers[\"ghcr.io\"] is a boolean"),
        ("{\"auths\": {\"x\": 01}}", "leading zero"),
    ])
    func malformedConfigIsReportedWithItsPosition(text: String, expected: String) throws {
        let box = try Sandbox()
        try box.writeConfig(text)
        let error = try #require(Self.credentialError { _ = try box.store().credential(for: "ghcr.io") })
        guard case let .malformedConfig(path, reason) = error else {
            Issue.record("expected malformedConfig, got \(error)")
            return
        }
        #expect(path == box.configPath)
        #expect(reason.contains(expected), "\(reason)")
        #expect(error.description.contains(box.configPath))
        #expect(error.description.contains("fix the file, or remove it"))
    }

    @Test func configThatIsNotUTF8IsReported() throws {
        let box = try Sandbox()
        try box.writeConfig("")
        try Data([0x7B, 0x0A, 0x22, 0x61, 0xFF, 0x22, 0x3A, 0x31, 0x7D]).write(to: URL(fileURLWithPath: box.configPath))
        let error = try #require(Self.credentialError { _ = try box.store().credential(for: "ghcr.io") })
        #expect(error == .malformedConfig(path: box.configPath, reason: "it is not UTF-8 text (an invalid byte at line 2, column 3)"))
    }

    @Test func emptyConfigAndByteOrderMarkAreAccepted() throws {
        let box = try Sandbox()
        try box.writeConfig("  \n")
        #expect(try box.store().credential(for: "ghcr.io") == nil)
        try box.writeConfig("\u{FEFF}{\"auths\": {\"ghcr.io\": {\"auth\": \"\(Self.auth("u", "p"))\"}}}")
        #expect(try box.store().credential(for: "ghcr.io") == RegistryCredential(username: "u", password: "p"))
    }

    @Test func aDirectoryInPlaceOfTheConfigIsReported() throws {
        let box = try Sandbox()
        try FileManager.default.createDirectory(atPath: box.configPath, withIntermediateDirectories: true)
        let error = try #require(Self.credentialError { _ = try box.store().credential(for: "ghcr.io") })
        #expect(error == .unreadableConfig(path: box.configPath, reason: "it is a directory, not a file"))
    }

    @Test func deeplyNestedJSONDoesNotCrash() throws {
        let box = try Sandbox()
        try box.writeConfig("{\"x\": " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}")
        let error = try #require(Self.credentialError { _ = try box.store().credential(for: "ghcr.io") })
        #expect(error.description.contains("nested more than"))
    }

    // MARK: store (login) into config.json

    @Test func storeKeepsEverythingElseInConfig() throws {
        let box = try Sandbox()
        let original = #"""
        {
        	"psFormat": "table {{.ID}}\t{{.Names}}",
        	"auths": {
        		"quay.io": {
        			"auth": "\#(Self.auth("q", "q-pw"))",
        			"email": "q@example.com"
        		},
        		"https://index.docker.io/v1/": {
        			"auth": "\#(Self.auth("old", "old-pw"))",
        			"email": "hub@example.com"
        		}
        	},
        	"proxies": {"default": {"httpProxy": "http://proxy:3128", "noProxy": "*.local,127.0.0.0/8"}},
        	"features": {"buildkit": true, "containerd-snapshotter": false},
        	"plugins": null,
        	"numbers": [1.50, 1e3, -0, 12345678901234567890],
        	"text": "é \u00e9 \ud83d\ude00 \"quoted\" back\\slash /slash",
        	"experimental": "enabled"
        }
        """#
        try box.writeConfig(original, mode: 0o644)
        let before = try box.configObject()

        let place = try box.store().store(RegistryCredential(username: "new", password: "n:e:w"), for: "index.docker.io")
        #expect(place == box.configPath)

        let text = try box.readConfig()
        let after = try box.configObject()
        // Every other key is as it was, including numbers as written and member order.
        for key in ["psFormat", "proxies", "features", "plugins", "numbers", "text", "experimental"] {
            #expect(try Self.canonical(after[key]) == Self.canonical(before[key]), "\(key)")
        }
        #expect(text.contains("[\n\t\t1.50,\n\t\t1e3,\n\t\t-0,\n\t\t12345678901234567890\n\t]"))
        let order = ["psFormat", "auths", "proxies", "features", "plugins", "numbers", "text", "experimental"].map { text.range(of: "\"\($0)\"")!.lowerBound }
        #expect(order == order.sorted())
        #expect(!text.contains("\\/"))

        let auths = try #require(after["auths"] as? [String: [String: String]])
        #expect(auths["quay.io"] == ["auth": Self.auth("q", "q-pw"), "email": "q@example.com"])
        // Docker Hub is written under its URL, the password replaced, the email kept.
        #expect(auths["https://index.docker.io/v1/"] == ["auth": Self.auth("new", "n:e:w"), "email": "hub@example.com"])
        #expect(auths.count == 2)

        #expect(try box.mode(box.configPath) == 0o600)
        #expect(try box.leftovers().isEmpty)
        #expect(try box.store().credential(for: "docker.io") == RegistryCredential(username: "new", password: "n:e:w"))
        #expect(try box.store().credential(for: "quay.io") == RegistryCredential(username: "q", password: "q-pw"))
    }

    @Test func storeCreatesPrivateDirectoryAndFile() throws {
        let box = try Sandbox()
        box.extra["DOCKER_CONFIG"] = box.root + "/new/docker"
        let store = box.store()
        #expect(try store.store(RegistryCredential(username: "u", password: "p"), for: "localhost:5000") == box.root + "/new/docker/config.json")
        #expect(try box.mode(box.root + "/new/docker") == 0o700)
        #expect(try box.mode(box.root + "/new/docker/config.json") == 0o600)
        let text = try box.readConfig(box.root + "/new/docker/config.json")
        #expect(text == "{\n\t\"auths\": {\n\t\t\"localhost:5000\": {\n\t\t\t\"auth\": \"\(Self.auth("u", "p"))\"\n\t\t}\n\t}\n}\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: box.root + "/new/docker") == ["config.json"])
    }

    @Test func storeWritesOtherRegistriesAsBareHosts() throws {
        let box = try Sandbox()
        let s = box.store()
        try s.store(RegistryCredential(username: "a", password: "1"), for: "https://ghcr.io/v2/")
        try s.store(RegistryCredential(username: "b", password: "2"), for: "registry-1.docker.io")
        let auths = try #require(try box.configObject()["auths"] as? [String: Any])
        #expect(auths.keys.sorted() == ["ghcr.io", "https://index.docker.io/v1/"])
    }

    @Test func storeOverAnOldSpellingLeavesItAndReadsTheNewOne() throws {
        let box = try Sandbox()
        try box.writeConfig(#"{"auths": {"https://ghcr.io": {"auth": "\#(Self.auth("old", "1"))"}}}"#)
        try box.store().store(RegistryCredential(username: "new", password: "2"), for: "ghcr.io")
        #expect(try box.store().credential(for: "ghcr.io")?.username == "new")
        // logout removes both spellings.
        #expect(try box.store().remove(for: "ghcr.io"))
        #expect(try box.store().credential(for: "ghcr.io") == nil)
    }

    @Test func storeRoundTripsIdentityTokens() throws {
        let box = try Sandbox()
        let s = box.store()
        let withUser = RegistryCredential(username: "hubuser", password: "tok-1", identityToken: "tok-1")
        try s.store(withUser, for: "docker.io")
        #expect(try s.credential(for: "docker.io") == withUser)
        let entry = try #require((try box.configObject()["auths"] as? [String: [String: String]])?["https://index.docker.io/v1/"])
        #expect(entry == ["auth": Self.auth("hubuser", ""), "identitytoken": "tok-1"])

        let bare = RegistryCredential(identityToken: "tok-2")
        try s.store(bare, for: "tok.example")
        #expect(try s.credential(for: "tok.example") == bare)
        #expect((try box.configObject()["auths"] as? [String: [String: String]])?["tok.example"] == ["identitytoken": "tok-2"])
    }

    @Test func storeFollowsASymlinkedConfig() throws {
        let box = try Sandbox()
        let real = box.root + "/dotfiles/docker-config.json"
        try FileManager.default.createDirectory(atPath: box.root + "/dotfiles", withIntermediateDirectories: true)
        try Data(#"{"credsStore": ""}"#.utf8).write(to: URL(fileURLWithPath: real))
        try FileManager.default.createDirectory(atPath: box.dockerDir, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: box.configPath, withDestinationPath: "../../dotfiles/docker-config.json")

        try box.store().store(RegistryCredential(username: "u", password: "p"), for: "ghcr.io")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: box.configPath) == "../../dotfiles/docker-config.json")
        #expect(try box.readConfig(real).contains(Self.auth("u", "p")))
        #expect(try box.mode(real) == 0o600)
        #expect(try box.store().credential(for: "ghcr.io") == RegistryCredential(username: "u", password: "p"))
    }

    @Test func storeNeverOverwritesAMalformedConfig() throws {
        let box = try Sandbox()
        let broken = "{\"auths\": {\"quay.io\": {\"auth\": \"\(Self.auth("keep", "me"))\"}}, oops}"
        try box.writeConfig(broken, mode: 0o644)
        let error = try #require(Self.credentialError {
            _ = try box.store().store(RegistryCredential(username: "u", password: "secret-value"), for: "ghcr.io")
        })
        guard case .malformedConfig = error else {
            Issue.record("expected malformedConfig, got \(error)")
            return
        }
        #expect(!error.description.contains("secret-value"))
        #expect(try box.readConfig() == broken)
        #expect(try box.mode(box.configPath) == 0o644)
        #expect(try box.leftovers().isEmpty)
    }

    @Test func storeWhereTheDirectoryCannotBeMadeIsReported() throws {
        let box = try Sandbox()
        // A path under a regular file cannot be created, even by root.
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: box.root + "/file"))
        box.extra["DOCKER_CONFIG"] = box.root + "/file/docker"
        let error = try #require(Self.credentialError {
            _ = try box.store().store(RegistryCredential(username: "u", password: "secret-value"), for: "ghcr.io")
        })
        guard case let .unwritableConfig(path, reason) = error else {
            Issue.record("expected unwritableConfig, got \(error)")
            return
        }
        #expect(path == box.root + "/file/docker/config.json")
        #expect(reason.contains("Not a directory"))
        #expect(!error.description.contains("secret-value"))
    }

    @Test func repeatedStoresAreAtomicReplacements() throws {
        let box = try Sandbox()
        try box.writeConfig(#"{"auths": {}}"#)
        let s = box.store()
        for i in 0..<20 {
            try s.store(RegistryCredential(username: "u\(i)", password: "p\(i)"), for: "r\(i % 3).example")
        }
        #expect(try box.leftovers().isEmpty)
        #expect(try box.mode(box.configPath) == 0o600)
        #expect(try s.credential(for: "r1.example") == RegistryCredential(username: "u19", password: "p19"))
        #expect((try box.configObject()["auths"] as? [String: Any])?.count == 3)
    }

    // MARK: remove (logout)

    @Test func removeDeletesEverySpellingAndKeepsTheRest() throws {
        let box = try Sandbox()
        try box.writeConfig(#"""
        {"auths": {
          "docker.io": {"auth": "\#(Self.auth("a", "1"))"},
          "https://index.docker.io/v1/": {"auth": "\#(Self.auth("b", "2"))"},
          "ghcr.io": {"auth": "\#(Self.auth("c", "3"))"}
        }, "currentContext": "default"}
        """#, mode: 0o644)
        #expect(try box.store().remove(for: "registry-1.docker.io"))
        let after = try box.configObject()
        #expect((after["auths"] as? [String: Any])?.keys.sorted() == ["ghcr.io"])
        #expect(after["currentContext"] as? String == "default")
        #expect(try box.mode(box.configPath) == 0o600)
        #expect(try box.leftovers().isEmpty)
        #expect(try box.store().credential(for: "docker.io") == nil)
        #expect(try box.store().remove(for: "docker.io") == false)
    }

    @Test func removeWithoutAConfigChangesNothing() throws {
        let box = try Sandbox()
        #expect(try box.store().remove(for: "ghcr.io") == false)
        #expect(!FileManager.default.fileExists(atPath: box.dockerDir))
    }

    // MARK: Credential helpers

    @Test func credHelpersStoreGetListErase() throws {
        let box = try Sandbox()
        try box.installHelper()
        // A plaintext password from before the helper was configured.
        try box.writeConfig(#"{"credHelpers": {"https://ghcr.io": "stackship-test"}, "auths": {"ghcr.io": {"auth": "\#(Self.auth("old", "old-pw"))", "email": "me@example.com"}, "quay.io": {"auth": "\#(Self.auth("q", "q"))"}}}"#)
        let s = box.store()
        let place = try s.store(RegistryCredential(username: "me", password: "ghp_s3cr3t:x"), for: "ghcr.io")
        #expect(place == "credential helper docker-credential-stackship-test")
        #expect(try box.helperStore().contains(#""ghcr.io": {"Username": "me", "Secret": "ghp_s3cr3t:x"}"#))
        // The old password left config.json; the rest of the entry and file stayed.
        let config = try box.readConfig()
        #expect(!config.contains(Self.auth("old", "old-pw")))
        #expect(!config.contains("ghp_s3cr3t"))
        #expect(config.contains("me@example.com"))
        #expect(config.contains(Self.auth("q", "q")))

        let resolved = try #require(try s.resolve(for: "ghcr.io"))
        #expect(resolved.credential == RegistryCredential(username: "me", password: "ghp_s3cr3t:x"))
        #expect(resolved.source == .helper("docker-credential-stackship-test"))
        // quay.io has no helper entry: config.json.
        #expect(try s.resolve(for: "quay.io")?.source == .configFile(box.configPath))

        #expect(try s.remove(for: "ghcr.io"))
        #expect(try !box.helperStore().contains("ghcr.io"))
        #expect(try s.credential(for: "ghcr.io") == nil)
        #expect(try s.remove(for: "ghcr.io") == false)
        #expect(try box.helperCalls().prefix(2) == ["docker-credential-stackship-test store ghcr.io", "docker-credential-stackship-test get ghcr.io"])
    }

    @Test func credsStoreKeepsDockerHubUnderItsURL() throws {
        let box = try Sandbox()
        try box.installHelper()
        try box.writeConfig(#"{"credsStore": "stackship-test"}"#)
        let s = box.store()
        let token = RegistryCredential(username: "hubuser", password: "idt", identityToken: "idt")
        #expect(try s.store(RegistryCredential(username: "hubuser", password: "dckr_pat_1"), for: "docker.io") == "credential helper docker-credential-stackship-test")
        #expect(try s.store(token, for: "localhost:5000") == "credential helper docker-credential-stackship-test")
        let stored = try box.helperStore()
        #expect(stored.contains(#""https://index.docker.io/v1/": {"Username": "hubuser", "Secret": "dckr_pat_1"}"#))
        // An identity token goes to the helper as user <token>, as docker sends it.
        #expect(stored.contains(#""localhost:5000": {"Username": "<token>", "Secret": "idt"}"#))
        // config.json was not rewritten: it never held a secret.
        #expect(try box.readConfig() == #"{"credsStore": "stackship-test"}"#)

        #expect(try s.credential(for: "index.docker.io") == RegistryCredential(username: "hubuser", password: "dckr_pat_1"))
        #expect(try s.credential(for: "localhost:5000") == RegistryCredential(identityToken: "idt"))
        #expect(try box.helperCalls().contains("docker-credential-stackship-test get https://index.docker.io/v1/"))
        // Not in the helper: it answers "credentials not found", which means none.
        #expect(try s.credential(for: "quay.io") == nil)
    }

    @Test func credsStoreFindsAnotherSpellingThroughList() throws {
        let box = try Sandbox()
        try box.installHelper()
        try box.seedHelper([("https://ghcr.io", "other-tool", "pw")])
        try box.writeConfig(#"{"credsStore": "stackship-test"}"#)
        #expect(try box.store().credential(for: "ghcr.io") == RegistryCredential(username: "other-tool", password: "pw"))
        #expect(try box.store().remove(for: "ghcr.io"))
        #expect(try !box.helperStore().contains("ghcr.io"))
        let calls = try box.helperCalls()
        #expect(calls.contains("docker-credential-stackship-test list "))
        #expect(calls.contains("docker-credential-stackship-test erase https://ghcr.io"))
    }

    @Test func helperFailureNeverShowsTheSecret() throws {
        let box = try Sandbox()
        try box.installHelper()
        try box.writeConfig(#"{"credsStore": "stackship-test"}"#)
        box.extra["STACKSHIP_TEST_HELPER_MODE"] = "fail"
        let secret = "hunter2-\"quoted\"-\\slash"
        let error = try #require(Self.credentialError {
            _ = try box.store().store(RegistryCredential(username: "me", password: secret), for: "ghcr.io")
        })
        guard case let .helperFailed(helper, action, registry, status, message) = error else {
            Issue.record("expected helperFailed, got \(error)")
            return
        }
        #expect(helper == "docker-credential-stackship-test")
        #expect(action == "store")
        #expect(registry == "ghcr.io")
        #expect(status == 3)
        #expect(message.contains("keychain locked"))
        #expect(message.contains("<redacted>"))
        for text in [error.description, String(reflecting: error), "\(error)", error.localizedDescription] {
            #expect(!text.contains("hunter2"))
            #expect(!text.contains(Self.auth("me", secret)))
        }
        // config.json was not touched.
        #expect(try box.readConfig() == #"{"credsStore": "stackship-test"}"#)
    }

    @Test func helperThatEchoesTheSecretWhileFailingGetIsRedacted() throws {
        let box = try Sandbox()
        try box.installHelper()
        try box.seedHelper([("ghcr.io", "me", "tok-secret-42")])
        try box.writeConfig(#"{"credHelpers": {"ghcr.io": "stackship-test"}}"#)
        box.extra["STACKSHIP_TEST_HELPER_MODE"] = "failget"
        let error = try #require(Self.credentialError { _ = try box.store().credential(for: "ghcr.io") })
        #expect(error.description.contains("could not verify the secret <redacted>"))
        #expect(!error.description.contains("tok-secret-42"))
        #expect(error.description.contains("exit status 4"))
    }

    @Test func helperLogoutFailureLeavesConfigAsItWas() throws {
        let box = try Sandbox()
        try box.installHelper()
        let config = #"{"credsStore": "stackship-test", "auths": {"ghcr.io": {"auth": "\#(Self.auth("u", "p"))"}}}"#
        try box.writeConfig(config)
        box.extra["STACKSHIP_TEST_HELPER_MODE"] = "fail"
        #expect(Self.credentialError { _ = try box.store().remove(for: "ghcr.io") } != nil)
        #expect(try box.readConfig() == config)
    }

    @Test func helperWithUnusableOutput() throws {
        let box = try Sandbox()
        try box.installHelper()
        try box.writeConfig(#"{"credsStore": "stackship-test"}"#)
        box.extra["STACKSHIP_TEST_HELPER_MODE"] = "garbage"
        let error = try #require(Self.credentialError { _ = try box.store().credential(for: "ghcr.io") })
        guard case let .helperBadOutput(helper, action, _, _) = error else {
            Issue.record("expected helperBadOutput, got \(error)")
            return
        }
        #expect(helper == "docker-credential-stackship-test")
        #expect(action == "get")
        #expect(!error.description.contains("this is not JSON"))
    }

    @Test func helperThatHangsIsKilledAfterTheTimeout() throws {
        let box = try Sandbox()
        try box.installHelper()
        try box.writeConfig(#"{"credsStore": "stackship-test"}"#)
        box.extra["STACKSHIP_TEST_HELPER_MODE"] = "hang"
        let start = ContinuousClock.now
        let error = Self.credentialError { _ = try box.store(timeout: .milliseconds(500)).credential(for: "ghcr.io") }
        #expect(error == .helperTimedOut(helper: "docker-credential-stackship-test", action: "get", registry: "ghcr.io", seconds: 0.5))
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(error?.description.contains("within 0.5 seconds") == true)
    }

    @Test func missingHelperSaysWhatToInstallOrRemove() throws {
        let box = try Sandbox()
        try box.writeConfig(#"{"credsStore": "desktop", "credHelpers": {"123.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"}}"#)
        let storeError = try #require(Self.credentialError { _ = try box.store().credential(for: "ghcr.io") })
        #expect(storeError == .helperNotFound(helper: "docker-credential-desktop", entry: "credsStore", configPath: box.configPath, searchPath: box.bin + ":/usr/bin:/bin"))
        #expect(storeError.description.contains("install docker-credential-desktop, or remove the credsStore entry from \(box.configPath)"))

        let ecrError = try #require(Self.credentialError { _ = try box.store().credential(for: "123.dkr.ecr.us-east-1.amazonaws.com") })
        #expect(ecrError.description.contains("docker-credential-ecr-login"))
        #expect(ecrError.description.contains(#"credHelpers["123.dkr.ecr.us-east-1.amazonaws.com"]"#))
        #expect(ecrError.description.contains("install"))
        #expect(ecrError.description.contains("remove"))
        // Storing must not fall back to writing the password into config.json.
        #expect(Self.credentialError { _ = try box.store().store(RegistryCredential(username: "u", password: "p"), for: "ghcr.io") } != nil)
        #expect(try !box.readConfig().contains("auths"))
    }

    @Test func helperNamesArePlainNames() throws {
        let box = try Sandbox()
        try box.writeConfig(#"{"credsStore": "../../tmp/evil"}"#)
        let error = try #require(Self.credentialError { _ = try box.store().credential(for: "ghcr.io") })
        #expect(error == .invalidHelperName(name: "../../tmp/evil", entry: "credsStore", configPath: box.configPath))
    }

    @Test func aNonExecutableHelperIsNotUsed() throws {
        let box = try Sandbox()
        let path = try TestCredentialHelper.install(in: box.bin)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        try box.writeConfig(#"{"credsStore": "stackship-test"}"#)
        guard case .helperNotFound? = Self.credentialError({ _ = try box.store().credential(for: "ghcr.io") }) else {
            Issue.record("expected helperNotFound")
            return
        }
    }

    // MARK: Secrets in descriptions

    @Test func descriptionsNeverShowSecrets() throws {
        let credential = RegistryCredential(username: "alice", password: "pa55-SECRET", identityToken: "IDTOKEN-SECRET")
        var dumped = ""
        dump(credential, to: &dumped)
        let texts = [
            credential.description, credential.debugDescription, String(reflecting: credential), String(describing: credential),
            "\(credential)", "\([credential])", "\(Optional(credential) as Any)", dumped,
        ]
        for text in texts {
            #expect(!text.contains("SECRET"), "\(text)")
        }
        #expect(credential.description.contains("alice"))

        let store = CredentialStore(environment: ["HOME": "/nonexistent", CredentialStore.passwordVariable: "ENV-SECRET"], explicit: credential)
        var storeDump = ""
        dump(store, to: &storeDump)
        for text in [store.description, String(reflecting: store), "\(store)", storeDump] {
            #expect(!text.contains("SECRET"), "\(text)")
        }
    }

    @Test func parsingTheCredsFlag() throws {
        #expect(try RegistryCredential(parsingCreds: "user:pa:ss") == RegistryCredential(username: "user", password: "pa:ss"))
        for bad in ["no-colon-SECRET", ":SECRET", "user:"] {
            let error = try #require(Self.credentialError { _ = try RegistryCredential(parsingCreds: bad) })
            #expect(!error.description.contains("SECRET"))
            #expect(error.description.contains("USER:PASSWORD"))
        }
    }

    @Test func redactionCoversQuotedForms() {
        let text = #"request {"Secret":"a\"b"} and a"b and "#
        let out = CredentialError.redact(text, secrets: ["a\"b", ""])
        #expect(!out.contains("a\"b"))
        #expect(!out.contains(#"a\"b"#))
        #expect(CredentialError.redact("bell\u{07}\u{1B}[31m", secrets: []) == "bell??[31m")
    }

    // MARK: The JSON reader and writer

    @Test func configJSONKeepsOrderNumbersAndText() throws {
        let text = #"{"b": 1.50, "a": [true, false, null, -0.0e+5], "s": "\u00e9\ud83d\ude00\n\t\"\\/\u0001", "e": {}, "l": []}"#
        let value = try ConfigJSON.parse(Array(text.utf8))
        #expect(value.serialized(pretty: false) == #"{"b":1.50,"a":[true,false,null,-0.0e+5],"s":"é😀\n\t\"\\/\u0001","e":{},"l":[]}"#)
        #expect(try ConfigJSON.parse(Array(value.serialized(pretty: true).utf8)) == value)
        // A lone surrogate becomes U+FFFD rather than failing, as in Go.
        #expect(try ConfigJSON.parse(Array(#""\ud800x""#.utf8)) == .string("\u{FFFD}x"))
    }
}
