import Foundation
import Testing
@testable import Pipelines

@Suite("Pipelines plan")
struct PlanTests {
    @Test func anImageOnAnotherImageOfTheStackNeedsItsJob() throws {
        var input = Fixtures.hello
        input.images[0].bases = ["tools"]
        let plan = try Plan.make(from: input)
        let byID = plan.jobsByID
        #expect(byID["image_hello"]?.needs.contains("image_tools") == true)
        #expect(plan.jobs.firstIndex { $0.id == "image_tools" }! < plan.jobs.firstIndex { $0.id == "image_hello" }!)
        #expect(byID["image_hello"]?.key != (try Plan.make(from: Fixtures.hello)).jobsByID["image_hello"]?.key, "the base's key is part of the image's")
        input.images[0].bases = ["nope"]
        #expect(throws: PipelineError.self) { try Plan.make(from: input) }
        input.images[0].bases = ["tools"]
        input.images[1].bases = ["hello"]
        let cycle = #expect(throws: PipelineError.self) { try Plan.make(from: input) }
        #expect(cycle?.description.contains("image base dependencies form a cycle") == true, "\(String(describing: cycle))")
    }

    @Test func prunesCachedPackagesAndKeepsTheRest() throws {
        let plan = try Plan.make(from: Fixtures.hello)
        let ids = plan.jobs.map(\.id)
        #expect(!ids.contains("package_zlib"))
        #expect(!ids.contains("package_busybox"))
        #expect(ids.contains("package_openssl") && ids.contains("package_curl") && ids.contains("package_hello_app"))
        #expect(plan.pruned.map(\.name) == ["busybox", "zlib"])
        #expect(plan.pruned.allSatisfy { $0.reason == .cached })
        let byID = plan.jobsByID
        #expect(byID["package_openssl"]!.needs == [])
        #expect(byID["package_curl"]!.needs == ["package_openssl"])
        #expect(byID["package_openssl"]!.argv == ["stackship", "build", "examples/hello/stack.yaml", "--package", "openssl"])
        #expect(byID["image_hello"]!.argv == ["stackship", "build", "examples/hello/stack.yaml", "--image", "hello"])
        #expect(byID["test_hello"]!.argv == ["stackship", "test", "hello", "--stack", "examples/hello/stack.yaml"])
        #expect(byID["package_openssl"]!.env["STACKSHIP_PACKAGE_HASH"] == "b2")
        // Image needs its packages' remaining jobs only; tools' packages are all cached.
        #expect(byID["image_hello"]!.needs == ["package_curl", "package_hello_app"])
        #expect(byID["image_tools"]!.needs == [])
        #expect(byID["test_hello"]!.needs == ["image_hello"])
        // One push per tag (push takes one destination), each after the tests.
        #expect(byID["publish_hello_latest"]!.needs == ["test_hello"])
        #expect(byID["publish_hello_v1_0"]!.needs == ["test_hello"])
        #expect(byID["publish_hello_v1_0"]!.argv == ["stackship", "push", "hello:v1.0", "123456789012.dkr.ecr.us-east-1.amazonaws.com/hello:v1.0"])
        #expect(byID["test_tools"] == nil && !byID.keys.contains { $0.hasPrefix("publish_tools") })
        // Reindex after the last package builds, cleanup at the very end.
        #expect(byID["cache_reindex"]!.needs == ["package_hello_app"])
        #expect(byID["cache_cleanup"]!.needs == ["cache_reindex", "image_tools", "publish_hello_latest", "publish_hello_v1_0"])
        #expect(byID["cache_reindex"]!.argv == ["stackship", "cache", "reindex"])
        // GC keeps the stack's packages as they are at this commit.
        #expect(byID["cache_cleanup"]!.argv == ["stackship", "cache", "gc", "--stack", "examples/hello/stack.yaml"])
        #expect(plan.jobs.last!.id == "cache_cleanup")
    }

    @Test func stagesAreDependencyDepth() throws {
        let plan = try Plan.make(from: Fixtures.hello)
        let stage = Dictionary(uniqueKeysWithValues: plan.jobs.map { ($0.id, $0.stage) })
        #expect(stage["package_openssl"] == 0)
        #expect(stage["image_tools"] == 0)
        #expect(stage["package_curl"] == 1)
        #expect(stage["package_hello_app"] == 2)
        #expect(stage["image_hello"] == 3)
        #expect(stage["test_hello"] == 4)
        #expect(stage["publish_hello_latest"] == 5)
        #expect(stage["cache_cleanup"] == 6)
        for job in plan.jobs { for need in job.needs { #expect(stage[need]! < job.stage) } }
        #expect(plan.stageCount == 7)
    }

    @Test func prunesUnchangedOnlyWhenAskedAndNeverAboveARebuild() throws {
        let input = Fixtures.hpc
        let all = try Plan.make(from: input)
        #expect(all.pruned.allSatisfy { $0.reason == .cached })
        let plan = try Plan.make(from: input, options: .init(pruneUnchanged: true))
        let pruned = Dictionary(uniqueKeysWithValues: plan.pruned.map { ($0.name, $0.reason) })
        // ipopt is unchanged and its dependency is cached: pruned.
        #expect(pruned["ipopt"] == .unchanged)
        // hdf5 and petsc are unchanged but openmpi (changed) is rebuilt: never pruned.
        #expect(pruned["hdf5"] == nil && pruned["petsc"] == nil)
        let ids = Set(plan.jobs.map(\.id))
        #expect(ids.contains("package_hdf5") && ids.contains("package_petsc") && ids.contains("package_openmpi"))
        // lib03 is cached but depends on ipopt (pruned, not rebuilt): stays pruned as cached.
        #expect(pruned["lib03"] == .cached)
        // lib10 is cached too (10 % 7 == 3) but depends on openmpi, which is rebuilt: rebuilt.
        #expect(ids.contains("package_lib10"))
        // nil (unknown) is never pruned for being unchanged: lib07 (on ipopt, not cached).
        #expect(ids.contains("package_lib07"))
        // lib15 is on ipopt and unchanged: pruned.
        #expect(pruned["lib15"] == .unchanged)
        #expect(plan.jobs.count < all.jobs.count)
    }

    @Test func nothingLeftIsOneNoOpJob() throws {
        var input = Fixtures.hello
        input.images = []
        for i in input.packages.indices { input.packages[i].cached = true }
        let plan = try Plan.make(from: input)
        #expect(plan.jobs.count == 1)
        #expect(plan.jobs[0].id == "nothing_to_do" && plan.jobs[0].kind == .noop)
        #expect(plan.pruned.count == 5)
        #expect(PlanRenderer.text(plan).contains("nothing_to_do"))
    }

    @Test func cycleIsNamedInTheError() throws {
        var input = Fixtures.hello
        input.packages[0].dependencies = ["hello-app"]  // zlib → hello-app → curl → openssl → zlib
        let error = #expect(throws: PipelineError.self) { try Plan.make(from: input) }
        let text = error?.description ?? ""
        #expect(text.contains("cycle"))
        for name in ["zlib", "openssl", "curl", "hello-app"] { #expect(text.contains(name)) }
        if case .dependencyCycle(let cycle, _)? = error {
            #expect(cycle.first == cycle.last)
            #expect(cycle.count == 5)
        } else {
            Issue.record("expected a dependencyCycle, got \(String(describing: error))")
        }
    }

    @Test func selfDependencyIsACycle() throws {
        var input = Fixtures.hello
        input.packages[1].dependencies = ["openssl"]
        let error = #expect(throws: PipelineError.self) { try Plan.make(from: input) }
        #expect(error == .dependencyCycle(cycle: ["openssl", "openssl"], kind: "package"))
    }

    @Test func userMistakesAreClearErrors() throws {
        var unknown = Fixtures.hello
        unknown.packages[2].dependencies.append("libssh")
        let e1 = #expect(throws: PipelineError.self) { try Plan.make(from: unknown) }
        #expect(e1 == .unknownPackage(name: "libssh", referencedBy: "package 'curl'"))
        #expect(e1?.description.contains("Add the package or fix the name") == true)

        var unknownInImage = Fixtures.hello
        unknownInImage.images[0].packages.append("nginx")
        let e2 = #expect(throws: PipelineError.self) { try Plan.make(from: unknownInImage) }
        #expect(e2 == .unknownPackage(name: "nginx", referencedBy: "image 'hello'"))

        var duplicate = Fixtures.hello
        duplicate.packages.append(.init(name: "zlib", hash: "ff"))
        let e3 = #expect(throws: PipelineError.self) { try Plan.make(from: duplicate) }
        #expect(e3 == .duplicateName(name: "zlib", kind: "package"))

        var duplicateImage = Fixtures.hello
        duplicateImage.images.append(.init(name: "tools", packages: []))
        let e4 = #expect(throws: PipelineError.self) { try Plan.make(from: duplicateImage) }
        #expect(e4 == .duplicateName(name: "tools", kind: "image"))

        var empty = Fixtures.hello
        empty.packages.append(.init(name: "", hash: "ff"))
        #expect(throws: PipelineError.self) { try Plan.make(from: empty) }
    }

    @Test func handMadePlansAreChecked() throws {
        let a = Job(id: "a", kind: .noop, argv: ["true"])
        #expect(throws: PipelineError.unknownJob(id: "zz", neededBy: "b")) {
            try Plan(stackName: "t", jobs: [a, Job(id: "b", kind: .noop, argv: ["true"], needs: ["zz"])])
        }
        #expect(throws: PipelineError.duplicateName(name: "a", kind: "job")) { try Plan(stackName: "t", jobs: [a, a]) }
        #expect(throws: PipelineError.emptyCommand(job: "c")) { try Plan(stackName: "t", jobs: [Job(id: "c", kind: .noop, argv: [])]) }
        #expect(throws: PipelineError.self) { try Plan(stackName: "t", jobs: [Job(id: "bad-id", kind: .noop, argv: ["true"])]) }
        #expect(throws: PipelineError.self) { try Plan(stackName: "t", jobs: [Job(id: "9lives", kind: .noop, argv: ["true"])]) }
        let cyc = #expect(throws: PipelineError.self) {
            try Plan(stackName: "t", jobs: [Job(id: "x", kind: .noop, argv: ["true"], needs: ["y"]),
                                            Job(id: "y", kind: .noop, argv: ["true"], needs: ["x"])])
        }
        #expect(cyc == .dependencyCycle(cycle: ["x", "y", "x"], kind: "job"))
    }

    @Test func idsAreValidEverywhereAndUniqueAfterCleaning() throws {
        let long = String(repeating: "verylongname", count: 12)
        let input = PlanInput(stackName: "ids", stackFile: "s.yaml", packages: [
            .init(name: "py-numpy", hash: "1"), .init(name: "py_numpy", hash: "2"), .init(name: "py.numpy", hash: "3"),
            .init(name: long, hash: "4"), .init(name: "C++", hash: "5"),
        ], images: [])
        let plan = try Plan.make(from: input)
        let ids = plan.jobs.filter { $0.kind == .package }.map(\.id)
        #expect(Set(ids).count == 5)
        for id in ids {
            #expect(id.count <= JobID.maxLength)
            #expect(id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        }
        #expect(ids.contains("package_C__"))
        // The three numpy spellings collide once cleaned, so each gets its own hash suffix.
        #expect(ids.filter { $0.hasPrefix("package_py_numpy_") }.count == 3)
        // Stable: the same name gets the same id whatever else is in the stack.
        let again = try Plan.make(from: PlanInput(stackName: "ids", stackFile: "s.yaml", packages: [
            .init(name: "py-numpy", hash: "1"), .init(name: "py_numpy", hash: "2")], images: []))
        let numpyID = plan.jobs.first { $0.subject == "py-numpy" }!.id
        #expect(again.jobs.first { $0.subject == "py-numpy" }!.id == numpyID)
    }

    @Test func changingOneHashChangesOnlyItsJobsDependentsAndImages() throws {
        var input = Fixtures.hello
        for i in input.packages.indices { input.packages[i].cached = false }
        let before = try Plan.make(from: input)
        input.packages[1].hash = "b2-changed"  // openssl: curl and hello-app depend on it; only image hello holds them
        let after = try Plan.make(from: input)
        #expect(before.jobs.map(\.id) == after.jobs.map(\.id))
        let old = before.jobsByID
        let changed = Set(after.jobs.filter { old[$0.id]!.key != $0.key || old[$0.id]! != $0 }.map(\.id))
        #expect(changed == ["package_openssl", "package_curl", "package_hello_app", "image_hello", "test_hello", "publish_hello_latest", "publish_hello_v1_0"])
        // A leaf that only the tools image holds: touches that image alone.
        input.packages[4].hash = "e5-changed"
        let third = try Plan.make(from: input)
        let prev = after.jobsByID
        #expect(Set(third.jobs.filter { prev[$0.id]! != $0 }.map(\.id)) == ["package_busybox", "image_tools", "image_hello", "test_hello", "publish_hello_latest", "publish_hello_v1_0"])
    }

    @Test func planIsDeterministic() throws {
        var shuffled = Fixtures.hpc
        shuffled.packages.reverse()
        shuffled.images.reverse()
        let a = try Plan.make(from: Fixtures.hpc)
        let b = try Plan.make(from: shuffled)
        #expect(a.jobs == b.jobs)
        #expect(PlanRenderer.text(a) == PlanRenderer.text(b))
    }

    @Test func graphRenderings() throws {
        let plan = try Plan.make(from: Fixtures.hello)
        let dot = PlanRenderer.dot(plan)
        #expect(dot.hasPrefix("digraph \"hello\" {"))
        #expect(dot.contains("\"package_openssl\" -> \"package_curl\";"))
        #expect(dot.contains("\"test_hello\" -> \"publish_hello_latest\";"))
        let edgeCount = plan.jobs.reduce(0) { $0 + $1.needs.count }
        #expect(dot.components(separatedBy: " -> ").count - 1 == edgeCount)
        let mermaid = PlanRenderer.mermaid(plan)
        #expect(mermaid.hasPrefix("flowchart LR\n"))
        #expect(mermaid.contains("  package_curl --> package_hello_app\n"))
        #expect(mermaid.components(separatedBy: " --> ").count - 1 == edgeCount)
        let html = PlanRenderer.html(plan)
        #expect(html.contains("<svg"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("src=") && !html.contains("href=") && !html.contains("@import"))
        for job in plan.jobs { #expect(html.contains("id=\"job-\(job.id)\"")) }
        #expect(html.components(separatedBy: "<path ").count - 1 == edgeCount)
        let text = PlanRenderer.text(plan)
        #expect(text.contains("stage 0\n"))
        #expect(text.contains("package_curl  [package]  stackship build examples/hello/stack.yaml --package curl"))
        #expect(text.contains("zlib  cached  a1"))
    }

    @Test func renderingsEscapeHostileNames() throws {
        let input = PlanInput(stackName: "<b>\"x\"</b>", stackFile: "s'y.yaml",
                              packages: [.init(name: "a\"<script>", hash: "1")], images: [])
        let plan = try Plan.make(from: input)
        let html = PlanRenderer.html(plan)
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;b&gt;"))
        #expect(PlanRenderer.dot(plan).contains("a\\\"<script>"))
        #expect(!PlanRenderer.mermaid(plan).contains("a\"<"))
        #expect(PlanRenderer.text(plan).contains("'s'\\''y.yaml'"))
    }
}
