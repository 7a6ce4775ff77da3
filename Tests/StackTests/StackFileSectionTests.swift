import Foundation
import OCI
import Pipelines
import Testing
@testable import Stack

/// `ci:` and `aws:` read by the one stack file reader, reading only some sections, and the
/// plan input built from a stack file.
@Suite("stack.yaml: ci and aws sections")
struct StackFileSectionTests {
    static let ciExample = """
        images:
          web: {}
          docs: {}
        ci:
          name: demo
          registry: 123456789012.dkr.ecr.eu-west-1.amazonaws.com
          gitlab_max_needs: 20
          install_command: curl -fsS https://example.com/install.sh | sh
          publish: [web]
        """

    @Test func ciValuesAreRead() throws {
        try withStackDir { dir in
            let stack = try dir.parse(Self.ciExample)
            #expect(stack.ci.name == "demo")
            #expect(stack.ci.registry == "123456789012.dkr.ecr.eu-west-1.amazonaws.com")
            #expect(stack.ci.gitlabMaxNeeds == 20)
            #expect(stack.ci.installCommand == "curl -fsS https://example.com/install.sh | sh")
            #expect(stack.ci.publish == ["web"])
            #expect(stack.ci.cacheURL == nil && stack.ci.codebuildMaxBuildsPerBatch == nil, "absent keys stay nil (the pipeline's defaults)")
            #expect(try dir.parse("images: {a: {}}\nci:\n").ci == CISettings(), "an empty section is every default")
        }
    }

    @Test func ciMistakesAreNamedAtTheirPlace() throws {
        try withStackDir { dir in
            check(dir.error("images: {a: {}}\nci:\n  registy: x\n"), line: 3, column: 3,
                  message: "unknown key 'registy' in ci", hint: "did you mean 'registry'?")
            check(dir.error("images: {a: {}}\nci:\n  gitlab_max_needs: lots\n"), line: 3, column: 21,
                  message: "`ci.gitlab_max_needs` must be a whole number of at least 1, found 'lots'", hint: "gitlab_max_needs: 50")
            check(dir.error("images: {a: {}}\nci:\n  gitlab_max_needs: 0\n"), line: 3, column: 21, message: "must be a whole number of at least 1")
            check(dir.error("images: {a: {}}\nci:\n  registry: \"\"\n"), line: 3, column: 13, message: "`ci.registry` is empty")
            check(dir.error("images: {a: {}}\nci:\n  registry: [a]\n"), line: 3, column: 13, message: "`ci.registry` must be a string, found a list")
            check(dir.error("images: {a: {}}\nci: [registry]\n"), line: 2, column: 5, message: "`ci` must be a mapping of settings, found a list")
            check(dir.error("images: {web: {}, docs: {}}\nci:\n  publish: [docs, wbe]\n"), line: 3, column: 19,
                  message: "unknown image 'wbe' in `ci.publish`", hint: "did you mean 'web'?")
            check(dir.error("images: {web: {}}\nci:\n  publish: web\n"), line: 3, column: 12,
                  message: "`ci.publish` must be a list of image names, found a string", hint: "publish: [web]")
        }
    }

    /// A signing key pasted where its secret's name belongs is refused at its place, and the
    /// message never shows it.
    @Test func aSigningKeyGivenAsItsSecretNameIsNotEchoed() throws {
        try withStackDir { dir in
            let key = "MC4CAQAwBQYDK2VwBCIEIPrivateKeyMaterial0123456789abcdefXYZ"
            let error = dir.error("images: {a: {}}\nci:\n  signing_key_secret: \"-----BEGIN PRIVATE KEY----- \(key)\"\n")
            check(error, line: 3, column: 23, message: "`ci.signing_key_secret` must name the CI secret", hint: "signing_key_secret: STACKSHIP_SIGNING_KEY")
            #expect(!"\(String(describing: error))".contains(key) && !"\(String(describing: error))".contains("BEGIN"), "\(String(describing: error))")
            let named = try dir.parse("images: {a: {}}\nci:\n  signing_key_secret: RELEASE_KEY_2\n")
            #expect(named.ci.signingKeySecret == "RELEASE_KEY_2")
        }
    }

    @Test func mergeKeysWorkInCI() throws {
        try withStackDir { dir in
            let stack = try dir.parse("x-ci: &ci {registry: r.example, aws_region: eu-west-1}\nimages: {a: {}}\nci:\n  <<: *ci\n  aws_region: us-east-2\n")
            #expect(stack.ci.registry == "r.example")
            #expect(stack.ci.awsRegion == "us-east-2")
        }
    }

    @Test func readingOnlyAWSSkipsTheBuildSections() throws {
        try withStackDir { dir in
            // The layer source is not built yet: a build fails, a deploy reads on.
            let yaml = "images:\n  app:\n    layers: [{source: ./build/app, destination: /app}]\naws:\n  project: hello\n  registry: {github_repository: a/b}\n"
            check(dir.error(yaml), line: 3, column: 23, message: "layer source './build/app' does not exist")
            let stack = try StackFile.parse(yaml: yaml, path: "stack.yaml", directory: dir.path, sections: .aws)
            #expect(try stack.awsSettings().project == "hello")
            #expect(stack.images.isEmpty)
            // The YAML and the top-level keys are always checked.
            let typo = #expect(throws: StackFileError.self) {
                try StackFile.parse(yaml: "aws: {project: hello}\nimagse: {}\n", path: "stack.yaml", directory: dir.path, sections: .aws)
            }
            check(typo, line: 2, column: 1, message: "unknown key 'imagse' at the top level", hint: "did you mean 'images'?")
            let empty = #expect(throws: StackFileError.self) {
                try StackFile.parse(yaml: "", path: "stack.yaml", directory: dir.path, sections: .aws)
            }
            check(empty, line: 1, column: 1, message: "the stack file is empty", hint: "`aws:` section")
        }
    }

    @Test func aBuildReadsTheAWSSectionToo() throws {
        try withStackDir { dir in
            check(dir.error("images: {a: {}}\naws:\n  project: hello\n  registry: {github_repo: a/b}\n"), line: 4, column: 14,
                  message: "unknown key 'github_repo' in aws.registry", hint: "did you mean 'github_repository'?")
        }
    }

    @Test func thePlanInputComesFromTheStackFile() async throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("plan-input-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        let stack = try StackFile.parse(yaml: Self.ciExample, path: "stack.yaml", directory: url.path)
        let store = try OCILayoutStore(root: url.path + "/store", create: true)
        let result = try await StackPlanning(stack: stack, store: store).planInput(cache: nil, since: nil)
        #expect(result.input.stackName == "demo")
        #expect(result.input.stackFile == "stack.yaml")
        #expect(result.input.images.map(\.name) == ["web", "docs"])
        #expect(result.input.images.map(\.publishTags) == [["web:latest"], []], "ci.publish: [web] publishes web only")
        #expect(result.input.settings.registry == "123456789012.dkr.ecr.eu-west-1.amazonaws.com")
        #expect(result.input.settings.gitlabMaxNeeds == 20)
        #expect(result.input.settings.installCommand == "curl -fsS https://example.com/install.sh | sh")
        #expect(result.input.settings.cacheURL == nil, "an absent key is absent: nothing is invented")
        #expect(result.notes.isEmpty)
    }
}

/// The batch buildspecs and the CodeBuild CI project agree.
@Suite("stack.yaml: ci: and aws.ci_build agree")
struct CIAndCodeBuildAgreementTests {
    static let project = """
        images: {a: {}}
        aws:
          project: hello
          ci_build:
            source: {type: GITHUB, location: https://github.com/acme/hello.git}
            environment: {compute_type: BUILD_GENERAL1_SMALL}
            batch: {max_builds: 20}
        """

    static func settings(_ yaml: String) throws -> PlanInput.Settings {
        try StackPlanning.settings(StackFile.parse(yaml: yaml, path: "stack.yaml", directory: NSTemporaryDirectory()))
    }

    @Test func theEmitterTakesTheProjectsLimits() throws {
        let s = try Self.settings(Self.project)
        #expect(s.codebuildMaxBuildsPerBatch == 20 && s.codebuildComputeType == "BUILD_GENERAL1_SMALL")
        // Without a CI project, the pipeline's own defaults.
        let alone = try Self.settings("images: {a: {}}\n")
        #expect(alone.codebuildMaxBuildsPerBatch == 100 && alone.codebuildComputeType == "BUILD_GENERAL1_MEDIUM")
    }

    @Test func aCIValueTheProjectRefusesIsNamedAtTheCIKey() throws {
        let more = #expect(throws: StackFileError.self) { try Self.settings(Self.project + "\nci:\n  codebuild_max_builds_per_batch: 50\n") }
        #expect(more?.location?.line == 8 && more?.description.contains("more than the CI project allows (`aws.ci_build.batch.max_builds`: 20)") == true,
                "\(String(describing: more))")
        let type = #expect(throws: StackFileError.self) { try Self.settings(Self.project + "\nci:\n  codebuild_compute_type: BUILD_GENERAL1_LARGE\n") }
        #expect(type?.description.contains("BUILD_GENERAL1_LARGE, which the CI project does not allow (it allows BUILD_GENERAL1_SMALL)") == true, "\(String(describing: type))")
        let allowed = try Self.settings(Self.project.replacingOccurrences(of: "batch: {max_builds: 20}", with: "batch: {max_builds: 20, compute_types: [BUILD_GENERAL1_SMALL, BUILD_GENERAL1_LARGE]}")
                                        + "\nci:\n  codebuild_image_compute_type: BUILD_GENERAL1_LARGE\n")
        #expect(allowed.codebuildImageComputeType == "BUILD_GENERAL1_LARGE")
    }
}

/// Repeated keys, found from libyaml's events and named as the reader names their mapping.
@Suite("stack.yaml: repeated keys in every section")
struct DuplicateKeySectionTests {
    /// (a mapping with an unknown key, the same mapping with a repeated key): both errors name
    /// the mapping alike, so the scan and the reader agree on every context.
    static let pairs: [(unknown: String, repeated: String, context: String)] = [
        ("images: {a: {bse: x}}", "images: {a: {base: scratch, base: scratch}}", "in image 'a'"),
        ("images: {a: {layers: [{sorce: x}]}}", "images: {a: {layers: [{source: x, source: y}]}}", "in layer 1 of image 'a'"),
        ("images: {a: {config: {usr: x}}}", "images: {a: {config: {user: x, user: y}}}", "in config"),
        ("images: {a: {test: {prt: 1}}}", "images: {a: {test: {port: 1, port: 2}}}", "in the test of image 'a'"),
        ("version: 2\nimages: {}\npackages: {p: {bild: {}}}", "version: 2\nimages: {}\npackages: {p: {build: {}, build: {}}}", "in package 'p'"),
        ("version: 2\nimages: {}\npackages: {p: {build: {scrpt: x}}}", "version: 2\nimages: {}\npackages: {p: {build: {script: x, script: y}}}",
         "in the build of package 'p'"),
        ("version: 2\nimages: {}\npackages: {p: {source: {gti: x}}}", "version: 2\nimages: {}\npackages: {p: {source: {git: x, git: y}}}",
         "in the source of package 'p'"),
        ("version: 2\nimages: {}\npackages: {p: {build: {files: [{sorce: x}]}}}", "version: 2\nimages: {}\npackages: {p: {build: {files: [{source: x, source: y}]}}}",
         "in file 1 of package 'p'"),
        ("version: 2\nimages: {}\npackages: {p: {build: {spack: {spec: [x]}}}}", "version: 2\nimages: {}\npackages: {p: {build: {spack: {specs: [x], specs: [y]}}}}",
         "in the spack build of package 'p'"),
        ("version: 2\nimages: {a: {}}\nbases: {buildr: x}", "version: 2\nimages: {a: {}}\nbases: {builder: x, builder: y}", "in bases"),
        ("images: {a: {}}\nci: {registy: x}", "images: {a: {}}\nci: {registry: x, registry: y}", "in ci"),
        ("images: {a: {}}\naws: {project: proj, registry: {github_repo: a/b}}", "images: {a: {}}\naws: {project: proj, registry: {keep_images: 1, keep_images: 2}}",
         "in aws.registry"),
        ("images: {a: {}}\naws: {project: proj, source_credentials: [{server_typ: GITHUB}]}",
         "images: {a: {}}\naws: {project: proj, source_credentials: [{secret: a, secret: b}]}", "in aws.source_credentials[0]"),
        ("imagse: {}", "images: {}\nimages: {}", "at the top level"),
    ]

    @Test(arguments: 0..<pairs.count)
    func unknownAndRepeatedKeysNameTheSameMapping(index: Int) throws {
        let pair = Self.pairs[index]
        try withStackDir { dir in
            let unknown = dir.error(pair.unknown)
            let repeated = dir.error(pair.repeated)
            #expect(unknown?.message.hasPrefix("unknown key") == true && unknown?.message.hasSuffix(" \(pair.context)") == true, "\(String(describing: unknown))")
            #expect(repeated?.message.hasPrefix("duplicate key") == true && repeated?.message.hasSuffix(" \(pair.context)") == true, "\(String(describing: repeated))")
            #expect(repeated?.hint?.hasPrefix("it is already set at stack.yaml:") == true)
        }
    }

    @Test func repeatsInsideAnchorsMergesAndAliases() throws {
        try withStackDir { dir in
            // An anchored mapping outside the sections the reader knows is named by its path.
            check(dir.error("x-defaults: &d {user: a, user: b}\nimages: {a: {config: *d}}\n"), line: 1, column: 26,
                  message: "duplicate key 'user' in x-defaults", hint: "stack.yaml:1:17")
            // A mapping written inside `<<:` belongs to the mapping that merges it.
            check(dir.error("images:\n  a:\n    <<: [{base: scratch, base: scratch}]\n"), line: 3, column: 26,
                  message: "duplicate key 'base' in image 'a'", hint: "stack.yaml:3:11")
            // An alias used as a key is the anchored key's text.
            check(dir.error("images:\n  &k a: {}\n  *k : {}\n"), line: 3, column: 3, message: "duplicate key 'a' in images", hint: "stack.yaml:2:3")
            // The scan runs before the reader: the first layer's missing source is not reached.
            check(dir.error("images: {a: {layers: [{}, {source: x, source: y}]}}\n"), line: 1, column: 39,
                  message: "duplicate key 'source' in layer 2 of image 'a'", hint: "stack.yaml:1:28")
            // Two merge keys in one mapping are a repeat too (Yams would refuse them).
            check(dir.error("x: &x {}\nimages:\n  a:\n    <<: *x\n    <<: *x\n"), line: 5, column: 5, message: "duplicate key '<<' in image 'a'")
        }
    }

    @Test func otherProblemsWinOverARepeat() throws {
        try withStackDir { dir in
            check(dir.error("images: {a: {base: scratch, base: scratch}}\nci: *nowhere\n"), line: 2, column: 5,
                  message: "invalid YAML: found undefined alias", hint: "define the anchor")
            check(dir.error("images: {a: {base: scratch, base: scratch}}\n---\nimages: {}\n"), line: 2, column: 1,
                  message: "invalid YAML: but found another document", hint: "single YAML document")
            check(dir.error("images: {a: {}}\nci: {name: \"\u{7}\"}\n"), line: 2, column: 13, message: "invalid YAML: control characters are not allowed")
        }
    }

    @Test func keysThatAreNotTextFallBackToYams() throws {
        try withStackDir { dir in
            // Lists as keys compare as values: only Yams sees the repeat, and it names the first use.
            check(dir.error("images: {a: {}}\n? [k]\n: 1\n? [k]\n: 2\n"), line: 2, column: 3,
                  message: "duplicate key", hint: "this is its first use")
        }
    }
}
